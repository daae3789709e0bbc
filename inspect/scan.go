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
	"slices"
	"strconv"
	"strings"
	"time"
)

// FS is a proc filesystem root. Every reader takes its paths from it.
type FS struct {
	root string
	// faults injects errors for paths relative to root. Tests use it to
	// stand for what a static tree read as root cannot show: a process
	// whose fds are not ours to read, or one that exits mid-scan. Nil in
	// production.
	faults map[string]error
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
	return FS{root: filepath.Clean(root)}, nil
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
	// SocketFDs counts the descriptors that are sockets of any family.
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
	// Sockets are the sockets that passed the filters, in a stable order.
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
}

// Listener is a listening address in a network namespace.
type Listener struct {
	NetNS uint64
	Addr  netip.AddrPort
}

// Options selects what Scan collects. The zero value means everything.
type Options struct {
	PIDs   []int      // only these processes. Optional.
	Name   string     // only processes whose name or command line contains Name (case-insensitive). Optional.
	States []TCPState // only sockets in these states. Optional.
	Ports  []uint16   // only sockets with this local or remote port. Optional.
	Peers  []Peer     // only sockets whose remote address matches. Optional.
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
	var err error
	if snap.System, err = fsys.readSystem(); err != nil {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf("some system counters are missing: %v", err))
	}

	pids, err := fsys.listPIDs(opts.PIDs, &snap.Warnings)
	if err != nil {
		return nil, err
	}
	meta := newMetaReader(ctx, fsys)
	owners := make(map[uint64][]int)
	nsMembers := make(map[uint64][]int) // namespace -> processes in it, to read its tables through
	for _, pid := range pids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := Process{PID: pid}
		if opts.Name != "" {
			if !meta.fill(&p) || !matchName(&p, opts.Name) {
				continue
			}
		}
		fds, err := fsys.readProcess(&p, &snap.Warnings)
		switch {
		case errors.Is(err, fs.ErrPermission):
			snap.Denied++
			continue
		case err != nil:
			// Gone since we listed it (ENOENT, ESRCH): PIDs can vanish
			// between getting the list and reading their files.
			continue
		}
		if opts.Name == "" && !meta.fill(&p) {
			continue
		}
		for _, ino := range fds.sockets {
			if o := owners[ino]; len(o) == 0 || o[len(o)-1] != pid {
				owners[ino] = append(o, pid)
			}
		}
		nsMembers[p.NetNS] = append(nsMembers[p.NetNS], pid)
		snap.Processes = append(snap.Processes, p)
	}
	if snap.Selected && len(snap.Processes) == 0 && snap.Denied == 0 {
		return nil, fmt.Errorf("%w %s", ErrNoMatch, describeSelection(opts))
	}
	if snap.Denied > 0 {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf(
			"%d processes could not be inspected (permission denied); run as root for complete ownership", snap.Denied))
	}

	socks, hostNS, warns, err := fsys.readAllTables(nsMembers)
	if err != nil {
		return nil, err
	}
	snap.HostNetNS = hostNS
	snap.Warnings = append(snap.Warnings, warns...)
	unowned := 0
	for _, s := range socks {
		if s.State == Listen {
			snap.Listeners = append(snap.Listeners, Listener{NetNS: s.NetNS, Addr: s.Local})
		}
		if s.Inode != 0 {
			s.PIDs = owners[s.Inode]
		}
		if snap.Selected && len(s.PIDs) == 0 {
			continue
		}
		if !opts.keep(&s) {
			continue
		}
		if s.Inode != 0 && len(s.PIDs) == 0 {
			unowned++
		}
		snap.Sockets = append(snap.Sockets, s)
	}
	if unowned > 0 {
		snap.Warnings = append(snap.Warnings, fmt.Sprintf(
			"%d sockets have an owner that could not be identified (it exited, or could not be inspected); they are shown with owner \"?\"", unowned))
	}
	sortSockets(snap.Sockets)
	return snap, nil
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

