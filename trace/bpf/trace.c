// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
//
// sockleak trace: the moment each TCP socket gets a descriptor (socket(),
// accept()), with the user stack that asked for it, and the time of each of
// its state changes after that. User space reads the table when the trace
// ends and joins it to the sockets still held in a leak state.
#include "sockleak_vmlinux.h"
#include "bpf_helpers.h"
#include "bpf_tracing.h"
#include "bpf_core_read.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

// The fields read beyond the shared header, as CO-RE flavours (the name
// after ___ is ignored when relocating): struct sock's protocol and type,
// struct socket, the path from a task to its open files, and the user
// registers.
struct sock___trace {
	u16 sk_type;
	u16 sk_protocol;
} __attribute__((preserve_access_index));

struct socket___trace {
	short type;
	struct sock *sk;
} __attribute__((preserve_access_index));

struct file___trace {
	void *private_data;
	struct inode *f_inode;
} __attribute__((preserve_access_index));

struct fdtable___trace {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct___trace {
	struct fdtable___trace *fdt;
} __attribute__((preserve_access_index));

struct task_struct___trace {
	struct files_struct___trace *files;
} __attribute__((preserve_access_index));

struct pt_regs___trace {
	unsigned long ip;
	unsigned long sp;
	unsigned long bp;
	unsigned long orig_ax;
} __attribute__((preserve_access_index));

// bpf_rdonly_cast (kfunc, Linux 6.2) makes a pointer read from kernel
// memory one the verifier knows the type of, so that its fields are read
// by direct loads instead of a helper call each.
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

#define IPPROTO_TCP 6
#define SOCK_STREAM 1
#define TCP_CLOSE 7

// STACK_DEPTH frames per user stack: Go's net.Dial is about 25 deep.
#define STACK_DEPTH 64

// opened is what the trace knows of one socket, by its struct sock address.
struct opened {
	u64 open_ns;  // when it got its descriptor (CLOCK_MONOTONIC)
	u64 state_ns; // when it entered state (open_ns until a change is seen)
	u64 caller;   // the word at the user stack pointer: see symbolize.Stack
	u64 inode;    // socket:[inode]
	u64 stack;    // key in stacks; 0: none, stack_err says why
	s32 stack_err; // a negative errno: bpf_get_stack's or the stacks update's
	u32 tgid;     // the process that opened it
	u8 state;     // TCP state, include/net/tcp_states.h
	u8 changed;   // a state change was seen: state_ns is exact
	u8 pad[2];
};

// stack is one user stack, the instruction pointer first, zero-filled.
struct stack {
	u64 ips[STACK_DEPTH];
};

// A plain hash, not an LRU one: what an LRU evicts first is what has not
// been touched for longest, and a leaked socket is exactly that. Entries
// go when their socket closes; when the table is full, new sockets are not
// recorded and counted as dropped. MaxEntries is set at load.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, u64);
	__type(value, struct opened);
} socks SEC(".maps");

// The distinct stacks that opened sockets, by a 64-bit hash of their
// addresses. Not a STACK_TRACE map: that one hashes into as many buckets
// as it has entries and refuses a stack whose bucket is taken (or, with
// BPF_F_REUSE_STACKID, overwrites it under the sockets that point to it),
// so that a few hundred distinct stacks already collide. Stacks stay until
// the trace ends; a full table is counted.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, u64);
	__type(value, struct stack);
} stacks SEC(".maps");

// scratch holds a stack while it is hashed: 512 bytes, too many for the
// BPF stack.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct stack);
} scratch SEC(".maps");

// The counters, per CPU; user space sums them.
enum {
	COUNT_OPENED,     // TCP sockets given a descriptor
	COUNT_CHANGES,    // state changes of recorded sockets
	COUNT_CLOSED,     // recorded sockets that closed (entry removed)
	COUNT_DROP_FULL,  // not recorded: the table was full
	COUNT_DROP_STACK, // recorded without a stack (stack table full, or none)
	COUNT_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNT_MAX);
	__type(key, u32);
	__type(value, u64);
} counters SEC(".maps");

// target_tgid, when not 0, records that process's sockets alone.
const volatile u32 target_tgid = 0;

static __always_inline void count(u32 which)
{
	u64 *c = bpf_map_lookup_elem(&counters, &which);
	if (c)
		*c += 1;
}

// frame is what a frame pointer points to: the caller's frame pointer,
// then the return address into the caller.
struct frame {
	u64 next;
	u64 ret;
};

