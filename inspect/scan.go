// Package inspect reads TCP sockets, the processes that own them, their
// file descriptors and limits, and the system's socket counters from a proc
// filesystem: the live /proc, a host's /proc mounted elsewhere, or a fixture
// tree.
package inspect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/internal/wording"
)

// FS is a proc filesystem root. Every reader takes its paths from it.
type FS struct {
	root string
	// faults injects errors for paths relative to root. Tests use it to
	// stand for what a static tree read as root cannot show: a process
	// whose fds are not ours to read, or one that exits mid-scan. Nil in
	// production.
	faults map[string]error
	// procfs is true when root is a real proc filesystem (not a fixture
	// tree): only then do directory sizes count descriptors.
	procfs bool
	// live is true when root is this host's own /proc, which netlink can
	// stand in for.
	live bool
}

// DefaultRoot is the proc root of the live host.
const DefaultRoot = "/proc"

// NewFS checks that root is a readable directory and returns an FS for it.
func NewFS(root string) (FS, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return FS{}, fmt.Errorf("could not read proc root %q: %w", root, err)
	}
	if !fi.IsDir() {
		return FS{}, fmt.Errorf("proc root %q is not a directory", root)
	}
	fsys := FS{root: filepath.Clean(root)}
	var st unix.Statfs_t
	if unix.Statfs(fsys.root, &st) == nil && st.Type == unix.PROC_SUPER_MAGIC {
		fsys.procfs = true
		fsys.live = fsys.root == DefaultRoot
	}
	return fsys, nil
}

// Backend is how socket tables are read.
type Backend string

// The backends. Auto uses netlink on the live /proc and falls back to the
// proc tables when netlink is unavailable.
const (
	BackendAuto    Backend = "auto"
	BackendNetlink Backend = "netlink"
	BackendProc    Backend = "proc"
)

// ParseBackend parses a --backend value.
func ParseBackend(s string) (Backend, error) {
	switch b := Backend(strings.ToLower(s)); b {
	case BackendAuto, BackendNetlink, BackendProc:
		return b, nil
	case "":
		return BackendAuto, nil
	}
	return "", fmt.Errorf("unknown backend %q (want auto, netlink or proc)", s)
}

// backend resolves the backend to use. A proc root other than this host's
// /proc implies proc: a mounted host /proc cannot be reached over this
// host's netlink.
func (fsys FS) backend(b Backend) (Backend, string, error) {
	switch b {
	case BackendProc:
		return BackendProc, "", nil
	case BackendNetlink:
		if !fsys.live {
			return "", "", fmt.Errorf("the netlink backend reads this host's kernel: it needs --proc-root %s, not %s", DefaultRoot, fsys.root)
		}
		return BackendNetlink, "", nil
	}
	if !fsys.live {
		return BackendProc, "", nil
	}
	if err := netlinkAvailable(); err != nil {
		return BackendProc, fmt.Sprintf("netlink sock_diag unavailable (%v); reading %s/net/tcp instead", err, fsys.root), nil
	}
	return BackendNetlink, "", nil
}

// Root returns the proc root's path.
func (fsys FS) Root() string { return fsys.root }

func (fsys FS) path(rel ...string) string {
	return filepath.Join(append([]string{fsys.root}, rel...)...)
}

func (fsys FS) fault(path string) error {
	if fsys.faults == nil {
		return nil
	}
	rel, _ := filepath.Rel(fsys.root, path)
	return fsys.faults[rel]
}

// Process is one process and its descriptor budget.
type Process struct {
	PID     int
	Name    string
	User    string // user name of the effective uid, or the uid in decimal
	Cmdline string // arguments joined by spaces; empty for kernel threads
	FDs     int    // open file descriptors
	// SocketFDs counts the descriptors that are sockets of any family; -1
	// when the scan only counted descriptors (no socket could match).
	SocketFDs int
	// FDSoftLimit and FDHardLimit are the "Max open files" limits:
	// Unlimited (-1) when unlimited, 0 when they could not be read.
	FDSoftLimit, FDHardLimit int64
	NetNS                    uint64 // inode of the process's network namespace
}

