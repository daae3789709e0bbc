package run

import "syscall"

// sysProcAttr starts the command with Pdeathsig: should sockleak die
// (SIGKILL, SIGHUP, a crash), the kernel kills the command rather than let
// it run on unwatched. Pdeathsig fires when the thread that started the
// command ends, so start and wait run on one locked thread (start).
// ownGroup puts it in a process group of its own (Config.OwnGroup).
func sysProcAttr(ownGroup bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: ownGroup}
}
