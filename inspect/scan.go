package inspect

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"github.com/sockleak/sockleak/internal/wording"
)

// Scan collects a Snapshot from fsys. It fails only when it cannot do its
// job: the proc root or a socket table is unreadable or malformed, or the
// --pid/--name selection matches nothing (ErrNoMatch). Processes that exit
// during the scan are skipped; processes it may not read are counted in
// Denied with a warning.
//
// It works in three steps:
//
//  1. select the processes (all, or those --pid or --name name) and their
//     network namespaces;
//  2. read the socket tables of each namespace, once, from the table
//     source, beside the owner source's reading of the processes'
//     descriptors, joining the owners to the sockets as each process's
//     descriptors are in;
//  3. assemble the snapshot: the processes that could be read, the
//     sockets that passed the filters, and what could not be seen. The
//     connections waiting in a listener's accept queue go to its owners
//     (queue.go); the sockets left without an owner are read again, and
//     dropped if they were closed meanwhile (recheck.go).
func Scan(ctx context.Context, fsys FS, opts Options) (*Snapshot, error) {
	sc, err := newScanner(ctx, fsys, opts)
	if err != nil {
		return nil, err
	}
	if err := sc.selectProcesses(); err != nil {
		return nil, err
	}
	socks, err := sc.readTablesAndOwners()
	if err != nil {
		return nil, err
	}
	return sc.assemble(socks)
}

// scanner is one scan on its way.
type scanner struct {
	ctx     context.Context
	fsys    FS
	opts    Options
	snap    *Snapshot
	backend Backend
	tables  tableSource
	owners  ownerSource
	meta    *metaReader
	names   *podNames // the kubelet's names of pods, read once if a pod is seen
	procs   []procScan
	// nsMembers are the processes in each namespace, to read its tables
	// through.
	nsMembers map[uint64][]int
	// denied are the processes that could not be inspected, for the
	// warning that names them.
	denied []Process
	// req is what the tables were read for, and are read again for
	// (recheckUnowned).
	req tableRequest
	// unowned counts the sockets with an inode that no walked process
	// holds, hidden listeners included: when it is 0, there is nothing to
	// recheck (recheckUnowned).
	unowned int
	// view is what the proc mount hides from this process (hidepid).
	view hiddenView
	// hidden and queued are filterSockets' (filtered).
	hidden int
	queued bool
}

// newScanner stamps the snapshot, resolves the backend and reads the
// system counters.
func newScanner(ctx context.Context, fsys FS, opts Options) (*scanner, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	snap := &Snapshot{
		Time:     now(),
		ProcRoot: fsys.root,
		Hostname: fsys.readHostname(),
		Selected: opts.selected(),
		Filtered: len(opts.States)+len(opts.Ports)+len(opts.Peers) > 0,
	}
	def, note, err := fsys.backend(opts.Backend)
	if err != nil {
		return nil, err
	}
	if note != "" {
		snap.Notes = append(snap.Notes, note)
	}
	if snap.System, err = fsys.readSystem(); err != nil {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("some system counters are missing: %v", err))
	}
	sc := &scanner{ctx: ctx, fsys: fsys, opts: opts, snap: snap, backend: def.name, view: fsys.readHiddenView(), names: &podNames{fsys: fsys}}
	if sc.view.hidden() {
		snap.Warnings = append(snap.Warnings, sc.view.warning(fsys.root))
	}
	sc.tables, sc.owners = def.open(fsys, opts)
	return sc, nil
}

// errScanPanicked stands for a table read that panicked; Scan raises the
// panic itself (goPanic).
var errScanPanicked = errors.New("the socket table read panicked")

// readTablesAndOwners is step 2: every namespace's sockets, once, from the
// table source, and the processes' descriptors from the owner source, side
// by side. The owner source needs no table to read descriptors, and the two
// are the whole cost of a scan. It narrows once the tables are in: after a
// dump the kernel filtered (--state, check's thresholds) it keeps only the
// inodes that can match, and with none it only counts. The owners are
// joined to the sockets meanwhile too, each process as soon as both its
// descriptors and the tables are in. It returns the sockets that passed
// the filters, owners joined.
func (sc *scanner) readTablesAndOwners() ([]Socket, error) {
	opts, snap := sc.opts, sc.snap
	ready := make(chan int, len(sc.procs)) // processes whose descriptors are in, for the join
	panicked := new(goPanic)
	w := &ownerWork{fsys: sc.fsys, procs: sc.procs, tablesRead: make(chan struct{}), panicked: panicked,
		done: func(i int) { sc.processDone(i); ready <- i }}
	sc.owners.before(w)

	ownersCtx, cancelOwners := context.WithCancel(sc.ctx)
	defer cancelOwners()
	req := tableRequest{fsys: sc.fsys, namespaces: sc.nsMembers, opts: opts,
		estimate: socketEstimate(snap.System)}
	var tables tableSet
	var socks []Socket
	errc := make(chan error, 1)
	joined := make(chan struct{})
	go func() {
		defer close(joined)
		read := false
		defer func() {
			if v := recover(); v != nil {
				panicked.set(v)
				if !read { // as a failed read: stop the owners
					cancelOwners()
					close(w.tablesRead)
					errc <- errScanPanicked
				}
			}
		}()
		var err error
		var wanted map[uint64]int32
		if tables, err = sc.tables.readTables(req); err != nil {
			cancelOwners() // the scan has failed: stop reading owners
		} else {
			f := snap.filterSockets(tables.sockets, opts)
			socks, wanted, sc.hidden, sc.queued = f.socks, f.wanted, f.hidden, f.queued
			if len(opts.States) > 0 || len(opts.DumpStates) > 0 {
				w.keep = func(ino uint64) bool { _, ok := wanted[ino]; return ok }
				w.countOnly = len(wanted) == 0
			}
		}
		read = true
		close(w.tablesRead)
		errc <- err
		if err != nil {
			return
		}
		j := newOwnerJoin(socks, wanted)
		for i := range ready {
			j.add(&sc.procs[i])
		}
		j.finish()
		sc.unowned = len(wanted) - j.owned
	}()
	werr := sc.owners.owners(ownersCtx, w)
	close(ready)
	err := <-errc
	<-joined
	panicked.rethrow()
	if err != nil {
		return nil, err
	}
	if werr != nil {
		return nil, werr
	}
	snap.Backend, snap.HostNetNS = sc.backend, tables.hostNS
	sc.req, sc.req.hostNS = req, tables.hostNS
	snap.Warnings = append(snap.Warnings, tables.warnings...)
	snap.Notes = append(snap.Notes, tables.notes...)
	snap.Notes = append(snap.Notes, w.notes...)
	return socks, nil
}

