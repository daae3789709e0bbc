package trace

import "github.com/sockleak/sockleak/internal/bpfkit"

// preflight says everything this host lacks to run a trace: root or
// CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE (other processes' maps and
// binaries, for their stacks), kernel BTF, an allowed bpf syscall.
func preflight() error {
	if err := bpfkit.Check(bpfkit.TraceCaps...); err != nil {
		return err
	}
	return bpfkit.Prepare()
}
