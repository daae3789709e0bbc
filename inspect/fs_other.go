//go:build !linux

package inspect

import (
	"fmt"
	"runtime"
)

// nativeRoot reports whether root stands for the system: here there is no
// proc filesystem to read, so the default root means "ask the system"
// (through gopsutil) and any other root is refused, as the readers of
// /proc files run on Linux only.
func nativeRoot(root string) (bool, error) {
	if root == DefaultRoot || root == "" {
		return true, nil
	}
	return true, fmt.Errorf("--proc-root %q: reading a proc filesystem needs Linux; on %s sockleak asks the system instead (leave --proc-root out)", root, runtime.GOOS)
}

// isProcfs is false: only Linux has a procfs sockleak can read.
func isProcfs(string) bool { return false }

// noSuchProcess is false: only a live Linux /proc hides processes
// (hidepid), and only there is it asked.
func noSuchProcess(int) bool { return false }
