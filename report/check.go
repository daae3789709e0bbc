package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// HostPID is the owner of a violation of a host-wide (--total) threshold.
const HostPID = -2

// Metric names, as in perfdata and metric labels.
const (
	MetricFDUsage = "fd_usage"
	// MetricAcceptQueue is a listener whose server is not accepting (the
	// accept_queue finding).
	MetricAcceptQueue = "accept_queue"
)

// Violation is one threshold crossed by one owner.
type Violation struct {
	Severity Severity // Warning or Critical
	// Metric is the state's label ("close_wait") or MetricFDUsage.
	Metric string
	State  inspect.TCPState // 0 for fd usage
	// PID is a process, KernelPID, UnknownPID, or HostPID for --total.
	PID  int
	Name string
	// Peer is the peer with the most sockets in the state, and Others how
	// many other peers there are.
	Peer   string
	Others int
	// Value is the socket count, or for fd usage the percentage of the
	// soft limit, rounded.
	Value int
	// Range is the threshold crossed: Level.Crit when critical, else
	// Warn. Limit is its bound that Value crossed (Range.bound).
	Range       Range
	Limit       float64
	FDs         int   // the process's open fds; 0 for non-processes
	FDSoftLimit int64 // its soft limit, or 0
	SocketFDs   int   // its descriptors that are sockets; -1 when only counted
	// Local is the listening address of an accept_queue violation.
	Local string
	// Detail is the finding's message of an accept_queue violation.
	Detail string
	// owner names the process for people as its findings do (told apart
	// from others of its name, its namespace when not the host's).
	owner string
}

// Owner names the violation's owner: "pid 42 (nginx)", "the kernel",
// "the host".
func (v Violation) Owner() string {
	if v.PID == HostPID {
		return "the host"
	}
	if v.owner != "" {
		return v.owner
	}
	return ownerName(v.PID, v.Name)
}

// Summary is the violation in a few words, for a status line:
// "pid 4242 (openser) 1987 CLOSE_WAIT to 10.0.0.5:7000".
func (v Violation) Summary() string {
	switch {
	case v.Metric == MetricAcceptQueue:
		return fmt.Sprintf("%s not accepting on %s: %d waiting in its accept queue", v.Owner(), v.Local, v.Value)
	case v.State == 0:
		return fmt.Sprintf("%s uses %s", v.Owner(), fdUsage(v.FDs, v.FDSoftLimit))
	}
	s := fmt.Sprintf("%s %d %s", v.Owner(), v.Value, v.State)
	if v.Peer != "" && v.Peer != "*" {
		s += " to " + peerPhrase(v.Peer, v.Others)
	}
	return s
}

// Message is the violation in one line with its threshold and the
// owner's fd usage: what sockleak check prints.
func (v Violation) Message() string {
	if v.Metric == MetricAcceptQueue {
		return v.Detail
	}
	_, crossed := v.Range.bound(float64(v.Value))
	if v.State == 0 {
		s := fmt.Sprintf("%s, %s%%", v.Summary(), crossed)
		if v.SocketFDs >= 0 { // -1: the scan only counted the descriptors
			s += fmt.Sprintf("; %d are sockets", v.SocketFDs)
		}
		if atLimit(v.FDs, v.FDSoftLimit) {
			s += "; " + atLimitNow
		}
		return s
	}
	s := fmt.Sprintf("%s, %s", v.Summary(), crossed)
	if v.PID > 0 {
		s += "; " + fdUsage(v.FDs, v.FDSoftLimit)
		if atLimit(v.FDs, v.FDSoftLimit) {
			s += ": " + atLimitNow
		}
	}
	return s
}

// checkOwner is one holder of sockets in the check.
type checkOwner struct {
	row    ProcessRow
	states map[inspect.TCPState]int
}

