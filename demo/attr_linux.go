package demo

import "syscall"

// childAttr makes a client child die with the demo, whatever happens to
// it (Pdeathsig).
func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
