package inspect

import "context"

// A scan reads from two sources, which a backend pairs (backend.go):
//
//   - a tableSource, for the TCP sockets of every network namespace:
//     netlink sock_diag dumps, or the proc root's net/tcp and net/tcp6;
//   - an ownerSource, for each process's descriptors: how many are open,
//     how many are sockets, and the inodes of the sockets it holds. Today
//     that is the walk of every PID/fd directory.
//
// Scan runs the two side by side and joins owners to sockets by inode as
// each process is done. One value may be both sources: one that reads
// sockets with their owners already joined keeps the owners from its table
// read and hands them out in owners.

// A tableSource reads the TCP sockets of every network namespace a scan
// sees, once each, every socket marked with its namespace.
type tableSource interface {
	readTables(req tableRequest) (tableSet, error)
	// recheck reads again the sockets socks, which readTables read for
	// req (req.hostNS set from its tableSet) and no walked process holds,
	// and reports those still in their namespace's tables with the same
	// inode: the others were closed in the meantime. A socket whose
	// namespace cannot be read again counts as present, and the error
	// says why.
	recheck(req tableRequest, socks []Socket) (present map[uint64]bool, err error)
}

// tableRequest is what a scan asks of its table source.
type tableRequest struct {
	fsys FS
	// namespaces are the network namespaces of the selected processes,
	// each with its members' PIDs, through which it can be read.
	namespaces map[uint64][]int
	// opts says which states to read (States, DumpStates: a source that
	// can filter in the kernel leaves the others out, LISTEN aside) and
	// whether idle times are wanted (IdleTimes).
	opts Options
	// estimate is how many sockets the host holds (sockstat), to size
	// the slice the tables are read into.
	estimate int
	// hostNS is the reader's namespace as readTables found it (tableSet's
	// hostNS), for recheck: its sockets are read again through pid 0.
	hostNS uint64
}

// maxEstimate bounds the estimate that sizes the socket slice: sockstat
// is a file (a --proc-root's is anyone's), and a crafted count must not
// size an allocation (makeslice: cap out of range, or gigabytes reserved).
// A host with more sockets grows the slice as it reads them.
const maxEstimate = 1 << 18

// socketEstimate is how many sockets sockstat says the host holds, in use
// and in TIME_WAIT, at most maxEstimate.
func socketEstimate(s System) int {
	return int(min(min(s.TCPInUse, maxEstimate)+min(s.TCPTimeWait, maxEstimate), maxEstimate))
}

// tableSet is every namespace's sockets, and how they were read.
type tableSet struct {
	sockets []Socket
	// hostNS is the namespace of the proc root's own net/ tables (the
	// reader's), 0 when unknown.
	hostNS   uint64
	warnings []string
	notes    []string // for -v: fallbacks
}

// An ownerSource fills the descriptors of the selected processes:
// procScan.p.FDs and p.SocketFDs, and procScan.sockets, the inodes of the
// wanted sockets each holds; or procScan.err when a process could not be
// read (fs.ErrPermission) or is gone.
type ownerSource interface {
	// before runs first and alone, before the table source opens
	// anything: the place for what the scan's own descriptors must not
	// disturb. It may fill processes (calling w.done for each).
	before(w *ownerWork)
	// owners fills every process before has not, beside the table read,
	// calling w.done for each as soon as it is filled; all at once or one
	// by one, from any goroutine, but never after owners has returned. It
	// returns ctx's error, early, when the scan is canceled or the table
	// read failed.
	owners(ctx context.Context, w *ownerWork) error
}

// ownerWork is the processes an owner source fills, what it is to keep,
// and where it hands each process on.
type ownerWork struct {
	fsys  FS
	procs []procScan
	// tablesRead is closed once the tables are in. From then on keep and
	// countOnly say what to keep; before, every socket inode is kept.
	tablesRead chan struct{}
	keep       func(uint64) bool // nil keeps every socket inode
	countOnly  bool              // no socket can match: only the counts are wanted
	// done hands process i on, once its descriptors are in: the scan
	// reads the rest of it (limits, name, start time, state) and joins its
	// sockets. It is
	// safe to call from many goroutines, once per process.
	done func(i int)
	// panicked holds a panic of the source's goroutines, for Scan to
	// raise again in its caller's; a source that starts goroutines
	// recovers their panics into it.
	panicked *goPanic
	// notes are the source's for -v (a fallback), set by owners before it
	// returns.
	notes []string
}

// wants returns what to keep of the next process's descriptors.
func (w *ownerWork) wants() (keep func(uint64) bool, countOnly bool) {
	select {
	case <-w.tablesRead:
		return w.keep, w.countOnly
	default:
		return nil, false
	}
}
