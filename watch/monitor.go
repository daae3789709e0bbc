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
	points []point // within the window, oldest first
}

// Monitor turns samples into trends and alerts. It keeps state only for
// the processes and sockets of the latest sample, so its memory follows
// what is on the host, not how long it has run. It is not safe for
// concurrent use.
type Monitor struct {
	cfg       Config
	tracker   *Tracker // CLOSE_WAIT sockets: when each entered the state
	procs     map[ProcKey]*procTrack
	workloads map[string]*wlTrack // by trackName
	seq       int
	errors    int
}

// NewMonitor returns a Monitor with no history.
func NewMonitor(cfg Config) *Monitor {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	return &Monitor{
		cfg:       cfg,
		tracker:   NewTracker(HandshakeStates),
		procs:     map[ProcKey]*procTrack{},
		workloads: map[string]*wlTrack{},
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
	ages := m.handshakeAges(now)

	seen := make(map[ProcKey]bool, len(snap.Processes))
	known := m.knownPIDs()
	all := make([]ProcStatus, len(snap.Processes))
	for i := range snap.Processes {
		p := &snap.Processes[i]
		key := procKey(p.PID, p.StartTime, known)
		seen[key] = true
		all[i] = m.status(m.track(key, p, now, counts[p.PID]), p)
		all[i].track = trackName(p)
		ages.fill(&all[i], now)
	}
	m.dropExited(seen)
	st.Alerts = m.evaluateWorkloads(st, all, now)
	for i := range all {
		if all[i].Sockets > 0 || len(all[i].Firing) > 0 {
			st.Processes = append(st.Processes, all[i])
		}
	}
	tellApart(st, snap.Processes)
	sortAlerts(st.Alerts)
	sortWorstFirst(st.Processes)
	return st
}

// evaluateWorkloads follows the workloads of the sample's processes,
// applies the rules to them, marks each firing rule on the process its
// alert names, fills st.Workloads and returns the alert transitions.
func (m *Monitor) evaluateWorkloads(st *Status, all []ProcStatus, now time.Time) []Alert {
	var alerts []Alert
	byKey := make(map[ProcKey]*ProcStatus, len(all))
	for i := range all {
		byKey[all[i].ProcKey] = &all[i]
	}
	for _, w := range m.observeWorkloads(all, now) {
		tr := m.workloads[w.track]
		if w.Processes == 0 {
			alerts = append(alerts, m.gone(tr, w, now)...)
		} else {
			alerts = append(alerts, m.evaluate(tr, w, now)...)
			if p := byKey[w.Lead]; p != nil {
				p.Firing = append(p.Firing, w.Firing...)
			}
		}
		if w.CloseWait > 0 || len(w.Firing) > 0 || len(w.LimitExits()) > 0 {
			st.Workloads = append(st.Workloads, *w)
		}
	}
	sortWorkloads(st.Workloads)
	return alerts
}

// trackName is the key of a process's workload track: its unit,
// container or pod (WorkloadName), which outlives its pids; a plain
// process's name and command line, so that two python3 scripts are two
// workloads, and one restarted with the same command is the same.
func trackName(p *inspect.Process) string {
	if p.Workload.Named() {
		return p.WorkloadName()
	}
	return p.WorkloadName() + "\x00" + p.Cmdline
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
	cwOld   map[int]int                            // per process, its CLOSE_WAIT sockets seen for CarryAge or longer
	now     time.Time
}

func (m *Monitor) handshakeAges(now time.Time) ages {
	a := ages{since: map[int]map[inspect.TCPState]time.Time{}, cwPeers: map[int]map[string]int{}, cwOld: map[int]int{}, now: now}
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
			if now.Sub(l.Since) >= CarryAge {
				a.cwOld[pid]++
			}
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
	ps.cwOld = a.cwOld[ps.PID]
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
		tr = &procTrack{key: key}
		m.procs[key] = tr
	}
	pt := point{at: now, fds: int32(min(p.FDs, math.MaxInt32))}
	if counts != nil {
		pt.counts = *counts
	}
	tr.points = append(tr.points, pt)
	tr.points = trimBefore(tr.points, now.Add(-m.cfg.Window), func(q point) time.Time { return q.at })
	return tr
}

// dropExited forgets the processes the sample did not hold. (Their
// workloads' tracks remember that they ended.)
func (m *Monitor) dropExited(seen map[ProcKey]bool) {
	for key := range m.procs {
		if !seen[key] {
			delete(m.procs, key)
		}
	}
}

// sortAlerts orders alerts by workload, then pid; resolutions of a
// workload gone first.
func sortAlerts(alerts []Alert) {
	slices.SortStableFunc(alerts, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(a.WorkloadName, b.WorkloadName), cmp.Compare(a.PID, b.PID), -cmp.Compare(exited(a), exited(b)),
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
	slices.SortFunc(procs, func(a, b ProcStatus) int {
		return cmp.Or(
			cmp.Compare(len(b.Firing), len(a.Firing)),
			cmp.Compare(soonest(a.ETA), soonest(b.ETA)),
			cmp.Compare(b.States[inspect.CloseWait], a.States[inspect.CloseWait]),
			cmp.Compare(b.Rates[inspect.CloseWait], a.Rates[inspect.CloseWait]),
			cmp.Compare(b.Sockets, a.Sockets),
			cmp.Compare(a.PID, b.PID), cmp.Compare(a.Start, b.Start))
	})
}

// sortWorkloads orders workloads the worst first: the most alerts, a
// crash loop, the soonest to the fd limit, then the most CLOSE_WAIT.
func sortWorkloads(ws []WorkloadStatus) {
	slices.SortFunc(ws, func(a, b WorkloadStatus) int {
		return cmp.Or(
			cmp.Compare(len(b.Firing), len(a.Firing)),
			cmp.Compare(len(b.LimitExits()), len(a.LimitExits())),
			cmp.Compare(soonest(a.ETA), soonest(b.ETA)),
			cmp.Compare(b.CloseWait, a.CloseWait),
			cmp.Compare(b.Rate, a.Rate),
			cmp.Compare(a.Name, b.Name))
	})
}

// soonest orders times to the fd limit: none (-1) after every estimate.
func soonest(eta time.Duration) time.Duration {
	if eta < 0 {
		return math.MaxInt64
	}
	return eta
}