// Snapshot is everything one scan saw.
type Snapshot struct {
	Time     time.Time
	Hostname string
	ProcRoot string
	// HostNetNS is the namespace of the proc root's own net/ tables (the
	// reader's), 0 when unknown.
	HostNetNS uint64
	System    System
	// Processes are the inspected processes, by PID: all of them, or the
	// ones that --pid or --name selected.
	Processes []Process
	// Sockets are the sockets that passed the filters, in the kernel's
	// order: see CompareSockets.
	Sockets []Socket
	// Listeners are the local addresses of every LISTEN socket, filters or
	// not, so that a connection can be told inbound from outbound even when
	// --state hides the listening sockets.
	Listeners []Listener
	// Selected is true when --pid or --name limited the processes; sockets
	// are then only those the selected processes own.
	Selected bool
	// Filtered is true when --state, --port or --peer hid sockets.
	Filtered bool
	// Denied counts processes whose descriptors could not be read.
	Denied   int
	Warnings []string
	// Notes say how the scan went, for verbose output: the backend's
	// fallbacks.
	Notes []string
	// Backend is how the socket tables were read.
	Backend Backend
}

// Listener is a listening address in a network namespace.
type Listener struct {
	NetNS uint64
	Addr  netip.AddrPort
}

// ListenIndex tells inbound connections from outbound ones: a connection
// is inbound when its local port is one a socket in its namespace listens
// on, on its address or on the wildcard.
type ListenIndex struct {
	addrs map[Listener]bool
	// ports has a bit for each port listened on in any namespace: most
	// local ports of outbound connections are not, and a bit is cheaper
	// than three lookups of an address.
	ports *[1 << 16 / 64]uint64
}

// ListenIndex indexes the snapshot's listening addresses.
func (snap *Snapshot) ListenIndex() ListenIndex {
	ix := ListenIndex{addrs: make(map[Listener]bool, len(snap.Listeners)), ports: new([1 << 16 / 64]uint64)}
	for _, l := range snap.Listeners {
		ix.addrs[l] = true
		ix.ports[l.Addr.Port()/64] |= 1 << (l.Addr.Port() % 64)
	}
	return ix
}

// Inbound reports whether s was accepted rather than dialled.
func (ix ListenIndex) Inbound(s *Socket) bool {
	port := s.Local.Port()
	if ix.ports == nil || ix.ports[port/64]&(1<<(port%64)) == 0 {
		return false
	}
	for _, a := range [...]netip.Addr{s.Local.Addr(), netip.IPv4Unspecified(), netip.IPv6Unspecified()} {
		if ix.addrs[Listener{NetNS: s.NetNS, Addr: netip.AddrPortFrom(a, port)}] {
			return true
		}
	}
	return false
}

// Options selects what Scan collects. The zero value means everything.
type Options struct {
	PIDs   []int      // only these processes. Optional.
	Name   string     // only processes whose name or command line contains Name (case-insensitive). Optional.
	States []TCPState // only sockets in these states. Optional.
	Ports  []uint16   // only sockets with this local or remote port. Optional.
	Peers  []Peer     // only sockets whose remote address matches. Optional.
	// DumpStates lists the only states to read from the kernel, as check
	// asks for the states its thresholds count: a netlink dump leaves the
	// others out. Unlike States it is not a filter the user asked for, so
	// the snapshot is not marked Filtered. Optional.
	DumpStates []TCPState
	// Backend is how to read socket tables. Optional: BackendAuto.
	Backend Backend
	// IdleTimes asks for the time since each socket last sent or received
	// data (tcp_info over netlink). Optional: it costs a little per socket.
	IdleTimes bool
	// Now stamps the snapshot. Optional: time.Now.
	Now func() time.Time
}

// Peer matches a remote address: an IP, an IP:port or a CIDR prefix.
type Peer struct {
	Prefix netip.Prefix
	Port   uint16 // 0 matches any port
}

