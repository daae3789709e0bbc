package inspect

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// nsReader appends the TCP sockets of one network namespace to
// ts.sockets, each marked with ns: the reader's own namespace when pid is
// 0, else the namespace of process pid. It may add notes to ts.
type nsReader func(ts *tableSet, pid int, ns uint64) error

// readEachNamespace reads the TCP sockets of every network namespace once,
// with read: the reader's own namespace, and each other namespace through
// one of its processes, so a container's sockets are neither missed nor
// counted twice. A table source that reads a namespace at a time is this
// function and its nsReader.
func readEachNamespace(req tableRequest, read nsReader) (tableSet, error) {
	fsys := req.fsys
	// sockstat's counts size the slice: at 100k sockets, growing it by
	// doubling would copy and hold twice the memory.
	ts := tableSet{sockets: make([]Socket, 0, req.estimate+req.estimate/8+16)}
	// /proc/net is /proc/self/net: the reader's namespace. In a proc root
	// the reader does not live in (a mounted host /proc), self may not
	// exist: then every namespace is read through its processes.
	hostNS, nsErr := fsys.readNetNS(fsys.path("self", "ns", "net"))
	if nsErr != nil {
		hostNS = 0
	}
	ts.hostNS = hostNS
	if nsErr == nil || len(req.namespaces) == 0 {
		if err := read(&ts, 0, hostNS); err != nil {
			return ts, err
		}
	}
	namespaces := make([]uint64, 0, len(req.namespaces))
	for ns := range req.namespaces {
		if ns != hostNS || nsErr != nil {
			namespaces = append(namespaces, ns)
		}
	}
	slices.Sort(namespaces)
	for _, ns := range namespaces {
		err := readThroughMembers(&ts, ns, req.namespaces[ns], read)
		var pe *ParseError
		switch {
		case errors.As(err, &pe):
			return ts, err
		case err != nil:
			ts.warnings = append(ts.warnings, fmt.Sprintf("network namespace %d: its sockets could not be read: %v", ns, err))
		}
	}
	return ts, nil
}

// readThroughMembers reads namespace ns through the first of its members
// whose tables can be read. It fails with the last member's error when
// none can, and at once on a malformed table.
func readThroughMembers(ts *tableSet, ns uint64, members []int, read nsReader) error {
	var err error
	for _, pid := range members {
		if err = read(ts, pid, ns); err == nil {
			return nil
		}
		var pe *ParseError
		if errors.As(err, &pe) {
			return err
		}
		// Exited, or not ours to read: try the next member.
	}
	return err
}

// recheckEachNamespace calls read for the sockets of each namespace in
// socks, through the reader's own namespace (pid 0) or the first member
// through which it succeeds, and marks in present those it finds again.
// A namespace that cannot be read again keeps its sockets: whether they
// are gone is unknown. Its error is returned, after the others are read.
func recheckEachNamespace(req tableRequest, socks []Socket, read func(pid int, ns uint64, these []Socket, present map[uint64]bool) error) (map[uint64]bool, error) {
	byNS := make(map[uint64][]Socket)
	for _, s := range socks {
		byNS[s.NetNS] = append(byNS[s.NetNS], s)
	}
	present := make(map[uint64]bool, len(socks))
	var errs []error
	for _, ns := range slices.Sorted(maps.Keys(byNS)) {
		these := byNS[ns]
		var err error
		if ns == req.hostNS {
			err = read(0, ns, these, present)
		} else {
			err = errors.New("no process left to read it through")
			for _, pid := range req.namespaces[ns] {
				if err = read(pid, ns, these, present); err == nil {
					break
				}
			}
		}
		if err != nil {
			for _, s := range these {
				present[s.Inode] = true
			}
			errs = append(errs, fmt.Errorf("network namespace %d: %w", ns, err))
		}
	}
	return present, errors.Join(errs...)
}
