// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
//
// sockleak_vmlinux.h: the few kernel types sockleak's BPF programs read,
// written by hand instead of a bpftool-generated vmlinux.h (about 3 MB and
// 100k lines): a program compiled against this header carries BTF for these
// types alone, which keeps its CO-RE relocation and load cheap.
//
// Every struct is marked preserve_access_index: its fields are not at these
// offsets, they are looked up by name in the running kernel's BTF when the
// program is loaded (CO-RE), so list only the fields a program reads, in any
// order. Add a field here when a program needs it, never a whole struct.
#ifndef __SOCKLEAK_VMLINUX_H__
#define __SOCKLEAK_VMLINUX_H__

typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef unsigned short umode_t;
typedef _Bool bool;
enum { false = 0, true = 1 };

// From include/uapi/linux/bpf.h (UAPI: these values never change).
enum bpf_map_type {
	BPF_MAP_TYPE_UNSPEC,
	BPF_MAP_TYPE_HASH,
	BPF_MAP_TYPE_ARRAY,
	BPF_MAP_TYPE_PROG_ARRAY,
	BPF_MAP_TYPE_PERF_EVENT_ARRAY,
	BPF_MAP_TYPE_PERCPU_HASH,
	BPF_MAP_TYPE_PERCPU_ARRAY,
	BPF_MAP_TYPE_STACK_TRACE,
	BPF_MAP_TYPE_CGROUP_ARRAY,
	BPF_MAP_TYPE_LRU_HASH,
	BPF_MAP_TYPE_LRU_PERCPU_HASH,
	BPF_MAP_TYPE_RINGBUF = 27,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};

enum {
	BPF_F_USER_STACK = 1ULL << 8,
};

// From include/uapi/linux/stat.h.
#define S_IFMT 00170000
#define S_IFSOCK 0140000

// From include/linux/socket.h.
#define AF_INET 2
#define AF_INET6 10

struct task_struct {
	int pid;  // the thread's id
	int tgid; // the process's id: what /proc lists
} __attribute__((preserve_access_index));

struct inode {
	umode_t i_mode;
	unsigned long i_ino; // a socket's is the N of socket:[N]
} __attribute__((preserve_access_index));

struct file {
	struct inode *f_inode;
} __attribute__((preserve_access_index));

struct in6_addr {
	union {
		__u8 u6_addr8[16];
		__be32 u6_addr32[4];
	} in6_u;
} __attribute__((preserve_access_index));

struct ns_common {
	unsigned int inum; // the N of net:[N]
} __attribute__((preserve_access_index));

struct net {
	struct ns_common ns;
} __attribute__((preserve_access_index));

typedef struct {
	struct net *net;
} __attribute__((preserve_access_index)) possible_net_t;

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct hlist_node {
	struct hlist_node *next, **pprev;
} __attribute__((preserve_access_index));

struct timer_list {
	struct hlist_node entry; // pprev is NULL when the timer is not pending
	unsigned long expires;   // jiffies
} __attribute__((preserve_access_index));

struct socket;

struct sock {
	struct sock_common __sk_common;
	struct timer_list sk_timer;
	__u32 sk_ack_backlog;
	__u32 sk_max_ack_backlog;
	unsigned long sk_ino; // since Linux 6.18 (before it, the socket's inode)
	__u16 sk_protocol;
	__u16 sk_type;
	struct socket *sk_socket;
} __attribute__((preserve_access_index));

struct socket {
	struct file *file;
	struct sock *sk;
} __attribute__((preserve_access_index));

// include/linux/net.h: a socket and its inode, allocated together.
struct socket_alloc {
	struct socket socket;
	struct inode vfs_inode;
} __attribute__((preserve_access_index));

// TCP sockets: struct tcp_sock begins with inet_connection_sock, which
// begins with inet_sock, which begins with sock (include/linux/tcp.h,
// net/inet_connection_sock.h).
struct inet_sock {
	struct sock sk;
} __attribute__((preserve_access_index));

struct inet_connection_sock {
	struct inet_sock icsk_inet;
	struct timer_list icsk_retransmit_timer;
	unsigned long icsk_timeout; // before Linux 6.14: the retransmit timer's expiry
	__u8 icsk_retransmits;
	__u8 icsk_pending; // ICSK_TIME_*: which timer icsk_retransmit_timer is
	__u8 icsk_probes_out;
	struct {
		__u32 lrcvtime; // jiffies of the last data received
	} icsk_ack;
} __attribute__((preserve_access_index));

struct tcp_sock {
	struct inet_connection_sock inet_conn;
	__u32 rcv_nxt;
	__u32 copied_seq;
	__u32 write_seq;
	__u32 snd_una;
	__u32 rcv_tstamp; // jiffies of the last ACK received
	__u32 lsndtime;   // jiffies of the last data sent
} __attribute__((preserve_access_index));

// TIME_WAIT (and orphaned FIN_WAIT2) sockets: include/net/inet_timewait_sock.h.
struct inet_timewait_sock {
	struct sock_common __tw_common;
	unsigned char tw_substate; // the state sock_diag reports
	struct timer_list tw_timer;
} __attribute__((preserve_access_index));

struct tcp_timewait_sock {
	struct inet_timewait_sock tw_sk;
} __attribute__((preserve_access_index));

// Half-open connections (NEW_SYN_RECV): include/net/request_sock.h.
struct request_sock {
	struct sock_common __req_common;
	__u8 num_retrans;
	struct timer_list rsk_timer;
} __attribute__((preserve_access_index));

struct inet_request_sock {
	struct request_sock req;
} __attribute__((preserve_access_index));

struct tcp_request_sock {
	struct inet_request_sock req;
} __attribute__((preserve_access_index));

struct seq_file;

// BPF iterators (kernel/bpf/bpf_iter.c and each iterator's target): the
// context a SEC("iter/...") program gets.
struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
} __attribute__((preserve_access_index));

// kernel/bpf/task_iter.c: one call per open file of every process (threads
// sharing their leader's table are skipped), then one with file == NULL.
// net/ipv4/tcp_ipv4.c: one call per TCP socket of the reader's network
// namespace (listeners, then established, TIME_WAIT and request sockets),
// then one with sk_common == NULL. uid is the owner's, 0 for TIME_WAIT.
struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
	__u32 uid;
} __attribute__((preserve_access_index));

struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	__u32 fd;
	struct file *file;
} __attribute__((preserve_access_index));

#endif /* __SOCKLEAK_VMLINUX_H__ */