// ParsePeer parses "10.0.0.5", "10.0.0.5:7000", "10.0.0.0/8", "::1" or
// "[::1]:80".
func ParsePeer(s string) (Peer, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a := ap.Addr().Unmap()
		return Peer{Prefix: netip.PrefixFrom(a, a.BitLen()), Port: ap.Port()}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return Peer{Prefix: netip.PrefixFrom(a, a.BitLen())}, nil
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			// Sockets are unmapped: so must the prefix be, or it matches none.
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return Peer{Prefix: p.Masked()}, nil
	}
	return Peer{}, fmt.Errorf("invalid peer %q: want IP, IP:port or CIDR", s)
}

// Match reports whether the remote address ap matches the peer.
func (p Peer) Match(ap netip.AddrPort) bool {
	return p.Prefix.Contains(ap.Addr()) && (p.Port == 0 || p.Port == ap.Port())
}

func (p Peer) String() string {
	if p.Port != 0 {
		return netip.AddrPortFrom(p.Prefix.Addr(), p.Port).String()
	}
	if p.Prefix.IsSingleIP() {
		return p.Prefix.Addr().String()
	}
	return p.Prefix.String()
}

func (o Options) selected() bool { return len(o.PIDs) > 0 || o.Name != "" }

// keep reports whether a socket passes the state, port and peer filters.
func (o Options) keep(s *Socket) bool {
	if len(o.States) > 0 && !slices.Contains(o.States, s.State) {
		return false
	}
	if len(o.DumpStates) > 0 && !slices.Contains(o.DumpStates, s.State) {
		return false
	}
	if len(o.Ports) > 0 && !slices.Contains(o.Ports, s.Local.Port()) && !slices.Contains(o.Ports, s.Remote.Port()) {
		return false
	}
	if len(o.Peers) > 0 && !slices.ContainsFunc(o.Peers, func(p Peer) bool { return p.Match(s.Remote) }) {
		return false
	}
	return true
}

