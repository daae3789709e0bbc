package socktest

import (
	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/inspect"
)

// readSockets returns the TCP sockets this process holds, with the
// addresses of those for which addrs (if not nil) returns true.
func readSockets(addrs func(*inspect.Socket) bool) ([]inspect.OwnSocket, error) {
	return inspect.OwnSockets(addrs)
}

// fdInode returns the inode of the socket at descriptor fd.
func fdInode(fd uintptr) (uint64, bool) {
	var st unix.Stat_t
	if unix.Fstat(int(fd), &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return 0, false
	}
	return st.Ino, true
}
