package report

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// Owner PIDs for sockets no process holds.
const (
	// KernelPID owns sockets whose process has let go: TIME_WAIT and
	// orphaned FIN_WAIT1/FIN_WAIT2/LAST_ACK (inode 0).
	KernelPID = 0
	// UnknownPID owns sockets that have an inode but no owner sockleak could
	// read: the process exited, or could not be inspected.
	UnknownPID = -1
)

// Thresholds tune when a finding is raised and how severe it is. Fd
// usage, and the use of a kernel table, are percentages (0-100), as
// everywhere in sockleak.
type Thresholds struct {
	// FDCritical is the fd usage (percent of its soft fd limit) at which
	// a process with CLOSE_WAIT sockets is critical.
	FDCritical float64
	// CloseWaitCritical is the percentage of the soft fd limit that
	// CLOSE_WAIT sockets alone must reach to be critical.
	CloseWaitCritical float64
	// FDPressure and FDPressureCritical are the fd usages (percent of the
	// soft limit) at which any process gets a warning, then a critical
	// fd_pressure.
	FDPressure, FDPressureCritical float64
	// OrphanFinWait2Warning is the number of orphaned FIN_WAIT2 sockets to
	// one peer from which they are a warning, not churn.
	OrphanFinWait2Warning int
	// SystemWarning and SystemCritical are the percentages of a kernel
	// table (TIME_WAIT buckets, orphans, file handles) used for warning
	// and critical.
	SystemWarning, SystemCritical float64
	// MinAge is how long a socket in a leak state (CLOSE_WAIT, FIN_WAIT2)
	// must have been in it to count as leaked, by the kernel's lower bound
	// of its age (inspect.Socket.AgeMs): a client that reads the peer's
	// FIN and closes a moment later passes through CLOSE_WAIT on every
	// request. Younger sockets are still listed, not counted, in the
	// findings and in Check. Sockets whose age is unknown always count;
	// 0 counts every socket.
	MinAge time.Duration
}

// DefaultMinAge is the MinAge of sockleak inspect and check unless
// --min-age says otherwise.
const DefaultMinAge = 3 * time.Second

// DefaultThresholds are the thresholds sockleak inspect uses.
var DefaultThresholds = Thresholds{
	FDCritical:            80,
	CloseWaitCritical:     50,
	FDPressure:            DefaultWarnFDUsage,
	FDPressureCritical:    DefaultCritFDUsage,
	OrphanFinWait2Warning: 10,
	SystemWarning:         50,
	SystemCritical:        90,
	MinAge:                DefaultMinAge,
}

// Report is a snapshot analysed: who holds what, and what is wrong.
type Report struct {
	Snapshot *inspect.Snapshot
	// Processes are the processes worth showing: those holding a socket
	// of the snapshot, those with a finding, and all selected ones when
	// --pid or --name was given, unless --state, --port or --peer hid
	// every socket they hold. Sorted worst first.
	Processes []ProcessRow
	// Kernel and Unknown count the sockets no process holds, by state.
	Kernel, Unknown map[inspect.TCPState]int
	// Groups count sockets by owner, state and peer: owners in the order
	// of Processes, then the kernel, then unknown owners; within an owner
	// by state, biggest first.
	Groups   []Group
	Findings []Finding
	// Young counts, by owner (a process, KernelPID, UnknownPID) and
	// state, the sockets of Processes, Kernel and Unknown that are younger
	// than MinAge: listed, not counted as leaked.
	Young map[int]map[inspect.TCPState]int
	// MinAge is the Thresholds' MinAge the report was analysed with.
	MinAge time.Duration
	// Notes say, once, what the findings left out: the young sockets.
	Notes []string
	// labels name the processes for people: see labels.
	labels map[int]string
}

// ProcessRow is a process and its sockets counted by state.
type ProcessRow struct {
	inspect.Process
	States  map[inspect.TCPState]int
	Sockets int // TCP sockets it holds in the snapshot
	// Queued counts, by state, the sockets among States that wait in the
	// accept queue of a socket it listens on (inspect.Socket.Queued).
	Queued map[inspect.TCPState]int
}

// FDUsage is the percentage of its soft fd limit the process uses, 0
// when the limit is unknown or unlimited.
func (p ProcessRow) FDUsage() float64 { return usagePercent(p.FDs, p.FDSoftLimit) }

