//go:build unix

package watch

import "golang.org/x/sys/unix"

// openFilesLimit is this process's soft open-files limit.
func openFilesLimit() (uint64, error) {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	return uint64(rl.Cur), nil //nolint:unconvert // int64 on FreeBSD
}
