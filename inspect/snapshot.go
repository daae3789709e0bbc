package inspect

import (
	"cmp"
	"net/netip"
	"time"
)

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
	// StartTime is when the process started, in clock ticks after boot
	// (PID/stat field 22): with the PID it names the process across scans,
	// as a reused PID comes back with a later start time. Off Linux (no
	// /proc) it is gopsutil's creation time, in ms since the epoch. 0 when
	// it could not be read.
	StartTime uint64
	// State is the state letter of PID/stat (field 3), as the scan read
	// it: 'R' running, 'S' sleeping, 'D' uninterruptible sleep, 'T'
	// stopped (SIGSTOP), 't' stopped by a debugger, 'Z' zombie, 'I' idle
	// kernel thread, ... (proc(5)). 0 when unknown.
	State byte
	// Workload is what the process belongs to (a systemd unit, a
	// container, a Kubernetes pod), from PID/cgroup; KindProcess when
	// the cgroup names none or cannot be read.
	Workload Workload
}

// WorkloadName is the name of the process's workload (Workload.Name):
// its key across restarts.
func (p *Process) WorkloadName() string { return p.Workload.Name(p.Name) }

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

// CompareSockets orders sockets for output: by namespace, local address,
// remote address, state and inode. Scan leaves them in the kernel's order:
// sorting is a noticeable part of a large scan (see docs/performance.md),
// and only listings need it.
func CompareSockets(a, b *Socket) int {
	return cmp.Or(
		cmp.Compare(a.NetNS, b.NetNS),
		a.Local.Compare(b.Local),
		a.Remote.Compare(b.Remote),
		cmp.Compare(a.State, b.State),
		cmp.Compare(a.Inode, b.Inode),
	)
}