// usagePercent is n as a percentage of limit, 0 when the limit is unknown
// or unlimited. The share is taken before the hundredfold, as the
// percentages shown have always been rounded from it.
func usagePercent(n int, limit int64) float64 {
	if limit <= 0 {
		return 0
	}
	return float64(n) / float64(limit) * 100
}

// Group counts the sockets an owner holds in one state to one peer.
type Group struct {
	PID   int    // KernelPID, UnknownPID or a process
	NetNS uint64 // the sockets' network namespace, 0 when unknown
	State inspect.TCPState
	// Peer is the remote IP of an inbound connection (its local port is
	// one a socket in its namespace listens on), so one client's many
	// ephemeral ports are one row; the remote IP:port (the service) of an
	// outbound one; "*" for a listening socket.
	Peer  string
	Count int
}

// Severity ranks findings.
type Severity int

// Severities, least severe first.
const (
	Info Severity = iota
	Warning
	Critical
)

func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Critical:
		return "critical"
	}
	return "info"
}

// MarshalText makes a severity a word in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Finding kinds.
const (
	KindCloseWait  = "close_wait"
	KindFinWait2   = "fin_wait2"
	KindFDPressure = "fd_pressure"
	KindTimeWait   = "time_wait"
	KindOrphans    = "orphans"
	KindFileNr     = "file_nr"
	// KindAcceptQueue is a listener whose accept queue is near full or
	// holds connections their clients gave up on: the server is not
	// accepting.
	KindAcceptQueue = "accept_queue"
)

// Finding is one diagnosis: what is wrong, whose bug it is, what to do.
type Finding struct {
	Severity Severity
	Kind     string
	PID      int    // 0 for the kernel and for system findings
	Name     string // process name
	// NetNS is the network namespace of the process, or of the kernel's
	// sockets; 0 for system findings.
	NetNS uint64
	// Local is the listening address of an accept_queue finding.
	Local string
	State inspect.TCPState
	Peer  string // the peer with the most sockets
	Count int
	FDs   int
	// FDSoftLimit is the process's soft fd limit (Unlimited, or 0 when
	// unknown or not a process finding).
	FDSoftLimit int64
	Message     string
	Hint        string
}

// Analyze groups a snapshot's sockets and diagnoses them. Every owner in
// a socket's PIDs is one of the snapshot's processes, as Scan gives them:
// a socket no process of the snapshot holds has no PIDs, and is the
// kernel's (inode 0) or an unknown owner's.
func Analyze(snap *inspect.Snapshot, th Thresholds) *Report {
	r := &Report{
		Snapshot: snap,
		Kernel:   map[inspect.TCPState]int{},
		Unknown:  map[inspect.TCPState]int{},
		Young:    map[int]map[inspect.TCPState]int{},
		MinAge:   th.MinAge,
	}
	rows := make(map[int]*ProcessRow, len(snap.Processes))
	for i := range snap.Processes {
		p := snap.Processes[i]
		rows[p.PID] = &ProcessRow{Process: p, States: map[inspect.TCPState]int{}, Queued: map[inspect.TCPState]int{}}
	}
	r.Groups = r.group(rows)
	r.Findings = diagnose(r, rows, th)
	r.Notes = r.youngNotes()
	worst := make(map[int]Severity)
	for _, f := range r.Findings {
		if f.PID > 0 {
			worst[f.PID] = max(worst[f.PID], f.Severity+1) // +1: any finding ranks above none
		}
	}
	for pid, row := range rows {
		if row.Sockets > 0 || worst[pid] > 0 || snap.Selected && !snap.Filtered {
			r.Processes = append(r.Processes, *row)
		}
	}
	slices.SortFunc(r.Processes, func(a, b ProcessRow) int {
		return cmp.Or(cmp.Compare(worst[b.PID], worst[a.PID]), cmp.Compare(b.Sockets, a.Sockets), cmp.Compare(a.PID, b.PID))
	})
	r.orderGroups()
	return r
}

