package inspect

import (
	"errors"

	"golang.org/x/sys/unix"
)

// nativeRoot reports whether root stands for the system rather than a
// proc filesystem: never on Linux, where every root is one.
func nativeRoot(string) (bool, error) { return false, nil }

// isProcfs reports whether root is a proc filesystem's mount (not a
// fixture tree or a copy).
func isProcfs(root string) bool {
	var st unix.Statfs_t
	return unix.Statfs(root, &st) == nil && st.Type == unix.PROC_SUPER_MAGIC
}

// noSuchProcess reports whether kill(pid, 0) says there is no process
// pid (ESRCH); EPERM is another user's.
func noSuchProcess(pid int) bool { return errors.Is(unix.Kill(pid, 0), unix.ESRCH) }
