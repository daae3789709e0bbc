package trace

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/symbolize"
	"github.com/sockleak/sockleak/internal/wording"
)

// SchemaVersion is the version of trace's JSON document. Fields are only
// ever added within a version.
const SchemaVersion = 1

// StackNamer symbolises a user stack recorded in process pid (see
// symbolize.Process.Stack for caller and full).
type StackNamer interface {
	Stack(pid int, addrs []uint64, caller uint64, full bool) symbolize.Stack
}

// Report is what a trace found: the sockets opened while it ran that are
// still held in a leak state, grouped by the stack that opened them.
type Report struct {
	SchemaVersion int       `json:"schema_version"`
	Started       time.Time `json:"started"`
	Ended         time.Time `json:"ended"`
	States        []string  `json:"states"`
	Counters      Counters  `json:"counters"`
	Capacity      int       `json:"table_capacity"`
	Groups        []Group   `json:"groups"`
	// Unrecorded counts the sockets held in those states that the trace
	// did not see open: opened before it started, or dropped.
	Unrecorded int `json:"unrecorded"`
}

// Group is the sockets one stack opened.
type Group struct {
	Count  int            `json:"count"`
	States map[string]int `json:"states"`
	// OpenedBy is the innermost frame of the program's own code (not the
	// Go runtime and standard library, not libc): the code to read. Nil
	// when no frame is named.
	OpenedBy *symbolize.Frame `json:"opened_by,omitempty"`
	Stack    symbolize.Stack  `json:"stack"`
	Peers    []PeerCount      `json:"peers"`
	Sockets  []Held           `json:"sockets"`
}

// PeerCount is how many of a group's sockets go to one peer.
type PeerCount struct {
	Peer  string `json:"peer"`
	Count int    `json:"count"`
}

// Held is one socket of a group.
type Held struct {
	Local string `json:"local"`
	Peer  string `json:"peer"`
	State string `json:"state"`
	// Since is when it entered State, and Exact whether the trace saw
	// that change. When it did not, Bound says which side of Since it
	// lies: "before" for a connection accepted already in State (its peer
	// closed before it was accepted), "after" for one that changed State
	// after the trace stopped (Since is then the trace's end).
	Since      time.Time `json:"since"`
	Exact      bool      `json:"exact"`
	Bound      string    `json:"bound,omitempty"`
	AgeSeconds float64   `json:"age_seconds"`
	Opened     time.Time `json:"opened"`
	OpenerPID  int       `json:"opener_pid"`
	Owners     []Owner   `json:"owners"`
}

// Owner is a process holding a descriptor of the socket.
type Owner struct {
	PID      int    `json:"pid"`
	Name     string `json:"name"`
	Workload string `json:"workload,omitempty"`
}

// Build joins a recording to a snapshot taken when it ended: the sockets
// of the snapshot in one of states that the recording saw open, grouped
// by their symbolised opening stack, the largest group first.
func Build(rec *Recording, snap *inspect.Snapshot, namer StackNamer, states []inspect.TCPState) *Report {
	r := &Report{SchemaVersion: SchemaVersion, Started: rec.Started, Ended: rec.Ended, Counters: rec.Counters, Capacity: rec.Capacity, Groups: []Group{}}
	for _, s := range states {
		r.States = append(r.States, s.String())
	}
	byInode := make(map[uint64]*Socket, len(rec.Sockets))
	for i := range rec.Sockets {
		byInode[rec.Sockets[i].Inode] = &rec.Sockets[i]
	}
	procs := map[int]*inspect.Process{}
	for i := range snap.Processes {
		procs[snap.Processes[i].PID] = &snap.Processes[i]
	}
	groups := map[string]*Group{}
	named := map[string]symbolize.Stack{}
	for _, s := range snap.Sockets {
		if !slices.Contains(states, s.State) || s.Inode == 0 {
			continue
		}
		rs := byInode[s.Inode]
		if rs == nil {
			r.Unrecorded++
			continue
		}
		st := nameStack(namer, named, rs)
		key := stackKey(st)
		g := groups[key]
		if g == nil {
			g = &Group{States: map[string]int{}, Stack: st, OpenedBy: openedBy(st)}
			groups[key] = g
		}
		g.Count++
		g.States[s.State.String()]++
		g.Sockets = append(g.Sockets, held(s, rs, procs, rec.Ended))
	}
	for _, g := range groups {
		finishGroup(g)
		r.Groups = append(r.Groups, *g)
	}
	slices.SortFunc(r.Groups, func(a, b Group) int {
		return cmp.Or(b.Count-a.Count, a.Sockets[0].Opened.Compare(b.Sockets[0].Opened))
	})
	return r
}

