//go:build unix

package demo

import "golang.org/x/sys/unix"

// Supported says why the demo cannot run on this system: nil, it can.
func Supported() error { return nil }

// lowerFDLimit lowers this process's soft open-files limit to n (at most
// the hard limit) and returns the limit now in force.
func lowerFDLimit(n uint64) (uint64, error) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	setLimit(&lim.Cur, min(n, uint64(lim.Max)))
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	return uint64(lim.Cur), nil
}

// setLimit sets an rlimit field: uint64 on Linux and macOS, int64 on
// FreeBSD.
func setLimit[T int64 | uint64](p *T, v uint64) { *p = T(v) }