// Scan collects a Snapshot from fsys. It fails only when it cannot do its
// job: the proc root or a socket table is unreadable or malformed, or the
// --pid/--name selection matches nothing (ErrNoMatch). Processes that exit
// during the scan are skipped; processes it may not read are counted in
// Denied with a warning.
//
// It works in four steps, the last three side by side: each process's
// network namespace; the socket tables of each namespace, once (over
// netlink or from /proc); the fd walk, in parallel, keeping only the
// inodes of sockets that passed the filters once the tables are in; and
// the owners joined to the sockets as each process's walk ends.
func Scan(ctx context.Context, fsys FS, opts Options) (*Snapshot, error) {
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
	backend, note, err := fsys.backend(opts.Backend)
	if err != nil {
		return nil, err
	}
	if note != "" {
		snap.Notes = append(snap.Notes, note)
	}
	if snap.System, err = fsys.readSystem(); err != nil {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("some system counters are missing: %v", err))
	}
	pids, err := fsys.listPIDs(opts.PIDs, &snap.Warnings)
	if err != nil {
		return nil, err
	}

	// 1. Namespaces, and the --name selection.
	meta := newMetaReader(ctx, fsys)
	var self map[int]bool
	if opts.Name != "" {
		self = fsys.selfAndWrappers(meta)
	}
	procs := make([]procScan, 0, len(pids))
	nsMembers := make(map[uint64][]int) // namespace -> processes in it, to read its tables through
	for _, pid := range pids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := Process{PID: pid}
		if opts.Name != "" && (self[pid] || !meta.fill(&p) || !matchName(&p, opts.Name)) {
			continue
		}
		ns, err := fsys.readNetNS(fsys.path(strconv.Itoa(pid), "ns", "net"))
		var pe *ParseError
		switch {
		case errors.Is(err, fs.ErrPermission):
			snap.Denied++
			continue
		case errors.As(err, &pe):
			// Not a namespace we can name: keep the process and the
			// sockets it owns, but do not read tables through it.
			snap.Warnings = append(snap.Warnings, fmt.Sprintf("pid %d: network namespace unknown: %v", pid, err))
			procs = append(procs, procScan{p: p, named: opts.Name != ""})
			continue
		case err != nil:
			// Gone since we listed it (ENOENT, ESRCH): PIDs can vanish
			// between getting the list and reading their files.
			continue
		}
		p.NetNS = ns
		procs = append(procs, procScan{p: p, named: opts.Name != ""})
		nsMembers[ns] = append(nsMembers[ns], pid)
	}

	// 2. Every namespace's sockets, once, and 3. the fd walk, side by
	// side: the walk needs no table to read descriptors, and the two are
	// the whole cost of a scan. The walk narrows once the tables are in:
	// after a dump the kernel filtered (--state, check's thresholds) it
	// keeps only the inodes that can match, and with none it only counts.
	estimate := int(snap.System.TCPInUse + snap.System.TCPTimeWait)
	var tables tableSet
	var wanted map[uint64]int32
	var socks []Socket
	// The owners are joined to the sockets beside the walk too, each
	// process as soon as both its walk and the tables are in.
	walked := make(chan int, len(procs))
	if fsys.live {
		// This process first, and alone: the scan's own descriptors (the
		// dump's socket, the other walkers' directories) come and go
		// beside the walk, and would make its count flicker.
		if i := slices.IndexFunc(procs, func(ps procScan) bool { return ps.p.PID == os.Getpid() }); i >= 0 {
			fsys.walkProcess(newFDWalker(fsys.procfs), &procs[i], nil, false, meta)
			procs[i].walked = true
			walked <- i
		}
	}
	walkCtx, cancelWalk := context.WithCancel(ctx)
	defer cancelWalk()
	mode := walkMode{tablesRead: make(chan struct{}), walked: walked}
	errc := make(chan error, 1)
	joined := make(chan struct{})
	go func() {
		defer close(joined)
		var err error
		if tables, err = fsys.readAllTables(backend, nsMembers, opts, estimate); err != nil {
			cancelWalk() // the scan has failed: stop walking
		} else {
			socks, wanted = snap.filterSockets(tables.sockets, opts)
			if len(opts.States) > 0 || len(opts.DumpStates) > 0 {
				mode.keep = func(ino uint64) bool { _, ok := wanted[ino]; return ok }
				mode.countOnly = len(wanted) == 0 && fsys.procfs
			}
		}
		close(mode.tablesRead)
		errc <- err
		if err != nil {
			return
		}
		j := newOwnerJoin(socks, wanted)
		for i := range walked {
			j.add(&procs[i])
		}
		j.finish()
	}()
	werr := fsys.walkAll(walkCtx, procs, &mode, meta)
	close(walked)
	if err := <-errc; err != nil {
		return nil, err
	}
	<-joined
	if werr != nil {
		return nil, werr
	}
	snap.Backend, snap.HostNetNS = tables.backend, tables.hostNS
	snap.Warnings = append(snap.Warnings, tables.warnings...)
	snap.Notes = append(snap.Notes, tables.notes...)

	for i := range procs {
		ps := &procs[i]
		switch {
		case errors.Is(ps.err, fs.ErrPermission):
			snap.Denied++
			continue
		case ps.err != nil:
			continue // exited during the scan
		}
		if ps.warning != "" {
			snap.Warnings = append(snap.Warnings, ps.warning)
		}
		snap.Processes = append(snap.Processes, ps.p)
	}
	switch {
	case snap.Selected && len(snap.Processes) == 0 && snap.Denied == 0:
		return nil, fmt.Errorf("%w %s", ErrNoMatch, describeSelection(opts))
	case snap.Selected && len(snap.Processes) == 0:
		return nil, fmt.Errorf("%s: %s %w; %s", describeSelection(opts),
			wording.Count(snap.Denied, "process matches but", "processes match but"), ErrDenied, deniedHint())
	case snap.Denied > 0:
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("%s not be inspected (permission denied); %s",
			wording.Count(snap.Denied, "process could", "processes could"), deniedHint()))
	}

	// 4. Without --pid or --name, every socket stays, owned or not; with
	// them, only the selected processes' sockets.
	unowned := 0
	snap.Sockets = socks[:0]
	for _, s := range socks {
		if snap.Selected && len(s.PIDs) == 0 {
			continue
		}
		if s.Inode != 0 && len(s.PIDs) == 0 {
			unowned++
		}
		snap.Sockets = append(snap.Sockets, s)
	}
	if unowned > 0 {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf(
			"%s an owner that could not be identified (it exited, or could not be inspected); they are shown with owner \"?\"", wording.Count(unowned, "socket has", "sockets have")))
	}
	return snap, nil
}

