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

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
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
struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	__u32 fd;
	struct file *file;
} __attribute__((preserve_access_index));

#endif /* __SOCKLEAK_VMLINUX_H__ */
