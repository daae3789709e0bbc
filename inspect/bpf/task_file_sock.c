// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
//
// task_file_sock.c: a probe (issue 14's "owners and socket fields in one
// pass"): task_file.c's pass that also reads each TCP socket's fields as
// tcp_iter.c does. Every descriptor writes its fd_record; a TCP socket's
// carries fd | 1<<31 and is followed by its tcp_record.
#include "sockleak_vmlinux.h"
#include "bpf_helpers.h"
#include "bpf_core_read.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#include "tcp_fill.h"

// A socket walked to from a file is an untrusted pointer, which the
// bpf_skc_to_* helpers refuse: cast it (the kernel's bpf_rdonly_cast) once
// its protocol says it is a tcp_sock.
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

struct fd_record {
	__u32 tgid;
	__u32 fd;
	__u64 ino;
};

struct both {
	struct fd_record f;
	struct tcp_record t;
};

SEC("iter/task_file")
int sockleak_task_file_sock(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	if (!task || !file)
		return 0;
	if (task->pid != task->tgid)
		return 0;
	struct both b = {.f = {.tgid = task->tgid, .fd = ctx->fd}};
	struct inode *inode = file->f_inode;
	if (!inode || (inode->i_mode & S_IFMT) != S_IFSOCK) {
		bpf_seq_write(ctx->meta->seq, &b.f, sizeof(b.f));
		return 0;
	}
	b.f.ino = inode->i_ino;
	struct socket *so = bpf_sock_from_file(file);
	struct sock *sk = so ? so->sk : 0;
	struct tcp_sock *tp = 0;
	if (sk && sk->sk_protocol == 6 && sk->sk_type == 1 &&
	    (sk->__sk_common.skc_family == AF_INET || sk->__sk_common.skc_family == AF_INET6))
		tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct tcp_sock));
	if (!tp) {
		bpf_seq_write(ctx->meta->seq, &b.f, sizeof(b.f));
		return 0;
	}
	struct sock_common *skc = &sk->__sk_common;
	b.f.fd |= 1u << 31;
	b.t.family = skc->skc_family;
	b.t.state = skc->skc_state;
	b.t.sport = skc->skc_num;
	b.t.dport = __builtin_bswap16(skc->skc_dport);
	b.t.netns = skc->skc_net.net->ns.inum;
	fill_full(&b.t, tp, bpf_jiffies64());
	put_addrs(&b.t, skc);
	bpf_seq_write(ctx->meta->seq, &b, sizeof(b));
	return 0;
}
