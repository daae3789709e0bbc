package bpfkit

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// Cap is a Linux capability a BPF program may need.
type Cap uint

// The capabilities sockleak's programs need (include/uapi/linux/capability.h).
const (
	CapSysPtrace Cap = unix.CAP_SYS_PTRACE
	CapSysAdmin  Cap = unix.CAP_SYS_ADMIN
	CapPerfmon   Cap = unix.CAP_PERFMON
	CapBPF       Cap = unix.CAP_BPF
)

var capNames = map[Cap]string{
	CapSysPtrace: "CAP_SYS_PTRACE",
	CapSysAdmin:  "CAP_SYS_ADMIN",
	CapPerfmon:   "CAP_PERFMON",
	CapBPF:       "CAP_BPF",
}

// String is the capability's name, as capabilities(7) spells it.
func (c Cap) String() string {
	if n, ok := capNames[c]; ok {
		return n
	}
	return fmt.Sprintf("capability %d", uint(c))
}

var (
	// SnapshotCaps is what an iterator program (inspect's bpf backend)
	// needs: loading a tracing program and reading kernel memory through it.
	SnapshotCaps = []Cap{CapBPF, CapPerfmon}
	// TraceCaps adds CAP_SYS_PTRACE, to read other processes' maps and
	// binaries for their user stacks (sockleak trace).
	TraceCaps = []Cap{CapBPF, CapPerfmon, CapSysPtrace}
)

// BTFPath is where the kernel exposes its own BTF (CONFIG_DEBUG_INFO_BTF).
const BTFPath = "/sys/kernel/btf/vmlinux"

// MissingError says everything a host lacks to load sockleak's BPF programs.
type MissingError struct {
	Caps    []Cap    // capabilities missing from the effective set
	Reasons []string // the rest: no kernel BTF, a denied bpf syscall
}

func (e *MissingError) Error() string {
	var parts []string
	if len(e.Caps) > 0 {
		names := make([]string, len(e.Caps))
		for i, c := range e.Caps {
			names[i] = c.String()
		}
		parts = append(parts, fmt.Sprintf("missing %s (run as root, or grant them: setcap %s+ep)",
			strings.Join(names, ", "), strings.ToLower(strings.Join(names, ","))))
	}
	parts = append(parts, e.Reasons...)
	return "BPF unavailable: " + strings.Join(parts, "; ")
}

// Permitted reports, as a *MissingError, which of caps this process lacks
// in its effective set; nil when it holds them all. Root holds them all
// unless a container or a capability bounding set took them away, which is
// why it asks the kernel rather than the uid. CAP_SYS_ADMIN stands in for
// CAP_BPF and CAP_PERFMON, as in the kernel (bpf_capable, perfmon_capable).
func Permitted(caps ...Cap) error {
	held, err := effective()
	if err != nil {
		return &MissingError{Reasons: []string{fmt.Sprintf("capabilities unreadable: %v", err)}}
	}
	var missing []Cap
	for _, c := range caps {
		if !held(c) && !((c == CapBPF || c == CapPerfmon) && held(CapSysAdmin)) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return &MissingError{Caps: missing}
	}
	return nil
}

// effective reads this thread's effective capability set.
func effective() (func(Cap) bool, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return nil, err
	}
	return func(c Cap) bool {
		return c < 64 && data[c/32].Effective&(1<<(c%32)) != 0
	}, nil
}

// Check reports everything this host lacks to load sockleak's BPF
// programs, as one *MissingError: the capabilities caps (Permitted), the
// kernel's BTF (which CO-RE relocation and iterators need), and a bpf
// syscall that is allowed (seccomp, lockdown and container profiles can
// deny it even to root). nil means a program may be loaded. The BTF and
// syscall probes run once per process; a map created and closed is their
// whole cost.
func Check(caps ...Cap) error {
	me := &MissingError{}
	if err := Permitted(caps...); err != nil {
		me = err.(*MissingError)
	}
	if len(me.Caps) == 0 { // without them the syscall probe would only repeat it
		if err := probeOnce(); err != nil {
			me.Reasons = append(me.Reasons, err.Error())
		}
	} else if err := btfPresent(); err != nil {
		me.Reasons = append(me.Reasons, err.Error())
	}
	if len(me.Caps)+len(me.Reasons) == 0 {
		return nil
	}
	return me
}

var probeOnce = sync.OnceValue(func() error {
	if err := btfPresent(); err != nil {
		return err
	}
	return syscallAllowed()
})

// btfPresent says why the kernel's BTF cannot be read, or nil.
func btfPresent() error {
	if _, err := os.Stat(BTFPath); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no kernel BTF (%s is missing: a kernel built without CONFIG_DEBUG_INFO_BTF)", BTFPath)
		}
		return fmt.Errorf("kernel BTF unreadable: %v", err)
	}
	return nil
}

// syscallAllowed creates the smallest map there is and closes it.
func syscallAllowed() error {
	if err := Prepare(); err != nil {
		return err
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Array, KeySize: 4, ValueSize: 4, MaxEntries: 1})
	switch {
	case err == nil:
		return m.Close()
	case errors.Is(err, unix.ENOSYS):
		return errors.New("the kernel has no bpf syscall (CONFIG_BPF_SYSCALL off)")
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("the bpf syscall is denied (by seccomp, kernel lockdown or a container's profile): %v", err)
	default:
		return fmt.Errorf("the bpf syscall failed: %v", err)
	}
}
