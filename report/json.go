package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"slices"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// SchemaVersion is the version of the JSON document. Fields are only ever
// added within a version; a change of meaning or a removal bumps it.
const SchemaVersion = 1

// Document is the JSON form of a report: an API for scripts, documented
// in the README. Field names never change within a schema version.
type Document struct {
	SchemaVersion int            `json:"schema_version"`
	Time          string         `json:"time"` // RFC 3339
	Hostname      string         `json:"hostname"`
	ProcRoot      string         `json:"proc_root"`
	Backend       string         `json:"backend"` // how sockets were read: netlink, proc or gopsutil
	System        SystemDoc      `json:"system"`
	Processes     []ProcessDoc   `json:"processes"`
	Sockets       []SocketDoc    `json:"sockets"`
	Groups        []GroupDoc     `json:"groups"`
	Findings      []FindingDoc   `json:"findings"`
	Warnings      []string       `json:"warnings"`
	Kernel        map[string]int `json:"kernel_states"`  // sockets no process holds (pid 0), by state
	Unknown       map[string]int `json:"unknown_states"` // sockets whose owner could not be read (pid -1), by state
	// Notes say what the findings left out: sockets younger than the
	// minimum age.
	Notes []string `json:"notes,omitempty"`
}

// SystemDoc holds the system counters.
type SystemDoc struct {
	FilesAllocated     uint64    `json:"file_nr_allocated"`
	FileMax            uint64    `json:"file_max"`
	TCPInUse           uint64    `json:"tcp_inuse"`
	TCPOrphan          uint64    `json:"tcp_orphan"`
	TCPTimeWait        uint64    `json:"tcp_tw"`
	TCPAlloc           uint64    `json:"tcp_alloc"`
	TCPMemPages        uint64    `json:"tcp_mem_pages"`
	TCPFinTimeout      uint64    `json:"tcp_fin_timeout"`
	TCPMaxOrphans      uint64    `json:"tcp_max_orphans"`
	TCPMaxTWBuckets    uint64    `json:"tcp_max_tw_buckets"`
	LocalPortRange     [2]uint16 `json:"ip_local_port_range"`
	ProcessesInspected int       `json:"processes_inspected"`
	ProcessesDenied    int       `json:"processes_denied"`
	HostNetNS          uint64    `json:"host_netns"`
}

// ProcessDoc is a process with its sockets by state.
type ProcessDoc struct {
	PID         int            `json:"pid"`
	Name        string         `json:"name"`
	User        string         `json:"user"`
	Cmdline     string         `json:"cmdline"`
	FDsOpen     int            `json:"fds_open"`
	SocketFDs   int            `json:"socket_fds"`    // -1 when only counted
	FDSoftLimit int64          `json:"fd_soft_limit"` // -1 unlimited, 0 unknown
	FDHardLimit int64          `json:"fd_hard_limit"` // -1 unlimited, 0 unknown
	NetNS       uint64         `json:"netns"`
	States      map[string]int `json:"states"`
	// Queued counts, by state, the sockets among States waiting in the
	// accept queue of a socket it listens on (not accepted yet).
	Queued map[string]int `json:"queued,omitempty"`
	// ProcessState is the state letter of PID/stat ("T" stopped, "t"
	// traced, "D" uninterruptible, "Z" zombie, ...); absent when unknown.
	ProcessState string `json:"process_state,omitempty"`
	// Workload is what the process belongs to, from its cgroup (a
	// systemd unit, a container, a Kubernetes pod); absent when the
	// cgroup could not be read.
	Workload *WorkloadDoc `json:"workload,omitempty"`
}

// WorkloadDoc is a process's workload: its name (its key across
// restarts: the unit, NAMESPACE/POD/CONTAINER or pod/UID, the container,
// or the process name) and the fields of inspect.Workload.
type WorkloadDoc struct {
	Name string `json:"name"`
	inspect.Workload
}

