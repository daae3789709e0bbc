package inspect

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"strconv"

	"golang.org/x/sys/unix"
)

// BackendNetlink reads the socket tables over netlink sock_diag, filtered
// in the kernel by state, and owners by walking every PID/fd. It reads
// this host's kernel, so only the live /proc; a namespace it cannot dump
// is read from PID/net/tcp instead. Auto prefers it there.
const BackendNetlink Backend = "netlink"

func init() {
	registerBackend(backendDef{
		name:  BackendNetlink,
		rank:  10,
		reads: func(FS) string { return "netlink sock_diag" },
		check: func(fsys FS) error {
			if !fsys.live {
				return fmt.Errorf("the netlink backend reads this host's kernel: it needs --proc-root %s, not %s", DefaultRoot, fsys.root)
			}
			return nil
		},
		probe: func() error {
			if err := netlinkAvailable(); err != nil {
				return fmt.Errorf("netlink sock_diag unavailable (%v)", err)
			}
			return nil
		},
		open: func(fsys FS, opts Options) (tableSource, ownerSource) {
			return newNetlinkReader(opts), fdWalkOwners{}
		},
	})
}

// readTables dumps the reader's namespace, and each other one from inside
// it; where that fails (a namespace that cannot be entered), it reads the
// member's PID/net/tcp instead, with a note.
func (r *netlinkReader) readTables(req tableRequest) (tableSet, error) {
	fsys := req.fsys
	return readEachNamespace(req, func(ts *tableSet, pid int, ns uint64) error {
		if pid == 0 {
			return r.read(nil, ns, &ts.sockets)
		}
		nsPath := fsys.path(strconv.Itoa(pid), "ns", "net")
		err := r.read(&nsPath, ns, &ts.sockets)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			ts.notes = append(ts.notes, fmt.Sprintf("network namespace %d: no netlink dump (%v); reading /proc/%d/net/tcp instead", ns, err, pid))
			err = fsys.readNetDir(fsys.netDir(pid), ns, &ts.sockets)
		}
		return err
	})
}

// netlinkAvailable tells whether this process can open a sock_diag socket.
func netlinkAvailable() error {
	c, err := newDiagConn()
	if err != nil {
		return err
	}
	return c.Close()
}

// netlinkReader dumps namespaces' sockets for Scan.
type netlinkReader struct {
	mask     uint32
	withInfo bool // ask for tcp_info
	idle     bool // keep its idle times (Options.IdleTimes)
	// byFamily is set once a kernel has refused the dump of both
	// families in one request: dump each family on its own.
	byFamily bool
}

func newNetlinkReader(opts Options) *netlinkReader {
	mask := StateMask(opts.States) & StateMask(opts.DumpStates)
	if mask != allStates {
		// Listeners are always needed: they tell inbound from outbound.
		mask |= 1 << Listen
	}
	// tcp_info gives idle times, and the age bound of CLOSE_WAIT and
	// FIN_WAIT2 sockets (Socket.AgeMs) that tells a leak from a socket
	// on its way to close(): every dump that may judge leaks reads it.
	// Asking for it in the one dump costs less than a second, small dump
	// of those two states with it: the second walk of the kernel's hash
	// tables costs more than tcp_info for every socket of the first.
	withInfo := opts.IdleTimes || mask&ageStates != 0
	return &netlinkReader{mask: mask, withInfo: withInfo, idle: opts.IdleTimes}
}

// ageStates are the states whose sockets get an age bound from tcp_info.
const ageStates = uint32(1<<CloseWait | 1<<FinWait2)