// save_stack walks the user stack by its frame pointers, stores it in
// stacks and returns its key, or 0 with *err set. The walk is the one
// perf_callchain_user does (the instruction pointer, then each frame's
// return address), done here because bpf_get_stack(BPF_F_USER_STACK)
// costs some 6 µs per call on this kernel whatever the depth
// (docs/performance.md), ten times this loop over a Go stack.
static __always_inline u64 save_stack(struct pt_regs___trace *regs, s32 *err)
{
	u32 zero = 0;
	struct stack *st = bpf_map_lookup_elem(&scratch, &zero);
	if (!st) {
		*err = -2; // ENOENT: cannot happen
		return 0;
	}
	u64 h = 14695981039346656037ULL; // FNV-1a over the addresses
	u64 fp = regs->bp;
	st->ips[0] = regs->ip;
	h = (h ^ st->ips[0]) * 1099511628211ULL;
	int i = 1;
	for (; i < STACK_DEPTH; i++) {
		struct frame fr;
		if (!fp || bpf_probe_read_user(&fr, sizeof(fr), (void *)fp) || !fr.ret)
			break;
		st->ips[i] = fr.ret;
		h = (h ^ fr.ret) * 1099511628211ULL;
		if (fr.next <= fp) { // a stack grows down: callers' frames are above
			i++;
			break;
		}
		fp = fr.next;
	}
	for (int j = 1; j < STACK_DEPTH; j++) // ips[i:] still hold the last stack
		if (j >= i)
			st->ips[j] = 0;
	h |= 1; // never 0, which means none
	long e = bpf_map_update_elem(&stacks, &h, st, BPF_NOEXIST);
	if (e && e != -17) { // EEXIST: the same stack, stored before
		*err = e;
		return 0;
	}
	return h;
}

// The syscalls that give a TCP socket a descriptor, set at load from
// the running architecture's numbers (-1: none).
const volatile long nr_socket = -1;
const volatile long nr_accept = -1;
const volatile long nr_accept4 = -1;

// At the exit of socket(2), accept(2) and accept4(2), in the task that
// asked: the descriptor it returns, its socket and the user stack. Every
// syscall exit passes here (a raw tracepoint; this kernel refuses
// fentry/fexit), so what is not one of those three leaves at once.
SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs___trace *regs, long ret)
{
	if (ret < 0)
		return 0;
	// A direct load (regs is the kernel's own pointer): this is the path
	// of every other syscall on the host, and a probe read would double it.
	long nr = regs->orig_ax;
	if (nr != nr_socket && nr != nr_accept4 && nr != nr_accept)
		return 0;
	u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (target_tgid && tgid != target_tgid)
		return 0;
	// The task is the kernel's own pointer, and what is reached from it
	// by direct loads is typed: no helper call until the descriptor
	// table's array, whose elements are read with one.
	struct task_struct___trace *task = (void *)bpf_get_current_task_btf();
	struct fdtable___trace *fdt = task->files->fdt;
	if ((unsigned long)ret >= fdt->max_fds)
		return 0;
	struct file **fds = fdt->fd;
	void *fp = 0;
	if (bpf_probe_read_kernel(&fp, sizeof(fp), &fds[ret]) || !fp)
		return 0;
	struct file___trace *f = bpf_rdonly_cast(fp, bpf_core_type_id_kernel(struct file___trace));
	if ((f->f_inode->i_mode & S_IFMT) != S_IFSOCK)
		return 0;
	struct socket___trace *sock = bpf_rdonly_cast(f->private_data, bpf_core_type_id_kernel(struct socket___trace));
	if (sock->type != SOCK_STREAM)
		return 0;
	struct sock *sk = sock->sk;
	if (!sk || ((struct sock___trace *)sk)->sk_protocol != IPPROTO_TCP)
		return 0;
	unsigned short family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	count(COUNT_OPENED);

	struct opened o = {};
	o.open_ns = bpf_ktime_get_ns();
	o.state_ns = o.open_ns;
	o.tgid = tgid;
	o.state = sk->__sk_common.skc_state;
	o.inode = f->f_inode->i_ino;
	o.stack = save_stack(regs, &o.stack_err);
	if (!o.stack)
		count(COUNT_DROP_STACK);
	u64 sp = regs->sp;
	if (bpf_probe_read_user(&o.caller, sizeof(o.caller), (void *)sp))
		o.caller = 0;
	u64 key = (u64)sk;
	if (bpf_map_update_elem(&socks, &key, &o, BPF_ANY))
		count(COUNT_DROP_FULL);
	return 0;
}

// Every TCP state change, in whatever context it happens (a FIN arrives
// in softirq): only recorded sockets are touched.
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(on_set_state, const struct sock *sk, int oldstate, int newstate)
{
	u64 key = (u64)sk;
	struct opened *o = bpf_map_lookup_elem(&socks, &key);
	if (!o)
		return 0;
	count(COUNT_CHANGES);
	if (newstate == TCP_CLOSE) {
		if (!bpf_map_delete_elem(&socks, &key))
			count(COUNT_CLOSED);
		return 0;
	}
	o->state_ns = bpf_ktime_get_ns();
	o->state = newstate;
	o->changed = 1;
	return 0;
}

// A socket closed without a last state change (one that never connected)
// still leaves the table when the kernel destroys it (tcp_v4_destroy_sock,
// which IPv6 calls too).
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(on_destroy, struct sock *sk)
{
	u64 key = (u64)sk;
	if (!bpf_map_delete_elem(&socks, &key))
		count(COUNT_CLOSED);
	return 0;
}
