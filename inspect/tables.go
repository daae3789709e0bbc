package inspect

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
)

// tableSet is every namespace's sockets, and how they were read.
type tableSet struct {
	sockets  []Socket
	hostNS   uint64
	backend  Backend
	warnings []string
	notes    []string
}

// readAllTables reads the TCP sockets of every network namespace once: the
// reader's own namespace (the proc root's net/, or a netlink dump), and
// each other namespace through one of its processes, so a container's
// sockets are neither missed nor counted twice.
func (fsys FS) readAllTables(backend Backend, nsMembers map[uint64][]int, opts Options, estimate int) (tableSet, error) {
	// sockstat's counts size the slice: at 100k sockets, growing it by
	// doubling would copy and hold twice the memory.
	ts := tableSet{backend: backend, sockets: make([]Socket, 0, estimate+estimate/8+16)}
	// /proc/net is /proc/self/net: the reader's namespace. In a proc root
	// the reader does not live in (a mounted host /proc), self may not
	// exist: then every namespace is read through its processes.
	hostNS, nsErr := fsys.readNetNS(fsys.path("self", "ns", "net"))
	if nsErr != nil {
		hostNS = 0
	}
	ts.hostNS = hostNS
	var nl *netlinkReader
	if backend == BackendNetlink {
		nl = newNetlinkReader(opts)
	}
	if nsErr == nil || len(nsMembers) == 0 {
		var err error
		if nl != nil {
			err = nl.read(nil, hostNS, &ts.sockets)
		} else {
			err = fsys.readTables(fsys.path("net"), hostNS, &ts.sockets)
		}
		if err != nil {
			return ts, err
		}
	}
	namespaces := make([]uint64, 0, len(nsMembers))
	for ns := range nsMembers {
		if ns != hostNS || nsErr != nil {
			namespaces = append(namespaces, ns)
		}
	}
	slices.Sort(namespaces)
	for _, ns := range namespaces {
		var lastErr error
		read := false
		for _, pid := range nsMembers[ns] {
			var err error
			if nl != nil {
				nsPath := fsys.path(strconv.Itoa(pid), "ns", "net")
				if err = nl.read(&nsPath, ns, &ts.sockets); err != nil && !errors.Is(err, fs.ErrNotExist) {
					ts.notes = append(ts.notes, fmt.Sprintf("network namespace %d: no netlink dump (%v); reading /proc/%d/net/tcp instead", ns, err, pid))
					err = fsys.readTables(fsys.path(strconv.Itoa(pid), "net"), ns, &ts.sockets)
				}
			} else {
				err = fsys.readTables(fsys.path(strconv.Itoa(pid), "net"), ns, &ts.sockets)
			}
			var pe *ParseError
			if errors.As(err, &pe) {
				return ts, err
			}
			if err != nil {
				lastErr = err // exited, or not ours to read: try the next member
				continue
			}
			read = true
			break
		}
		if !read {
			ts.warnings = append(ts.warnings, fmt.Sprintf("network namespace %d: its sockets could not be read: %v", ns, lastErr))
		}
	}
	return ts, nil
}

// readTables appends the sockets of dir/tcp and dir/tcp6 to dst, marked
// with ns. A missing tcp6 means IPv6 is disabled, not an error.
func (fsys FS) readTables(dir string, ns uint64, dst *[]Socket) error {
	start := len(*dst)
	socks, err := appendNetTCP(*dst, filepath.Join(dir, "tcp"), TCP)
	if err == nil {
		socks, err = appendNetTCP(socks, filepath.Join(dir, "tcp6"), TCP6)
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	}
	if err != nil {
		return err
	}
	for i := start; i < len(socks); i++ {
		socks[i].NetNS = ns
	}
	*dst = socks
	return nil
}
