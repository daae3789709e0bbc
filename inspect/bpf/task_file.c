// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
//
// task_file.c: sockleak's owner iterator. One pass over every open file of
// every process (kernel/bpf/task_iter.c, iter/task_file) writes a record per
// descriptor to the iterator's output: the process, the descriptor and, for
// a socket, its inode (the N of socket:[N]); 0 for any other file. Userspace
// (inspect/owners_bpf_linux.go) counts a process's descriptors and joins its
// sockets from these records, as the walk of PID/fd does with a readlink per
// descriptor.
#include "sockleak_vmlinux.h"
#include "bpf_helpers.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

// fd_record is one descriptor; decodeFDRecords reads it (16 bytes, native
// byte order).
struct fd_record {
	__u32 tgid;
	__u32 fd;
	__u64 ino; // socket inode, 0 for other files
};

SEC("iter/task_file")
int sockleak_task_file(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	if (!task || !file)
		return 0; // the end of the iteration
	// /proc/PID/fd is the leader's table: a thread that unshared its
	// own (CLONE_FILES off) is not part of it.
	if (task->pid != task->tgid)
		return 0;
	struct fd_record r = {.tgid = task->tgid, .fd = ctx->fd};
	struct inode *inode = file->f_inode;
	if (inode && (inode->i_mode & S_IFMT) == S_IFSOCK)
		r.ino = inode->i_ino;
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