// processDone reads the rest of a process whose descriptors are in: its
// limits, unless --name read them already its name, user and command
// line, and its start time and state. The owner source calls it (through
// ownerWork.done), from any of its goroutines.
func (sc *scanner) processDone(i int) {
	ps := &sc.procs[i]
	ps.done = true
	if ps.err == nil && ps.p.FDs > 0 { // kernel threads have no descriptors and no budget to check
		sc.fsys.readProcLimits(ps)
	}
	if ps.err == nil && !ps.named && !sc.meta.fill(&ps.p) {
		ps.err = fmt.Errorf("read %s: %w", sc.fsys.path(strconv.Itoa(ps.p.PID), "status"), fs.ErrNotExist) // gone
	}
	if ps.err == nil {
		if st, err := sc.fsys.readStat(ps.p.PID); err == nil {
			ps.p.StartTime, ps.p.State = st.StartTime, st.State
			if len(st.Comm) > 0 {
				// The kernel's name, as ps shows it: gopsutil's takes the
				// basename of argv[0] for a name of 15 bytes, and argv[0]
				// is command-line text, which names must not carry.
				ps.p.Name = string(st.Comm)
			}
		}
		ps.p.Workload = sc.fsys.readWorkload(ps.p.PID)
		sc.names.fill(&ps.p.Workload)
	}
}

// assemble is step 3: the processes that could be read, and the sockets.
// Connections in an accept queue are their listener's owners'. Without
// --pid or --name, every socket stays, owned or not; with them, only the
// selected processes' sockets.
func (sc *scanner) assemble(socks []Socket) (*Snapshot, error) {
	snap := sc.snap
	if sc.queued {
		attributeQueued(socks)
	}
	socks = sc.recheckUnowned(socks[:len(socks)-sc.hidden])
	for i := range sc.procs {
		ps := &sc.procs[i]
		switch {
		case errors.Is(ps.err, fs.ErrPermission):
			snap.Denied++
			sc.denied = append(sc.denied, ps.p)
			continue
		case ps.err != nil && sc.fsys.exited(ps.p.PID, ps.err):
			continue // exited during the scan
		case ps.err != nil:
			snap.Warnings = append(snap.Warnings, fmt.Sprintf("pid %d: could not be read: %v", ps.p.PID, ps.err))
			continue
		}
		if ps.warning != "" {
			snap.Warnings = append(snap.Warnings, ps.warning)
		}
		snap.Processes = append(snap.Processes, ps.p)
	}
	hint := deniedHint()
	if sc.view.hidden() {
		hint = sc.view.hint(sc.fsys.root)
	}
	switch {
	case snap.Selected && len(snap.Processes) == 0 && snap.Denied == 0 && sc.view.hidden():
		// None of the processes this one sees matches; one it cannot
		// see may.
		return nil, fmt.Errorf("%s: none of the processes this user can see matches, and other users' processes %w; %s",
			describeSelection(sc.opts), ErrDenied, hint)
	case snap.Selected && len(snap.Processes) == 0 && snap.Denied == 0:
		return nil, fmt.Errorf("%w %s", ErrNoMatch, describeSelection(sc.opts))
	case snap.Selected && len(snap.Processes) == 0:
		return nil, fmt.Errorf("%s: %s %w; %s", describeSelection(sc.opts),
			wording.Count(snap.Denied, "process matches but", "processes match but"), ErrDenied, hint)
	case snap.Denied > 0:
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("%s not be inspected (permission denied): %s; %s",
			wording.Count(snap.Denied, "process could", "processes could"), sc.nameDenied(), hint))
	}
	unowned := 0
	snap.Sockets = socks[:0]
	for _, s := range socks {
		if snap.Selected && len(s.PIDs) == 0 {
			continue
		}
		if unownedSocket(&s) {
			unowned++
		}
		snap.Sockets = append(snap.Sockets, s)
	}
	if unowned > 0 {
		denied := snap.Denied
		if sc.view.hidden() {
			denied = max(denied, 1) // hidden: their owners could not be inspected
		}
		snap.Warnings = append(snap.Warnings, unownedWarningFor(unowned, denied))
	}
	return snap, nil
}
