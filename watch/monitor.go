package watch

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// Sample is one observation for a Monitor: a scan and how long it took.
type Sample struct {
	// Snap is the scan. Its processes' start times (Process.StartTime,
	// 0 when unknown) tell a reused PID from the process that had it.
	Snap *inspect.Snapshot
	// Took is how long the sample took. Optional.
	Took time.Duration
}

// Config configures a Monitor.
type Config struct {
	// Window is how far back trends look. Optional: 5 minutes.
	Window     time.Duration
	Thresholds Thresholds
}

// DefaultWindow is the trend window unless Config says.
const DefaultWindow = 5 * time.Minute

// procTrack is what the Monitor remembers of one process.
type procTrack struct {
	key    ProcKey
	name   string
	user   string
	limit  int64
	points []point // within the window, oldest first
	firing map[string]bool
	last   *Alert // the latest alert values, for a resolution after exit
}

// Monitor turns samples into trends and alerts. It keeps state only for
// the processes and sockets of the latest sample, so its memory follows
// what is on the host, not how long it has run. It is not safe for
// concurrent use.
type Monitor struct {
	cfg     Config
	tracker *Tracker // CLOSE_WAIT sockets: when each entered the state
	procs   map[ProcKey]*procTrack
	seq     int
	errors  int
}

// NewMonitor returns a Monitor with no history.
func NewMonitor(cfg Config) *Monitor {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	return &Monitor{
		cfg:     cfg,
		tracker: NewTracker(HandshakeStates),
		procs:   map[ProcKey]*procTrack{},
	}
}

// HandshakeStates are the states of a close handshake under way, whose
// sockets the Monitor follows one by one for their age: how long a socket
// has sat in CLOSE_WAIT, or held in FIN_WAIT2, says whose bug it is.
// ESTABLISHED and LISTEN sockets are long-lived by design, and TIME_WAIT
// ends on a fixed timer: their ages tell nothing, and a busy host has
// many.
var HandshakeStates = []inspect.TCPState{inspect.FinWait1, inspect.FinWait2, inspect.CloseWait, inspect.LastAck, inspect.Closing}

// Failed records a sample that failed at the given time, and returns its
// status: only Seq, Time, Errors and Err are set.
func (m *Monitor) Failed(at time.Time, err error) *Status {
	m.seq++
	m.errors++
	return &Status{Seq: m.seq, Time: at, Errors: m.errors, Err: err}
}

// Observe records one sample and returns its status.
func (m *Monitor) Observe(s Sample) *Status {
	snap := s.Snap
	now := snap.Time
	m.seq++
	st := &Status{
		Seq: m.seq, Time: now, BootTime: snap.System.BootTime, Took: s.Took, States: map[inspect.TCPState]int{},
		Inspected: len(snap.Processes), Denied: snap.Denied, Errors: m.errors, Warnings: snap.Warnings,
	}

	// Per-socket ages: the tracker keeps only the sockets of this sample.
	m.tracker.Observe(snap)
	m.tracker.forget()
	counts := countStates(snap, st.States)
	ages := m.handshakeAges()

	seen := make(map[ProcKey]bool, len(snap.Processes))
	known := m.knownPIDs()
	for i := range snap.Processes {
		p := &snap.Processes[i]
		key := procKey(p.PID, p.StartTime, known)
		seen[key] = true
		tr := m.track(key, p, now, counts[p.PID])
		ps := m.status(tr, p)
		ages.fill(&ps, now)
		st.Alerts = append(st.Alerts, m.evaluate(tr, &ps, now)...)
		if ps.Sockets > 0 || len(ps.Firing) > 0 {
			st.Processes = append(st.Processes, ps)
		}
	}
	st.Alerts = append(st.Alerts, m.dropExited(seen, now)...)
	tellApart(st, snap.Processes)
	sortAlerts(st.Alerts)
	sortWorstFirst(st.Processes)
	return st
}

// countStates counts the sample's sockets by state into states, and
// returns each process's counts by state.
func countStates(snap *inspect.Snapshot, states map[inspect.TCPState]int) map[int]*[nStates]int32 {
	counts := make(map[int]*[nStates]int32, len(snap.Processes))
	for i := range snap.Sockets {
		so := &snap.Sockets[i]
		states[so.State]++
		if int(so.State) >= nStates {
			continue
		}
		for _, pid := range so.PIDs {
			c := counts[pid]
			if c == nil {
				c = new([nStates]int32)
				counts[pid] = c
			}
			c[so.State]++
		}
	}
	return counts
}

// ages is what the tracker says of each process's sockets in the
// HandshakeStates.
type ages struct {
	since   map[int]map[inspect.TCPState]time.Time // per process, the oldest Since of each state
	cwPeers map[int]map[string]int                 // per process, its CLOSE_WAIT sockets by peer
}

