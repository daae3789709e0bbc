//go:build darwin || freebsd

package run

import "syscall"

// sysProcAttr puts the command in a process group of its own when
// ownGroup is set (Config.OwnGroup). These systems have no Pdeathsig:
// should sockleak be killed, the command runs on (README, "Systems").
func sysProcAttr(ownGroup bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: ownGroup}
}
