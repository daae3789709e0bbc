package trace

//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang-16 -tags linux -target bpfel -cflags "-O2 -g -Wall -Werror -D__TARGET_ARCH_x86 -I../internal/bpfkit/include -I/usr/include/bpf" -type opened tracer bpf/trace.c
