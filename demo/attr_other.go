//go:build !linux

package demo

import "syscall"

// childAttr is nil: only Linux has a parent-death signal. The children
// end when their stdin closes, which the demo does on every way out but
// its own SIGKILL.
func childAttr() *syscall.SysProcAttr { return nil }
