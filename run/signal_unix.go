//go:build unix

package run

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// signalTarget sends s to target: a pid, or a process group as -pgid.
func signalTarget(target int, s os.Signal) {
	if sig, ok := s.(syscall.Signal); ok {
		_ = syscall.Kill(target, sig)
	}
}

// signalName is the name of a signal that ended the command ("SIGKILL").
func signalName(s syscall.Signal) string { return unix.SignalName(s) }
