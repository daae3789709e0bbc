package inspect

// OwnSocket is a TCP socket this process holds, read through its
// descriptor.
type OwnSocket struct {
	FD int // the descriptor it was read through (one of them, if dup'ed)
	// Socket has Proto, Local, Remote (zero for a listener or an
	// unconnected socket), State, Inode, IdleMs and, in CLOSE_WAIT and
	// FIN_WAIT2, AgeMs.
	Socket
}
