//go:build linux

package trace

import "golang.org/x/sys/unix"

// sysAccept is accept(2)'s number; architectures without it (arm64 has
// accept4 alone) say -1.
const sysAccept = unix.SYS_ACCEPT