// group counts the sockets into their owners' rows, the kernel's and
// unknown owners' states, and groups by owner, state and peer, sorted by
// owner and state, biggest first.
func (r *Report) group(rows map[int]*ProcessRow) []Group {
	listening := r.Snapshot.ListenIndex()
	// Peers are keyed by address, not by string: formatting each one
	// would cost an allocation per socket.
	type groupKey struct {
		pid   int
		ns    uint64
		state inspect.TCPState
		peer  peerKey
	}
	groups := make(map[groupKey]int)
	young := func(pid int, st inspect.TCPState) {
		if r.Young[pid] == nil {
			r.Young[pid] = map[inspect.TCPState]int{}
		}
		r.Young[pid][st]++
	}
	for i := range r.Snapshot.Sockets {
		s := &r.Snapshot.Sockets[i]
		peer := peerOf(s, listening)
		isYoung := tooYoung(s, r.MinAge)
		switch {
		case len(s.PIDs) > 0:
			for _, pid := range s.PIDs {
				// Scan lists only the processes it could read as owners;
				// a snapshot built by hand may name others: they are
				// grouped, not counted in a row they do not have.
				if row := rows[pid]; row != nil {
					row.States[s.State]++
					row.Sockets++
					if s.Queued {
						row.Queued[s.State]++
					}
				}
				if isYoung {
					young(pid, s.State)
				}
				groups[groupKey{pid, s.NetNS, s.State, peer}]++
			}
		case s.Inode == 0:
			r.Kernel[s.State]++
			if isYoung {
				young(KernelPID, s.State)
			}
			groups[groupKey{KernelPID, s.NetNS, s.State, peer}]++
		default:
			r.Unknown[s.State]++
			if isYoung {
				young(UnknownPID, s.State)
			}
			groups[groupKey{UnknownPID, s.NetNS, s.State, peer}]++
		}
	}
	var out []Group
	for k, n := range groups {
		out = append(out, Group{PID: k.pid, NetNS: k.ns, State: k.state, Peer: k.peer.String(), Count: n})
	}
	slices.SortFunc(out, func(a, b Group) int {
		return cmp.Or(ownerOrder(a.PID, b.PID), cmp.Compare(a.State, b.State), cmp.Compare(b.Count, a.Count),
			cmp.Compare(a.Peer, b.Peer), cmp.Compare(a.NetNS, b.NetNS))
	})
	return out
}

// orderGroups puts the groups in the processes' order, worst first, so
// the top peers read in the same order as the table above them.
func (r *Report) orderGroups() {
	rank := make(map[int]int, len(r.Processes))
	for i, p := range r.Processes {
		rank[p.PID] = i
	}
	slices.SortStableFunc(r.Groups, func(a, b Group) int {
		ra, oka := rank[a.PID]
		rb, okb := rank[b.PID]
		switch {
		case oka && okb:
			return cmp.Compare(ra, rb)
		case oka != okb: // processes before the kernel and unknown owners
			if oka {
				return -1
			}
			return 1
		}
		return 0
	})
}

// ownerOrder sorts processes by PID, then the kernel, then unknown owners.
func ownerOrder(a, b int) int {
	rank := func(pid int) int {
		switch pid {
		case KernelPID:
			return 1
		case UnknownPID:
			return 2
		}
		return 0
	}
	return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b))
}

// peerKey is a peer for grouping: see Group.Peer. The port is 0 for an
// inbound peer (the client's IP alone).
type peerKey struct {
	addr   netip.AddrPort
	listen bool
}

func (k peerKey) String() string {
	switch {
	case k.listen:
		return "*"
	case k.addr.Port() == 0:
		return k.addr.Addr().String()
	}
	return k.addr.String()
}

func peerOf(s *inspect.Socket, listening inspect.ListenIndex) peerKey {
	switch {
	case s.State == inspect.Listen:
		return peerKey{listen: true}
	case listening.Inbound(s):
		return peerKey{addr: netip.AddrPortFrom(s.Remote.Addr(), 0)}
	}
	return peerKey{addr: s.Remote}
}

// PeerName names a socket's peer as the groups do: the remote IP of an
// inbound connection, the remote IP:port of an outbound one, "*" for a
// listener.
func PeerName(s *inspect.Socket, listening inspect.ListenIndex) string {
	return peerOf(s, listening).String()
}

// ownerName names an owner for messages: "pid 42 (nginx)", "the
// kernel".
func ownerName(pid int, name string) string {
	switch pid {
	case KernelPID:
		return "the kernel"
	case UnknownPID:
		return "an unknown process"
	}
	return fmt.Sprintf("pid %d (%s)", pid, name)
}