// owners lists who the state thresholds apply to: each process, the kernel
// and unknown owners; or the host as one owner with Total.
func (l CheckThresholds) owners(r *Report) []checkOwner {
	if l.Total {
		states := map[inspect.TCPState]int{}
		for i := range r.Snapshot.Sockets {
			if s := &r.Snapshot.Sockets[i]; !tooYoung(s, r.MinAge) {
				states[s.State]++ // a socket shared after fork counts once
			}
		}
		return []checkOwner{{row: ProcessRow{Process: inspect.Process{PID: HostPID}}, states: states}}
	}
	out := make([]checkOwner, 0, len(r.Processes)+2)
	for _, p := range r.Processes {
		out = append(out, checkOwner{row: p, states: r.countedStates(p.PID, p.States)})
	}
	out = append(out,
		checkOwner{row: ProcessRow{Process: inspect.Process{PID: KernelPID, Name: "kernel"}}, states: r.countedStates(KernelPID, r.Kernel)},
		checkOwner{row: ProcessRow{Process: inspect.Process{PID: UnknownPID}}, states: r.countedStates(UnknownPID, r.Unknown)})
	return out
}

// judged reports whether an owner with n sockets in a state is weighed
// against its thresholds: a process always (a minimum, "10:", is its to
// meet), the kernel and unknown owners only when they hold some. Neither
// is a process with a minimum to meet: the kernel's 0 CLOSE_WAIT is no
// violation of "close-wait=10:".
func (o checkOwner) judged(n int) bool {
	return n > 0 || o.row.PID > 0 || o.row.PID == HostPID
}

// countedStates is an owner's count by state less its young sockets.
func (r *Report) countedStates(pid int, states map[inspect.TCPState]int) map[inspect.TCPState]int {
	young := r.Young[pid]
	if len(young) == 0 {
		return states
	}
	out := make(map[inspect.TCPState]int, len(states))
	for st, n := range states {
		out[st] = n - young[st]
	}
	return out
}

// topPeer returns the peer with the most sockets of an owner in a state,
// and how many other peers there are.
func topPeer(groups []Group, pid int, state inspect.TCPState) (peer string, others int) {
	for _, g := range groups {
		if g.PID != pid || g.State != state {
			continue
		}
		if peer == "" {
			peer = g.Peer // groups are sorted biggest first
		} else if g.Peer != peer {
			others++
		}
	}
	return peer, others
}

// topPeerOf is topPeer for an owner of a check: for the host, the peers
// of every owner added up.
func topPeerOf(r *Report, pid int, state inspect.TCPState) (string, int) {
	if pid != HostPID {
		return topPeer(r.Groups, pid, state)
	}
	counts := map[string]int{}
	for _, g := range r.Groups {
		if g.State == state {
			counts[g.Peer] += g.Count
		}
	}
	peers := slices.SortedFunc(maps.Keys(counts), func(a, b string) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b))
	})
	if len(peers) == 0 {
		return "", 0
	}
	return peers[0], len(peers) - 1
}

