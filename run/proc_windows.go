package run

import (
	"os"
	"syscall"
)

// sysProcAttr is nil: Windows has neither process groups to signal nor a
// parent-death signal; should sockleak be killed, the command runs on
// (README, "Systems").
func sysProcAttr(bool) *syscall.SysProcAttr { return nil }

// signalTarget ends the command when sockleak is asked to stop: Windows
// cannot deliver SIGINT or SIGTERM to another process, only terminate it.
func signalTarget(target int, _ os.Signal) {
	if p, err := os.FindProcess(max(target, -target)); err == nil {
		_ = p.Kill()
	}
}

// signalName names a signal; a Windows command never ends by one.
func signalName(s syscall.Signal) string { return s.String() }
