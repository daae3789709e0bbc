package bpfkit

import (
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// Prepare readies this process to load BPF programs: on kernels before
// 5.11, which charge BPF maps and programs to RLIMIT_MEMLOCK rather than to
// the memory cgroup, it lifts that limit (root and CAP_SYS_RESOURCE may).
// It does the work once and returns the same answer after.
//
// It is cilium/ebpf's rlimit.RemoveMemlock in effect, without that
// package's init, which creates a map at the start of every process that
// links it: every sockleak command would pay a bpf syscall at start, and
// hosts that log denied syscalls would log one per run.
func Prepare() error { return prepareOnce() }

var prepareOnce = sync.OnceValue(func() error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil // cannot tell: try the load as it is
	}
	if !memlockCharged(unix.ByteSliceToString(u.Release[:])) {
		return nil
	}
	inf := unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &inf); err != nil {
		return fmt.Errorf("lifting the locked-memory limit for BPF (a kernel before 5.11): %v", err)
	}
	return nil
})

// memlockCharged says whether a kernel release ("5.10.0-21-amd64") charges
// BPF memory to RLIMIT_MEMLOCK: before 5.11, or when it cannot be parsed.
func memlockCharged(release string) bool {
	var major, minor int
	if n, _ := fmt.Sscanf(release, "%d.%d", &major, &minor); n < 2 {
		return true
	}
	return major < 5 || major == 5 && minor < 11
}