// read appends the sockets of a namespace to dst: the caller's own when
// nsPath is nil, else the one nsPath (a PID/ns/net file) names.
func (r *netlinkReader) read(nsPath *string, ns uint64, dst *[]Socket) error {
	var c *diagConn
	var err error
	if nsPath == nil {
		c, err = newDiagConn()
	} else {
		c, err = newDiagConnIn(*nsPath)
	}
	if err != nil {
		return err
	}
	defer c.Close()
	add := func(s *Socket) {
		s.NetNS = ns
		if !r.idle {
			s.IdleMs, s.HasIdle = 0, false // read for the age bound, not asked for
		}
		*dst = append(*dst, *s)
	}
	if !r.byFamily {
		start := len(*dst)
		err := c.dump(unix.AF_UNSPEC, r.mask, r.withInfo, add)
		var errno unix.Errno
		if !errors.As(err, &errno) || len(*dst) > start {
			return err
		}
		// A kernel without the older request (EOPNOTSUPP, EINVAL) refuses it
		// before it dumps anything.
		r.byFamily = true
	}
	if err := c.dump(unix.AF_INET, r.mask, r.withInfo, add); err != nil {
		return err
	}
	err = c.dump(unix.AF_INET6, r.mask, r.withInfo, add)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EAFNOSUPPORT) || errors.Is(err, unix.EOPNOTSUPP) {
		return nil // IPv6 disabled
	}
	return err
}

// recheckLookups is the most sockets of a namespace recheck looks up one
// by one, each in the kernel's hash tables, or a tenth of the host's
// sockets if more: a lookup costs a few µs whatever the tables hold,
// where a dump filtered to their states (and the states they may have
// moved to) costs about a µs per socket of the host.
var recheckLookups = 1000

// recheck asks the kernel again about the sockets socks: exact lookups
// when they are few, else a dump of their states, in each namespace; a
// namespace that cannot be entered is read from PID/net/tcp again.
func (r *netlinkReader) recheck(req tableRequest, socks []Socket) (map[uint64]bool, error) {
	fsys := req.fsys
	return recheckEachNamespace(req, socks, func(pid int, ns uint64, these []Socket, present map[uint64]bool) error {
		var c *diagConn
		var err error
		if pid == 0 {
			c, err = newDiagConn()
		} else {
			c, err = newDiagConnIn(fsys.path(strconv.Itoa(pid), "ns", "net"))
		}
		switch {
		case err != nil && pid != 0 && !errors.Is(err, fs.ErrNotExist):
			return fsys.recheckTables(fsys.netDir(pid), ns, these, present)
		case err != nil:
			return err
		}
		defer c.Close()
		if len(these) <= max(recheckLookups, req.estimate/10) {
			return c.lookupEach(these, present)
		}
		var mask uint32
		for _, s := range these {
			mask |= laterStates(s.State)
		}
		var again []Socket
		add := func(s *Socket) { again = append(again, Socket{Inode: s.Inode}) }
		if !r.byFamily {
			err = c.dump(unix.AF_UNSPEC, mask, false, add)
		} else if err = c.dump(unix.AF_INET, mask, false, add); err == nil {
			err = c.dump(unix.AF_INET6, mask, false, add)
		}
		markPresent(these, again, present)
		return err
	})
}

// lookupEach looks each socket of socks up by its addresses, and marks
// in present those the kernel still holds with the same inode.
func (c *diagConn) lookupEach(socks []Socket, present map[uint64]bool) error {
	for _, s := range socks {
		family := uint8(unix.AF_INET)
		if s.Proto == TCP6 {
			family = unix.AF_INET6
		}
		id := [2]netip.AddrPort{s.Local, s.Remote}
		err := c.request(family, allStates, false, &id, func(got *Socket) {
			if got.Inode == s.Inode {
				present[s.Inode] = true
			}
		})
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return err
		}
	}
	return nil
}

// laterStates is, for each state, the mask of the states a connection in
// it can be in by the time it is read again: a recheck that filters the
// dump by state must not miss a socket that moved on.
func laterStates(st TCPState) uint32 {
	closing := uint32(1<<Close | 1<<TimeWait)
	switch st {
	case Established:
		return 1<<Established | 1<<FinWait1 | 1<<FinWait2 | 1<<CloseWait | 1<<Closing | 1<<LastAck | closing
	case FinWait1:
		return 1<<FinWait1 | 1<<FinWait2 | 1<<Closing | closing
	case FinWait2:
		return 1<<FinWait2 | closing
	case CloseWait:
		return 1<<CloseWait | 1<<LastAck | closing
	case Closing, LastAck, Listen:
		return 1<<st | closing
	case TimeWait, Close:
		return 1 << st
	default: // SYN_SENT, SYN_RECV and the unknown: anything
		return allStates
	}
}
