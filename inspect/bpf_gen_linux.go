package inspect

// The bpf backend's programs (bpf/*.c), compiled by bpf2go into the
// committed *_bpfel.go and *_bpfel.o (internal/bpfkit's doc has the
// conventions; the README's development section what go generate needs).
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang-16 -strip llvm-strip-16 -tags linux -target bpfel,bpfeb -cflags "-O2 -g -Wall -Werror -I../internal/bpfkit/include -I/usr/include/bpf" -no-global-types taskFile bpf/task_file.c
