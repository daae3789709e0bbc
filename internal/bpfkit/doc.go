// Package bpfkit is what every sockleak BPF program shares: Check and
// Permitted, which say precisely what a host lacks to load one (root, or
// CAP_BPF and CAP_PERFMON and what else a program needs; kernel BTF; a bpf
// syscall that is allowed), Prepare, which lifts the locked-memory limit on
// the kernels that still charge BPF memory to it, and the C headers in
// include/.
//
// # Writing a program
//
// The C source lives beside the Go package that loads it (inspect/bpf/,
// say), carries the dual licence
//
//	// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
//
// and declares it to the kernel, which refuses GPL-only helpers to other
// licences:
//
//	char LICENSE[] SEC("license") = "Dual BSD/GPL";
//
// It includes include/sockleak_vmlinux.h, a minimal hand-written CO-RE
// header (only the kernel types and fields sockleak's programs read, each
// struct marked __attribute__((preserve_access_index)), so that the
// loader relocates every field access against the running kernel's BTF),
// and then libbpf's own headers, taken from libbpf-dev's /usr/include/bpf
// through -I, not copied into the tree:
//
//	#include "sockleak_vmlinux.h"
//	#include "bpf_helpers.h"
//	#include "bpf_core_read.h"
//
// A program that needs a type or a field adds it to sockleak_vmlinux.h,
// alone: a whole struct, or a generated vmlinux.h, makes every load parse
// and relocate more BTF.
//
// # Generating the Go side
//
// bpf2go (github.com/cilium/ebpf/cmd/bpf2go, run through go run so that no
// global install is needed) compiles the program and writes the Go loader
// and the object. Its go:generate line, in a *_linux.go file of the
// package that loads the program, has this form (one line):
//
//	//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang-16 -tags linux -target bpfel,bpfeb -cflags "-O2 -g -Wall -Werror -I../internal/bpfkit/include -I/usr/include/bpf" -no-global-types taskFile bpf/task_file.c
//
// -target bpfel,bpfeb builds two objects, one little-endian (amd64, arm64
// and the other little-endian architectures load it) and one big-endian
// (s390x, ppc64, mips), so that every Linux architecture builds; -tags
// linux keeps the generated files to Linux builds. The generated *_bpfel.go and *_bpfel.o are
// committed, so go build, go test and CI need no C toolchain; go generate
// needs clang-16, llvm-strip-16 and libbpf-dev (the headers).
//
// # Checking before loading
//
// A command calls Check (with TraceCaps for programs that read other
// processes' stacks) before it loads anything, and reports its error as
// it is: the error names every missing capability and what else is
// lacking, so that a user can fix it in one go. Prepare runs once before
// the first load.
package bpfkit