// filterSockets filters the sockets in place, notes the listeners, and
// indexes the kept sockets that have an inode, for the owners. (Socket
// inodes are unique across namespaces: sockfs is one.)
func (snap *Snapshot) filterSockets(all []Socket, opts Options) ([]Socket, map[uint64]int32) {
	kept := all[:0]
	wanted := make(map[uint64]int32, len(all))
	for _, s := range all {
		if s.State == Listen {
			snap.Listeners = append(snap.Listeners, Listener{NetNS: s.NetNS, Addr: s.Local})
		}
		if !opts.keep(&s) {
			continue
		}
		if s.Inode != 0 {
			wanted[s.Inode] = int32(len(kept))
		}
		kept = append(kept, s)
	}
	return kept, wanted
}

// ownerJoin puts the pids of walked processes into the sockets they hold.
// Most sockets have one owner, so those share one backing array, and a
// shared socket's list grows on its own.
type ownerJoin struct {
	socks  []Socket
	wanted map[uint64]int32 // socket inode -> index in socks
	pids   []int            // the shared backing array
	shared []int32          // sockets with more than one owner
}

func newOwnerJoin(socks []Socket, wanted map[uint64]int32) *ownerJoin {
	return &ownerJoin{socks: socks, wanted: wanted, pids: make([]int, 0, len(wanted))}
}

// add joins one walked process; those that could not be walked own nothing.
func (j *ownerJoin) add(ps *procScan) {
	if ps.err != nil {
		return
	}
	pid := ps.p.PID
	for _, ino := range ps.sockets {
		i, ok := j.wanted[ino]
		if !ok {
			continue // a socket of another family, or filtered out
		}
		s := &j.socks[i]
		switch {
		case len(s.PIDs) == 0 && len(j.pids) < cap(j.pids):
			j.pids = append(j.pids, pid)
			s.PIDs = j.pids[len(j.pids)-1 : len(j.pids) : len(j.pids)]
		case len(s.PIDs) == 0:
			s.PIDs = []int{pid}
		case s.PIDs[len(s.PIDs)-1] != pid: // not a dup in the same process
			if len(s.PIDs) == 1 {
				j.shared = append(j.shared, i)
			}
			s.PIDs = append(s.PIDs, pid)
		}
	}
	ps.sockets = nil
}

// finish sorts the owners of shared sockets: processes are joined in the
// order their walks end.
func (j *ownerJoin) finish() {
	for _, i := range j.shared {
		slices.Sort(j.socks[i].PIDs)
	}
}

// procScan is one process on its way through the scan.
type procScan struct {
	p       Process
	named   bool     // metadata already read for --name
	sockets []uint64 // inodes of the wanted sockets it holds
	warning string
	err     error
	walked  bool
}

// walkMode is what a walk keeps. It changes once, when tablesRead is
// closed: from then on keep (nil keeps every socket inode) and countOnly
// (count descriptors, no socket can match) apply. The walk sends the index
// of each process it has walked to walked.
type walkMode struct {
	tablesRead chan struct{}
	keep       func(uint64) bool
	countOnly  bool
	walked     chan<- int
}

// now returns what the walk of the next process keeps.
func (m *walkMode) now() (keep func(uint64) bool, countOnly bool) {
	select {
	case <-m.tablesRead:
		return m.keep, m.countOnly
	default:
		return nil, false
	}
}