// nameStack symbolises a recorded socket's stack, once per process and
// stack.
func nameStack(namer StackNamer, named map[string]symbolize.Stack, rs *Socket) symbolize.Stack {
	if len(rs.Stack) == 0 {
		return symbolize.Stack{CutShort: true, Note: cmp.Or(rs.StackErr, symbolize.ErrNoStack.Error())}
	}
	key := fmt.Sprint(rs.TGID, rs.Caller, rs.Stack)
	if st, ok := named[key]; ok {
		return st
	}
	st := namer.Stack(rs.TGID, rs.Stack, rs.Caller, len(rs.Stack) == stackDepth)
	named[key] = st
	return st
}

// stackKey groups stacks that read the same: same functions and lines
// (the same code in two processes, whatever ASLR put where).
func stackKey(st symbolize.Stack) string {
	var b strings.Builder
	for _, f := range st.Frames {
		if f.Named() {
			fmt.Fprintf(&b, "%s|%s|%d\n", f.Function, f.File, f.Line)
		} else {
			fmt.Fprintf(&b, "%s+%x\n", f.Module, f.Offset)
		}
	}
	return b.String() + st.Note
}

func held(s inspect.Socket, rs *Socket, procs map[int]*inspect.Process, end time.Time) Held {
	h := Held{
		Local: s.Local.String(), Peer: s.Remote.String(), State: s.State.String(),
		Since: rs.Since, Exact: rs.Exact && rs.State == s.State, Opened: rs.Opened, OpenerPID: rs.TGID,
	}
	switch {
	case rs.State != s.State:
		h.Since, h.Bound = end, "after"
	case !h.Exact:
		h.Bound = "before"
	}
	h.AgeSeconds = end.Sub(h.Since).Seconds()
	for _, pid := range s.PIDs {
		o := Owner{PID: pid}
		if p := procs[pid]; p != nil {
			o.Name = p.Name
			if p.Workload.Kind != inspect.KindProcess {
				o.Workload = p.WorkloadName()
			}
		}
		h.Owners = append(h.Owners, o)
	}
	return h
}

func finishGroup(g *Group) {
	slices.SortFunc(g.Sockets, func(a, b Held) int { return a.Since.Compare(b.Since) })
	peers := map[string]int{}
	for _, h := range g.Sockets {
		peers[h.Peer]++
	}
	for p, n := range peers {
		g.Peers = append(g.Peers, PeerCount{Peer: p, Count: n})
	}
	slices.SortFunc(g.Peers, func(a, b PeerCount) int { return cmp.Or(b.Count-a.Count, strings.Compare(a.Peer, b.Peer)) })
}

// openedBy is the innermost frame of the program's own code.
func openedBy(st symbolize.Stack) *symbolize.Frame {
	var first *symbolize.Frame
	for i := range st.Frames {
		f := &st.Frames[i]
		if !f.Named() {
			continue
		}
		if first == nil {
			first = f
		}
		if !library(*f) {
			return f
		}
	}
	return first
}

// library reports whether a frame is in the language's runtime and
// standard library rather than the program: libc and the dynamic loader,
// Go's runtime and standard packages (an import path whose first element
// has no dot, but main).
func library(f symbolize.Frame) bool {
	mod := f.Module[strings.LastIndexByte(f.Module, '/')+1:]
	for _, lib := range []string{"libc.so", "libc-", "ld-linux", "libpthread", "libstdc++", "libgo."} {
		if strings.HasPrefix(mod, lib) {
			return true
		}
	}
	fn := f.Function
	slash := strings.LastIndexByte(fn, '/')
	dot := strings.IndexByte(fn[slash+1:], '.')
	if dot < 0 {
		return false // C: send_message
	}
	pkg := fn[:slash+1+dot]
	first, _, _ := strings.Cut(pkg, "/")
	return pkg != "main" && !strings.Contains(first, ".")
}

// MarshalJSON writes started and ended as every time in sockleak's JSON:
// RFC 3339 in UTC to the second (wording.Timestamp), which jq's
// fromdateiso8601 reads; the precise span is ended minus started in the
// text, and each socket's age_seconds.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report // without this method
	return json.Marshal(struct {
		plain
		Started string `json:"started"`
		Ended   string `json:"ended"`
	}{plain(r), wording.Timestamp(r.Started), wording.Timestamp(r.Ended)})
}

// MarshalJSON writes since and opened as Report's times (to the second;
// age_seconds has the precision).
func (h Held) MarshalJSON() ([]byte, error) {
	type plain Held
	return json.Marshal(struct {
		plain
		Since  string `json:"since"`
		Opened string `json:"opened"`
	}{plain(h), wording.Timestamp(h.Since), wording.Timestamp(h.Opened)})
}