// Check weighs a report against thresholds and returns those
// crossed, worst first. It is pure: the report holds everything.
func Check(r *Report, l CheckThresholds) []Violation {
	var out []Violation
	for _, o := range l.owners(r) {
		for _, st := range l.states() {
			n := o.states[st]
			sev, crossed, bad := l.States[st].judge(n)
			if !bad || !o.judged(n) {
				continue
			}
			limit, _ := crossed.bound(float64(n))
			peer, others := topPeerOf(r, o.row.PID, st)
			out = append(out, Violation{
				Severity: sev, Metric: st.Label(), State: st, PID: o.row.PID, Name: o.row.Name,
				Peer: peer, Others: others, Value: n, Range: crossed, Limit: limit,
				FDs: o.row.FDs, FDSoftLimit: o.row.FDSoftLimit, SocketFDs: o.row.SocketFDs,
			})
		}
	}
	if l.AcceptQueue {
		out = append(out, acceptQueueViolations(r)...)
	}
	if l.FDUsage != nil {
		// Every inspected process, with TCP sockets or not: any fd counts
		// towards the limit; with --state, --port or --peer only those
		// holding a socket of the view.
		for _, p := range r.fdChecked() {
			if p.FDSoftLimit <= 0 {
				continue // unknown or unlimited: nothing to be near
			}
			pct := percent(usagePercent(p.FDs, p.FDSoftLimit))
			sev, crossed, bad := l.FDUsage.judge(pct)
			if !bad {
				continue
			}
			limit, _ := crossed.bound(float64(pct))
			out = append(out, Violation{
				Severity: sev, Metric: MetricFDUsage, PID: p.PID, Name: p.Name, Value: pct, Range: crossed, Limit: limit,
				FDs: p.FDs, FDSoftLimit: p.FDSoftLimit, SocketFDs: p.SocketFDs,
			})
		}
	}
	rows := make(map[int]*ProcessRow, len(r.Processes))
	for i := range r.Processes {
		rows[r.Processes[i].PID] = &r.Processes[i]
	}
	for i := range out {
		v := &out[i]
		switch row := rows[v.PID]; {
		case row != nil:
			v.owner = r.procName(row)
		case v.PID > 0:
			v.owner = ownerName(v.PID, r.label(v.PID, v.Name))
		}
	}
	slices.SortFunc(out, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(metricRank(a), metricRank(b)),
			cmp.Compare(b.Value, a.Value), cmp.Compare(a.State, b.State), ownerOrder(a.PID, b.PID))
	})
	return out
}

// fdChecked returns the processes whose fd usage a check weighs: every
// inspected one, or with --state, --port or --peer (a filtered view)
// those holding a socket of the view.
func (r *Report) fdChecked() []inspect.Process {
	if !r.Snapshot.Filtered {
		return r.Snapshot.Processes
	}
	var out []inspect.Process
	for _, p := range r.Processes {
		if p.Sockets > 0 {
			out = append(out, p.Process)
		}
	}
	return out
}

// acceptQueueViolations are the accept_queue findings as violations: a
// server that is not accepting fails the check, whatever the counts.
func acceptQueueViolations(r *Report) []Violation {
	var out []Violation
	for _, f := range r.Findings {
		if f.Kind != KindAcceptQueue {
			continue
		}
		out = append(out, Violation{
			Severity: f.Severity, Metric: MetricAcceptQueue, State: inspect.Listen, PID: f.PID, Name: f.Name,
			Local: f.Local, Value: f.Count, FDs: f.FDs, FDSoftLimit: f.FDSoftLimit, SocketFDs: -1, Detail: f.Message,
		})
	}
	return out
}

// metricRank puts a server that is not accepting first (its queue
// explains the counts), then socket counts, then fd usage, whose values
// are percentages.
func metricRank(v Violation) int {
	switch {
	case v.Metric == MetricAcceptQueue:
		return 0
	case v.State == 0:
		return 2
	}
	return 1
}

// Status is the worst severity among violations: Info when there are
// none (OK).
func Status(vs []Violation) Severity {
	s := Info
	for _, v := range vs {
		s = max(s, v.Severity)
	}
	return s
}

// CheckText renders the result of a check for a person and for cron's
// mail: one line per violation, worst first, then a one-line summary and
// the analysis' notes. The scan's warnings are Warnings', for stderr.
func CheckText(w io.Writer, r *Report, l CheckThresholds, vs []Violation) error {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "%-8s  %s\n", strings.ToUpper(v.Severity.String()), v.Message())
	}
	procs := len(r.Snapshot.Processes)
	if len(vs) == 0 {
		fmt.Fprintf(&b, "OK: no threshold exceeded (%s); %s inspected\n", l.describe(), wording.Count(procs, "process", "processes"))
	} else {
		owners := map[int]bool{}
		for _, v := range vs {
			owners[v.PID] = true
		}
		fmt.Fprintf(&b, "FAIL: %s exceeded by %s (%s); %s inspected\n",
			wording.Plural(len(vs), "threshold"), wording.Plural(len(owners), "owner"), l.describe(), wording.Count(procs, "process", "processes"))
	}
	for _, note := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", note)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// CheckDocument is the JSON form of a check: the inspect document with the