// SocketDoc is one socket.
type SocketDoc struct {
	Proto   string `json:"proto"`
	State   string `json:"state"`
	Local   string `json:"local"`
	Remote  string `json:"remote"`
	Inode   uint64 `json:"inode"`
	UID     uint32 `json:"uid"`
	TxQueue uint64 `json:"tx_queue"`
	RxQueue uint64 `json:"rx_queue"`
	PIDs    []int  `json:"pids"` // empty for sockets no process holds
	NetNS   uint64 `json:"netns"`
	// IdleMs is the time since the socket last sent or received data;
	// present only when the netlink backend could tell.
	IdleMs *uint32 `json:"idle_ms,omitempty"`
	// AgeMs is a lower bound of how long a CLOSE_WAIT or FIN_WAIT2 socket
	// has been in its state (the kernel's time since the last ACK
	// received); present only when the netlink backend could tell.
	AgeMs *uint32 `json:"age_ms,omitempty"`
	// Queued is true for a connection waiting in a listener's accept
	// queue: no descriptor yet, PIDs are the listener's owners.
	Queued bool `json:"queued,omitempty"`
}

// GroupDoc counts sockets by owner, state and peer.
type GroupDoc struct {
	PID   int    `json:"pid"`   // 0 the kernel, -1 unknown owner
	NetNS uint64 `json:"netns"` // the sockets' network namespace, 0 unknown
	State string `json:"state"`
	Peer  string `json:"peer"`
	Count int    `json:"count"`
}

// FindingDoc is one finding.
type FindingDoc struct {
	Severity    string `json:"severity"`
	Kind        string `json:"kind"`
	PID         int    `json:"pid"`
	Name        string `json:"name"`
	State       string `json:"state"` // "" when the finding is not about one state
	Peer        string `json:"peer"`
	Count       int    `json:"count"`
	FDsOpen     int    `json:"fds_open"`
	FDSoftLimit int64  `json:"fd_soft_limit"`
	Message     string `json:"message"`
	Hint        string `json:"hint"`
	// NetNS is the network namespace of the process or of the kernel's
	// sockets; absent for system findings.
	NetNS uint64 `json:"netns,omitempty"`
	// Local is the listening address of an accept_queue finding.
	Local string `json:"local,omitempty"`
}

func stateCounts(m map[inspect.TCPState]int) map[string]int {
	out := make(map[string]int, len(m))
	for s, n := range m {
		if n > 0 {
			out[s.String()] = n
		}
	}
	return out
}

// NewDocument builds the JSON document of a report.
func NewDocument(r *Report) Document {
	d := newDocument(r)
	for _, i := range socketOrder(r.Snapshot.Sockets) {
		d.Sockets = append(d.Sockets, socketDoc(r.Snapshot.Sockets[i]))
	}
	return d
}

// socketOrder returns the indexes of socks in output order
// (inspect.CompareSockets), without copying the sockets.
func socketOrder(socks []inspect.Socket) []int32 {
	order := make([]int32, len(socks))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return inspect.CompareSockets(&socks[a], &socks[b]) })
	return order
}

func socketDoc(s inspect.Socket) SocketDoc {
	sd := SocketDoc{
		Proto: string(s.Proto), State: s.State.String(), Local: s.Local.String(), Remote: s.Remote.String(),
		Inode: s.Inode, UID: s.UID, TxQueue: s.TxQueue, RxQueue: s.RxQueue,
		PIDs: append([]int{}, s.PIDs...), NetNS: s.NetNS,
	}
	if s.HasIdle {
		sd.IdleMs = &s.IdleMs
	}
	if s.HasAge {
		sd.AgeMs = &s.AgeMs
	}
	sd.Queued = s.Queued
	return sd
}

