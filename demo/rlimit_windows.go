package demo

import "errors"

// ErrNoFDLimit is why the demo cannot run on Windows: it lowers its
// client's open-files limit to show the leak reach it, and Windows has no
// such limit on a process's sockets.
var ErrNoFDLimit = errors.New("the demo lowers its client's open-files limit (RLIMIT_NOFILE) to show a leak reach it, and Windows has no such limit; run it on Linux, macOS or FreeBSD")

// Supported says why the demo cannot run here: ErrNoFDLimit.
func Supported() error { return ErrNoFDLimit }

func lowerFDLimit(uint64) (uint64, error) { return 0, ErrNoFDLimit }