// check's status, thresholds and violations added.
type CheckDocument struct {
	Document
	Status     string         `json:"status"` // "ok", "warning" or "critical"
	Total      bool           `json:"total"`  // the state thresholds applied to the host's totals
	Thresholds []ThresholdDoc `json:"limits"`
	Violations []ViolationDoc `json:"violations"`
}

// ThresholdDoc is one threshold of the check and the worst value
// measured.
type ThresholdDoc struct {
	Metric string `json:"metric"` // a state's label, e.g. "close_wait", or "fd_usage"
	// Warn and Crit are the plain maximums (alert above), -1 for a range
	// that is none; WarnRange and CritRange the levels in the plugin range
	// syntax, whatever they are ("10", "10:", "@10:20").
	Warn      float64 `json:"warn"`
	Crit      float64 `json:"crit"`
	WarnRange string  `json:"warn_range"`
	CritRange string  `json:"crit_range"`
	Worst     int     `json:"worst"` // the worst owner's value (the host's with total)
}

// plainMax is a range's plain maximum, or -1 when it is none.
func plainMax(r Range) float64 {
	if n, ok := r.Max(); ok {
		return n
	}
	return -1
}

// ViolationDoc is one threshold crossed.
type ViolationDoc struct {
	Severity    string  `json:"severity"` // "warning" or "critical"
	Metric      string  `json:"metric"`
	State       string  `json:"state"` // "" for fd_usage
	PID         int     `json:"pid"`   // 0 the kernel, -1 unknown owner, -2 the host (total)
	Name        string  `json:"name"`
	Peer        string  `json:"peer"`
	Value       int     `json:"value"` // sockets, or percent of the fd limit for fd_usage
	Limit       float64 `json:"limit"` // the bound of the range crossed
	Range       string  `json:"range"` // the range crossed, in the plugin syntax
	FDsOpen     int     `json:"fds_open"`
	FDSoftLimit int64   `json:"fd_soft_limit"`
	Message     string  `json:"message"`
	// Local is the listening address of an accept_queue violation.
	Local string `json:"local,omitempty"`
}

// CheckJSON writes the check as one indented JSON document.
func CheckJSON(w io.Writer, r *Report, l CheckThresholds, vs []Violation) error {
	d := CheckDocument{
		Document:   NewDocument(r),
		Status:     statusWord(Status(vs)),
		Total:      l.Total,
		Thresholds: []ThresholdDoc{},
		Violations: make([]ViolationDoc, 0, len(vs)),
	}
	for _, m := range Measure(r, l) {
		d.Thresholds = append(d.Thresholds, ThresholdDoc{Metric: m.Metric,
			Warn: plainMax(m.Level.Warn), Crit: plainMax(m.Level.Crit), WarnRange: m.Level.Warn.String(), CritRange: m.Level.Crit.String(), Worst: m.Value})
	}
	for _, v := range vs {
		state := ""
		if v.State != 0 {
			state = v.State.String()
		}
		d.Violations = append(d.Violations, ViolationDoc{
			Severity: v.Severity.String(), Metric: v.Metric, State: state, PID: v.PID, Name: v.Name,
			Peer: v.Peer, Value: v.Value, Limit: v.Limit, Range: v.Range.String(), FDsOpen: v.FDs, FDSoftLimit: v.FDSoftLimit,
			Message: v.Message(), Local: v.Local,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}

// statusWord is the check's status in JSON: "ok" when nothing crossed.
func statusWord(s Severity) string {
	if s == Info {
		return "ok"
	}
	return s.String()
}