func (m *Monitor) handshakeAges() ages {
	a := ages{since: map[int]map[inspect.TCPState]time.Time{}, cwPeers: map[int]map[string]int{}}
	for _, l := range m.tracker.seen {
		for _, pid := range l.PIDs {
			o := a.since[pid]
			if o == nil {
				o = map[inspect.TCPState]time.Time{}
				a.since[pid] = o
			}
			if t, ok := o[l.State]; !ok || l.Since.Before(t) {
				o[l.State] = l.Since
			}
			if l.State != inspect.CloseWait {
				continue
			}
			if a.cwPeers[pid] == nil {
				a.cwPeers[pid] = map[string]int{}
			}
			a.cwPeers[pid][l.Peer]++
		}
	}
	return a
}

// fill sets the process's Oldest and CloseWaitPeer.
func (a ages) fill(ps *ProcStatus, now time.Time) {
	for st, t := range a.since[ps.PID] {
		if ps.Oldest == nil {
			ps.Oldest = map[inspect.TCPState]time.Duration{}
		}
		ps.Oldest[st] = now.Sub(t)
	}
	ps.CloseWaitPeer = topPeer(a.cwPeers[ps.PID])
}

func topPeer(peers map[string]int) string {
	best, n := "", 0
	for p, c := range peers {
		if c > n || (c == n && p < best) {
			best, n = p, c
		}
	}
	return best
}

// knownPIDs maps the PIDs the Monitor follows to their keys.
func (m *Monitor) knownPIDs() map[int]ProcKey {
	known := make(map[int]ProcKey, len(m.procs))
	for k := range m.procs {
		known[k.PID] = k
	}
	return known
}

// procKey is a process's key at this sample. A start time that could not
// be read this time (0: the stat file raced with something) must not make
// a known process look new.
func procKey(pid int, start uint64, known map[int]ProcKey) ProcKey {
	if k, isKnown := known[pid]; start == 0 && isKnown {
		return k
	}
	return ProcKey{PID: pid, Start: start}
}

// track adds the sample's point to the process's track, drops the points
// older than the window, and returns the track.
func (m *Monitor) track(key ProcKey, p *inspect.Process, now time.Time, counts *[nStates]int32) *procTrack {
	tr := m.procs[key]
	if tr == nil {
		tr = &procTrack{key: key, firing: map[string]bool{}}
		m.procs[key] = tr
	}
	tr.name, tr.user, tr.limit = p.Name, p.User, p.FDSoftLimit
	pt := point{at: now, fds: int32(min(p.FDs, math.MaxInt32))}
	if counts != nil {
		pt.counts = *counts
	}
	tr.points = append(tr.points, pt)
	cutoff := now.Add(-m.cfg.Window)
	if i := slices.IndexFunc(tr.points, func(q point) bool { return !q.at.Before(cutoff) }); i > 0 {
		tr.points = append(tr.points[:0], tr.points[i:]...)
	}
	return tr
}

// dropExited forgets the processes the sample did not hold: a process
// that exited resolves its alerts, which dropExited returns.
func (m *Monitor) dropExited(seen map[ProcKey]bool, now time.Time) []Alert {
	var out []Alert
	for key, tr := range m.procs {
		if seen[key] {
			continue
		}
		for _, rule := range ruleOrder {
			if tr.firing[rule] && tr.last != nil {
				a := *tr.last
				a.Time, a.Rule, a.Firing, a.Exited = now, rule, false, true
				a.Threshold = m.threshold(rule)
				out = append(out, a)
			}
		}
		delete(m.procs, key)
	}
	return out
}

// sortAlerts orders alerts by pid; a process that exited first, so that
// when the kernel reused its pid the old one's resolution comes before the
// new one's alerts.
func sortAlerts(alerts []Alert) {
	slices.SortStableFunc(alerts, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(a.PID, b.PID), -cmp.Compare(exited(a), exited(b)),
			cmp.Compare(slices.Index(ruleOrder, a.Rule), slices.Index(ruleOrder, b.Rule)))
	})
}

func exited(a Alert) int {
	if a.Exited {
		return 1
	}
	return 0
}

// sortWorstFirst orders processes the worst first: the most alerts, then
// the soonest to its fd limit, then the most CLOSE_WAIT.
func sortWorstFirst(procs []ProcStatus) {
	soonest := func(p ProcStatus) time.Duration {
		if p.ETA < 0 {
			return math.MaxInt64
		}
		return p.ETA
	}
	slices.SortFunc(procs, func(a, b ProcStatus) int {
		return cmp.Or(
			cmp.Compare(len(b.Firing), len(a.Firing)),
			cmp.Compare(soonest(a), soonest(b)),
			cmp.Compare(b.States[inspect.CloseWait], a.States[inspect.CloseWait]),
			cmp.Compare(b.Rates[inspect.CloseWait], a.Rates[inspect.CloseWait]),
			cmp.Compare(b.Sockets, a.Sockets),
			cmp.Compare(a.PID, b.PID), cmp.Compare(a.Start, b.Start))
	})
}