// readProcess fills a process's namespace, descriptors and limits.
func (fsys FS) readProcess(p *Process, warnings *[]string) (fdTable, error) {
	dir := fsys.path(strconv.Itoa(p.PID))
	ns, err := fsys.readNetNS(filepath.Join(dir, "ns", "net"))
	if err != nil {
		return fdTable{}, err
	}
	fds, err := fsys.readFDs(filepath.Join(dir, "fd"))
	if err != nil {
		return fdTable{}, err
	}
	p.NetNS = ns
	p.FDs = fds.open
	p.SocketFDs = len(fds.sockets)
	if fds.open > 0 { // kernel threads have no descriptors and no budget to check
		lim, err := readLimits(filepath.Join(dir, "limits"))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fdTable{}, err // gone
		case err != nil:
			// An unreadable limits file must not hide the process and the
			// sockets it owns: the limits stay 0, "could not be read".
			*warnings = append(*warnings, fmt.Sprintf("pid %d: fd limits unknown: %v", p.PID, err))
		default:
			p.FDSoftLimit, p.FDHardLimit = lim.OpenFilesSoft, lim.OpenFilesHard
		}
	}
	return fds, nil
}

func readLimits(path string) (Limits, error) {
	f, err := os.Open(path)
	if err != nil {
		return Limits{}, err
	}
	defer f.Close()
	l, err := ParseLimits(f)
	var pe *ParseError
	if errors.As(err, &pe) {
		pe.Path = path
	}
	return l, err
}

// readAllTables reads the TCP tables of every network namespace once: the
// proc root's own net/ for the reader's namespace, and PID/net/ of one
// member process for each other namespace, so a container's sockets are
// neither missed nor counted twice.
func (fsys FS) readAllTables(nsMembers map[uint64][]int) (socks []Socket, hostNS uint64, warnings []string, err error) {
	// /proc/net is /proc/self/net: the reader's namespace. In a proc root
	// the reader does not live in (a mounted host /proc), self may not
	// exist: then every namespace is read through its processes.
	hostNS, nsErr := fsys.readNetNS(fsys.path("self", "ns", "net"))
	if nsErr == nil || len(nsMembers) == 0 {
		if nsErr != nil {
			hostNS = 0
		}
		if socks, err = fsys.readTables(fsys.path("net"), hostNS); err != nil {
			return nil, 0, nil, err
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
			s, err := fsys.readTables(fsys.path(strconv.Itoa(pid), "net"), ns)
			var pe *ParseError
			if errors.As(err, &pe) {
				return nil, 0, nil, err
			}
			if err != nil {
				lastErr = err // exited, or not ours to read: try the next member
				continue
			}
			socks = append(socks, s...)
			read = true
			break
		}
		if !read {
			warnings = append(warnings, fmt.Sprintf("network namespace %d: its sockets could not be read: %v", ns, lastErr))
		}
	}
	return socks, hostNS, warnings, nil
}

// readTables reads dir/tcp and dir/tcp6 and marks the sockets with ns. A
// missing tcp6 means IPv6 is disabled, not an error.
func (fsys FS) readTables(dir string, ns uint64) ([]Socket, error) {
	socks, err := ReadNetTCP(filepath.Join(dir, "tcp"), TCP)
	if err != nil {
		return nil, err
	}
	s6, err := ReadNetTCP(filepath.Join(dir, "tcp6"), TCP6)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	socks = append(socks, s6...)
	for i := range socks {
		socks[i].NetNS = ns
	}
	return socks, nil
}

func sortSockets(s []Socket) {
	slices.SortFunc(s, func(a, b Socket) int {
		return cmp.Or(
			cmp.Compare(a.NetNS, b.NetNS),
			a.Local.Compare(b.Local),
			a.Remote.Compare(b.Remote),
			cmp.Compare(a.State, b.State),
			cmp.Compare(a.Inode, b.Inode),
		)
	})
}