// walkAll walks the fd directories of procs in parallel, as mode says.
//
// The walk is readlink after readlink on many threads, and the dump beside
// it is one chain of recvmsg calls, as costly in the kernel as a third of
// the walk: given an equal share of the cores, the dump would finish last.
// So until the tables are read one core is left to them (on a single core
// the two take turns), and then the walk takes every core. A few more
// workers than cores keep them busy.
func (fsys FS) walkAll(ctx context.Context, procs []procScan, mode *walkMode, meta *metaReader) error {
	order := fsys.walkOrder(procs)
	workers := min(len(order), max(2, 2*runtime.GOMAXPROCS(0)))
	early := max(1, runtime.GOMAXPROCS(0)-1)
	next := make(chan int)
	var wg sync.WaitGroup
	for k := range workers {
		wg.Go(func() {
			if k >= early {
				select {
				case <-mode.tablesRead:
				case <-ctx.Done():
					return
				}
			}
			w := newFDWalker(fsys.procfs)
			for i := range next {
				keep, countOnly := mode.now()
				fsys.walkProcess(w, &procs[i], keep, countOnly, meta)
				mode.walked <- i
			}
		})
	}
	var err error
	for _, i := range order {
		if err = ctx.Err(); err != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return err
}

// walkOrder lists the processes of procs still to walk, those with most
// descriptors first where the fd directory's size tells (Linux 6.2+). One
// process's descriptors are best read by one walker (two in the same table
// contend for its locks, and each went slower than one alone), so a
// leaking process with thousands of sockets must not be the last to
// start, with the other walkers idle.
func (fsys FS) walkOrder(procs []procScan) []int {
	order := make([]int, 0, len(procs))
	sizes := make([]int64, len(procs))
	for i := range procs {
		if procs[i].walked {
			continue
		}
		order = append(order, i)
		var st unix.Stat_t
		if fsys.procfs && unix.Stat(fsys.path(strconv.Itoa(procs[i].p.PID), "fd"), &st) == nil {
			sizes[i] = st.Size
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sizes[b], sizes[a]) })
	return order
}

// walkProcess fills a process's descriptors, limits and, unless --name
// read them already, its name, user and command line.
func (fsys FS) walkProcess(w *fdWalker, ps *procScan, keep func(uint64) bool, countOnly bool, meta *metaReader) {
	fsys.walkFDs(w, ps, keep, countOnly)
	if ps.err == nil && !ps.named && !meta.fill(&ps.p) {
		ps.err = fs.ErrNotExist // gone
	}
}