// newDocument builds the document without its sockets.
func newDocument(r *Report) Document {
	snap := r.Snapshot
	sys := snap.System
	d := Document{
		SchemaVersion: SchemaVersion,
		Time:          wording.Timestamp(snap.Time),
		Hostname:      snap.Hostname,
		ProcRoot:      snap.ProcRoot,
		Backend:       string(snap.Backend),
		System: SystemDoc{
			FilesAllocated: sys.FilesAllocated, FileMax: sys.FileMax,
			TCPInUse: sys.TCPInUse, TCPOrphan: sys.TCPOrphan, TCPTimeWait: sys.TCPTimeWait,
			TCPAlloc: sys.TCPAlloc, TCPMemPages: sys.TCPMem, TCPFinTimeout: sys.FinTimeout,
			TCPMaxOrphans: sys.MaxOrphans, TCPMaxTWBuckets: sys.MaxTWBuckets, LocalPortRange: sys.LocalPortRange,
			ProcessesInspected: len(snap.Processes), ProcessesDenied: snap.Denied, HostNetNS: snap.HostNetNS,
		},
		Processes: []ProcessDoc{},
		Sockets:   []SocketDoc{},
		Groups:    make([]GroupDoc, 0, len(r.Groups)),
		Findings:  make([]FindingDoc, 0, len(r.Findings)),
		Warnings:  append([]string{}, snap.Warnings...),
		Kernel:    stateCounts(r.Kernel),
		Unknown:   stateCounts(r.Unknown),
		Notes:     r.Notes,
	}
	for _, p := range r.Processes {
		pd := ProcessDoc{
			PID: p.PID, Name: p.Name, User: p.User, Cmdline: p.Cmdline,
			FDsOpen: p.FDs, SocketFDs: p.SocketFDs, FDSoftLimit: p.FDSoftLimit, FDHardLimit: p.FDHardLimit,
			NetNS: p.NetNS, States: stateCounts(p.States),
		}
		if q := stateCounts(p.Queued); len(q) > 0 {
			pd.Queued = q
		}
		if p.State != 0 {
			pd.ProcessState = string(rune(p.State))
		}
		if p.Workload.Kind != "" {
			pd.Workload = &WorkloadDoc{Name: p.WorkloadName(), Workload: p.Workload}
		}
		d.Processes = append(d.Processes, pd)
	}
	for _, g := range r.Groups {
		d.Groups = append(d.Groups, GroupDoc{PID: g.PID, NetNS: g.NetNS, State: g.State.String(), Peer: g.Peer, Count: g.Count})
	}
	for _, f := range r.Findings {
		state := ""
		if f.State != 0 {
			state = f.State.String()
		}
		d.Findings = append(d.Findings, FindingDoc{
			Severity: f.Severity.String(), Kind: f.Kind, PID: f.PID, Name: f.Name, State: state, Peer: f.Peer,
			Count: f.Count, FDsOpen: f.FDs, FDSoftLimit: f.FDSoftLimit, Message: f.Message, Hint: f.Hint,
			NetNS: f.NetNS, Local: f.Local,
		})
	}
	return d
}

// JSON writes the report as one indented JSON document. The sockets are
// streamed one by one: at 100k sockets, building and encoding them all at
// once would hold the whole output in memory twice.
func JSON(w io.Writer, r *Report) error {
	d := newDocument(r)
	var head bytes.Buffer
	enc := json.NewEncoder(&head)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return err
	}
	// The key is unique: a string value holding it would have its quotes
	// escaped.
	const key = "\n  \"sockets\": ["
	i := bytes.Index(head.Bytes(), []byte(key))
	if i < 0 || len(r.Snapshot.Sockets) == 0 {
		_, err := w.Write(head.Bytes())
		return err
	}
	bw := bufio.NewWriter(w)
	bw.Write(head.Bytes()[:i+len(key)])
	var buf bytes.Buffer
	enc = json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	enc.SetEscapeHTML(false)
	for n, i := range socketOrder(r.Snapshot.Sockets) {
		buf.Reset()
		if err := enc.Encode(socketDoc(r.Snapshot.Sockets[i])); err != nil {
			return err
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n    ")
		bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	bw.WriteString("\n  ]")
	bw.Write(head.Bytes()[i+len(key)+1:]) // past the "]" of the empty list
	return bw.Flush()
}