// walkFDs fills a process's descriptors and limits.
func (fsys FS) walkFDs(w *fdWalker, ps *procScan, keep func(uint64) bool, countOnly bool) {
	dir := fsys.path(strconv.Itoa(ps.p.PID))
	fdDir := filepath.Join(dir, "fd")
	if ps.err = fsys.fault(fdDir); ps.err != nil {
		return
	}
	if countOnly {
		ps.p.FDs, ps.err = w.countFDs(fdDir)
		ps.p.SocketFDs = -1
	} else {
		t := fdTable{sockets: ps.sockets}
		ps.err = w.walk(fdDir, keep, &t)
		ps.p.FDs, ps.p.SocketFDs, ps.sockets = t.open, t.socketFDs, t.sockets
	}
	if ps.err != nil || ps.p.FDs == 0 { // kernel threads have no descriptors and no budget to check
		return
	}
	lim, err := readLimits(filepath.Join(dir, "limits"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ps.err = err // gone
	case err != nil:
		// An unreadable limits file must not hide the process and the
		// sockets it owns: the limits stay 0, "could not be read".
		ps.warning = fmt.Sprintf("pid %d: fd limits unknown: %v", ps.p.PID, err)
	default:
		ps.p.FDSoftLimit, ps.p.FDHardLimit = lim.OpenFilesSoft, lim.OpenFilesHard
	}
}

// geteuid is os.Geteuid; tests stand in for root and for another user.
var geteuid = os.Geteuid

// deniedHint says what to do about processes whose descriptors may not be
// read.
func deniedHint() string {
	if geteuid() == 0 {
		// Root reads every /proc/PID/fd unless something stronger says no.
		return "even root may not read their descriptors here (a security module such as Yama or AppArmor, or another user namespace)"
	}
	return "run as root for complete ownership"
}

func describeSelection(o Options) string {
	var parts []string
	for _, p := range o.PIDs {
		parts = append(parts, "--pid "+strconv.Itoa(p))
	}
	if o.Name != "" {
		parts = append(parts, fmt.Sprintf("--name %q", o.Name))
	}
	return strings.Join(parts, " ")
}

// selfAndWrappers returns, when the proc root shows this process, its PID
// and those of the ancestors whose command line contains its own, quotes
// aside: the shell (sh -c '...' from cron), sudo or timeout that started
// it. The text of --name is on all their command lines, and a check for a
// service that is not running must not find sockleak instead.
func (fsys FS) selfAndWrappers(meta *metaReader) map[int]bool {
	pid := os.Getpid()
	if link, err := os.Readlink(fsys.path("self")); err != nil || link != strconv.Itoa(pid) {
		return nil // a proc root of another pid namespace, or a fixture tree
	}
	me := Process{PID: pid}
	if !meta.fill(&me) || me.Cmdline == "" {
		return map[int]bool{pid: true}
	}
	skip := map[int]bool{pid: true}
	for range 64 { // a bound, should the parent links loop in a broken tree
		var err error
		if pid, err = fsys.parentPID(pid); err != nil || pid <= 1 {
			break
		}
		p := Process{PID: pid}
		if !meta.fill(&p) || !strings.Contains(unquote.Replace(p.Cmdline), unquote.Replace(me.Cmdline)) {
			break
		}
		skip[pid] = true
	}
	return skip
}

// unquote drops the shell's quotes, so that sh -c "sockleak check --name
// 'x'" still contains sockleak check --name x.
var unquote = strings.NewReplacer(`'`, "", `"`, "")

func matchName(p *Process, name string) bool {
	name = strings.ToLower(name)
	return strings.Contains(strings.ToLower(p.Name), name) || strings.Contains(strings.ToLower(p.Cmdline), name)
}

// listPIDs lists the numeric entries of the proc root, or checks the ones
// asked for. A requested PID that does not exist is a warning, unless none
// does.
func (fsys FS) listPIDs(want []int, warnings *[]string) ([]int, error) {
	if len(want) > 0 {
		var pids []int
		for _, pid := range slices.Compact(slices.Sorted(slices.Values(want))) {
			if _, err := os.Stat(fsys.path(strconv.Itoa(pid))); err != nil {
				*warnings = append(*warnings, fmt.Sprintf("pid %d: no such process", pid))
				continue
			}
			pids = append(pids, pid)
		}
		return pids, nil
	}
	f, err := os.Open(fsys.root)
	if err != nil {
		return nil, fmt.Errorf("could not read proc root: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("could not read proc root: %w", err)
	}
	var pids []int
	for _, n := range names {
		if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids, nil
}

func readLimits(path string) (ProcLimits, error) {
	f, err := os.Open(path)
	if err != nil {
		return ProcLimits{}, err
	}
	defer f.Close()
	l, err := ParseLimits(f)
	var pe *ParseError
	if errors.As(err, &pe) {
		pe.Path = path
	}
	return l, err
}

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

// CompareSockets orders sockets for output: by namespace, local address,
// remote address, state and inode. Scan leaves them in the kernel's order:
// sorting 100k sockets costs a tenth of a scan, and only listings need it.
func CompareSockets(a, b *Socket) int {
	return cmp.Or(
		cmp.Compare(a.NetNS, b.NetNS),
		a.Local.Compare(b.Local),
		a.Remote.Compare(b.Remote),
		cmp.Compare(a.State, b.State),
		cmp.Compare(a.Inode, b.Inode),
	)
}
