package watch

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// Sample is one observation for a Monitor: a snapshot, and the start time
// of its processes so that a reused PID reads as a new process.
type Sample struct {
	Snap *inspect.Snapshot
	// Start maps a PID to its start time (inspect.FS.StartTime). A PID
	// missing from it has start time 0. Optional.
	Start map[int]uint64
	// Took is how long the sample took. Optional.
	Took time.Duration
}

// Thresholds are the alert thresholds of sockleak watch. Each alert fires
// once when its value crosses the threshold and resolves once when it falls
// back past a lower level (hysteresis), so a value hovering at the
// threshold does not flap.
type Thresholds struct {
	// CloseWait fires close_wait when a process holds more CLOSE_WAIT
	// sockets than this; it resolves at 3/4 of it or fewer. Negative: off.
	CloseWait int
	// MaxAge fires close_wait_age when a process's oldest CLOSE_WAIT socket
	// is this old; it resolves when no socket that old is left. 0: off.
	MaxAge time.Duration
	// FDUsage fires fd_usage when a process uses this percentage of its
	// soft fd limit or more; it resolves 5 points below. 0: off.
	FDUsage float64
	// ETA fires fd_limit_eta when a process's descriptors grow and the
	// trend reaches its soft limit in less than this; it resolves when
	// they stop growing or the estimate is 1.5 times ETA or more. 0: off.
	ETA time.Duration
}

// The alert rules.
const (
	RuleCloseWait    = "close_wait"
	RuleCloseWaitAge = "close_wait_age"
	RuleFDUsage      = "fd_usage"
	RuleFDLimitETA   = "fd_limit_eta"
)

var ruleOrder = []string{RuleCloseWait, RuleCloseWaitAge, RuleFDUsage, RuleFDLimitETA}

// Config configures a Monitor.
type Config struct {
	// Window is how far back trends look. Optional: 5 minutes.
	Window time.Duration
	Rules  Thresholds
}

// DefaultWindow is the trend window unless Config says.
const DefaultWindow = 5 * time.Minute

// minTrendPoints is the fewest samples a trend is fitted to: two points
// make a line through any noise.
const minTrendPoints = 3

// minETAGrowth is the fewest descriptors a process must have gained over
// the window before its time to the limit is estimated: one log file or
// DNS socket opened between two samples is not a leak, though a line
// through it reaches the limit soon enough.
const minETAGrowth = 5

// maxETA is the longest time to the fd limit worth estimating.
const maxETA = 365 * 24 * time.Hour

// ProcKey identifies a process across samples: a PID the kernel reuses
// comes back with another start time.
type ProcKey struct {
	PID   int
	Start uint64 // clock ticks after boot (PID/stat field 22); 0 when unknown
}

// nStates sizes per-state arrays indexed by inspect.TCPState (0 unused).
const nStates = int(inspect.NewSynRecv) + 1

// point is one sample of one process.
type point struct {
	at     time.Time
	fds    int32
	counts [nStates]int32
}

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

// Status is what one sample showed, with the trends and the alert
// transitions it caused.
type Status struct {
	Seq  int // the sample's number, from 1
	Time time.Time
	Took time.Duration
	// States counts the view's sockets by state (the host's totals on an
	// unfiltered scan).
	States map[inspect.TCPState]int
	// Processes are the processes that hold a socket of the view or have
	// a firing alert, the worst first: firing alerts, then CLOSE_WAIT
	// sockets, their growth, all sockets, PID.
	Processes []ProcStatus
	// Inspected and Denied count the processes read and those that could
	// not be (permission denied).
	Inspected, Denied int
	// Errors counts the samples that failed so far; Err is this sample's
	// error, if it failed (then only Seq, Time and Errors are set).
	Errors   int
	Err      error
	Warnings []string
	// Alerts are the transitions at this sample: rules that fired and
	// rules that resolved.
	Alerts []Alert
}

// ProcStatus is one process at one sample.
type ProcStatus struct {
	ProcKey
	Name, User string
	States     map[inspect.TCPState]int // its sockets by state
	Sockets    int                      // all its TCP sockets
	FDs        int                      // open descriptors
	// FDLimit is the soft limit on open files: inspect.Unlimited (-1)
	// when unlimited, 0 when unknown.
	FDLimit int64
	// Rates are the growth of each state the process held in the window,
	// in sockets per minute (least squares over the window); FDRate the
	// same for its descriptors. Absent (and 0) until the window holds
	// enough samples.
	Rates  map[inspect.TCPState]float64
	FDRate float64
	// ETA is the time until the descriptors reach the soft limit at FDRate;
	// -1 when they do not grow or the limit is unknown or unlimited.
	ETA time.Duration
	// CloseWaitOldest is how long its oldest CLOSE_WAIT socket has been
	// seen in the state: a lower bound, counted from the first sample that
	// saw it (a socket already there when watch started may be much
	// older); CloseWaitPeer the peer most of its CLOSE_WAIT sockets go to.
	CloseWaitOldest time.Duration
	CloseWaitPeer   string
	// Oldest is the same age for each of the HandshakeStates it holds.
	Oldest map[inspect.TCPState]time.Duration
	// History is its CLOSE_WAIT count at each sample of the window, oldest
	// first.
	History []int
	// Firing lists the rules firing for it, in rule order.
	Firing []string
}

// FDUsage is the percentage of the soft limit in use, or -1 when the limit
// is unknown or unlimited.
func (p *ProcStatus) FDUsage() float64 {
	if p.FDLimit <= 0 {
		return -1
	}
	return 100 * float64(p.FDs) / float64(p.FDLimit)
}

// Alert is a rule firing or resolving for a process. It names the process,
// and its CLOSE_WAIT sockets' count, main peer, oldest age and growth, and
// its descriptors against the limit.
type Alert struct {
	Time   time.Time
	Rule   string // RuleCloseWait, ...
	Firing bool   // false: resolved
	// Exited is true when the alert resolved because the process exited.
	Exited bool
	ProcKey
	Name  string
	State inspect.TCPState // the leak state the counts are of: CLOSE_WAIT
	Peer  string
	Count int
	Age   time.Duration // the oldest socket's
	// Rate is the growth in sockets per minute; RateKnown is false until
	// the window holds enough samples for one.
	Rate      float64
	RateKnown bool
	// FDs, FDLimit and ETA as in ProcStatus.
	FDs     int
	FDLimit int64
	ETA     time.Duration
	// Threshold is the rule's threshold, in the rule's unit: sockets,
	// seconds, percent.
	Threshold float64
}

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
		Seq: m.seq, Time: now, Took: s.Took, States: map[inspect.TCPState]int{},
		Inspected: len(snap.Processes), Denied: snap.Denied, Errors: m.errors, Warnings: snap.Warnings,
	}

	// Per-socket ages: the tracker keeps only the sockets of this sample.
	m.tracker.Observe(snap)
	m.tracker.forget()

	// Count per process and state.
	counts := make(map[int]*[nStates]int32, len(snap.Processes))
	for i := range snap.Sockets {
		so := &snap.Sockets[i]
		st.States[so.State]++
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
	since := map[int]map[inspect.TCPState]time.Time{} // per process, the oldest Since of each state
	cwPeers := map[int]map[string]int{}               // per process, its CLOSE_WAIT sockets by peer
	for _, l := range m.tracker.seen {
		for _, pid := range l.PIDs {
			o := since[pid]
			if o == nil {
				o = map[inspect.TCPState]time.Time{}
				since[pid] = o
			}
			if t, ok := o[l.State]; !ok || l.Since.Before(t) {
				o[l.State] = l.Since
			}
			if l.State != inspect.CloseWait {
				continue
			}
			if cwPeers[pid] == nil {
				cwPeers[pid] = map[string]int{}
			}
			cwPeers[pid][l.Peer]++
		}
	}

	seen := make(map[ProcKey]bool, len(snap.Processes))
	cutoff := now.Add(-m.cfg.Window)
	// A start time that could not be read this time (the stat file raced
	// with something) must not make a known process look new.
	known := make(map[int]ProcKey, len(m.procs))
	for k := range m.procs {
		known[k.PID] = k
	}
	for i := range snap.Processes {
		p := &snap.Processes[i]
		key := ProcKey{PID: p.PID, Start: s.Start[p.PID]}
		if _, ok := s.Start[p.PID]; !ok {
			if k, ok := known[p.PID]; ok {
				key = k
			}
		}
		seen[key] = true
		tr := m.procs[key]
		if tr == nil {
			tr = &procTrack{key: key, firing: map[string]bool{}}
			m.procs[key] = tr
		}
		tr.name, tr.user, tr.limit = p.Name, p.User, p.FDSoftLimit
		pt := point{at: now, fds: int32(min(p.FDs, math.MaxInt32))}
		if c := counts[p.PID]; c != nil {
			pt.counts = *c
		}
		tr.points = append(tr.points, pt)
		if i := slices.IndexFunc(tr.points, func(q point) bool { return !q.at.Before(cutoff) }); i > 0 {
			tr.points = append(tr.points[:0], tr.points[i:]...)
		}

		ps := m.status(tr, p)
		for st, t := range since[p.PID] {
			if ps.Oldest == nil {
				ps.Oldest = map[inspect.TCPState]time.Duration{}
			}
			ps.Oldest[st] = now.Sub(t)
		}
		ps.CloseWaitOldest = ps.Oldest[inspect.CloseWait]
		ps.CloseWaitPeer = topPeer(cwPeers[p.PID])
		st.Alerts = append(st.Alerts, m.evaluate(tr, &ps, now)...)
		if ps.Sockets > 0 || len(ps.Firing) > 0 {
			st.Processes = append(st.Processes, ps)
		}
	}
	// Drop what vanished: a process that exited resolves its alerts.
	for key, tr := range m.procs {
		if seen[key] {
			continue
		}
		for _, rule := range ruleOrder {
			if tr.firing[rule] && tr.last != nil {
				a := *tr.last
				a.Time, a.Rule, a.Firing, a.Exited = now, rule, false, true
				a.Threshold = m.threshold(rule)
				st.Alerts = append(st.Alerts, a)
			}
		}
		delete(m.procs, key)
	}
	// By pid; a process that exited first, so that when the kernel reused
	// its pid the old one's resolution comes before the new one's alerts.
	slices.SortStableFunc(st.Alerts, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(a.PID, b.PID), -cmp.Compare(exited(a), exited(b)),
			cmp.Compare(slices.Index(ruleOrder, a.Rule), slices.Index(ruleOrder, b.Rule)))
	})
	// The worst first: the most alerts, then the soonest to its fd limit,
	// then the most CLOSE_WAIT.
	soonest := func(p ProcStatus) time.Duration {
		if p.ETA < 0 {
			return math.MaxInt64
		}
		return p.ETA
	}
	slices.SortFunc(st.Processes, func(a, b ProcStatus) int {
		return cmp.Or(
			cmp.Compare(len(b.Firing), len(a.Firing)),
			cmp.Compare(soonest(a), soonest(b)),
			cmp.Compare(b.States[inspect.CloseWait], a.States[inspect.CloseWait]),
			cmp.Compare(b.Rates[inspect.CloseWait], a.Rates[inspect.CloseWait]),
			cmp.Compare(b.Sockets, a.Sockets),
			cmp.Compare(a.PID, b.PID), cmp.Compare(a.Start, b.Start))
	})
	return st
}

// status computes a process's counts and trends from its points.
func (m *Monitor) status(tr *procTrack, p *inspect.Process) ProcStatus {
	last := tr.points[len(tr.points)-1]
	ps := ProcStatus{
		ProcKey: tr.key, Name: p.Name, User: p.User, States: map[inspect.TCPState]int{},
		FDs: p.FDs, FDLimit: p.FDSoftLimit, Rates: map[inspect.TCPState]float64{}, ETA: -1,
	}
	for s, n := range last.counts {
		if n > 0 {
			ps.States[inspect.TCPState(s)] = int(n)
			ps.Sockets += int(n)
		}
	}
	ps.History = make([]int, len(tr.points))
	for i, q := range tr.points {
		ps.History[i] = int(q.counts[inspect.CloseWait])
	}
	if len(tr.points) < minTrendPoints {
		return ps
	}
	var held [nStates]bool
	for _, q := range tr.points {
		for s, n := range q.counts {
			held[s] = held[s] || n > 0
		}
	}
	for s := range held {
		if held[s] {
			ps.Rates[inspect.TCPState(s)] = slopePerMinute(tr.points, func(q *point) float64 { return float64(q.counts[s]) })
		}
	}
	ps.FDRate = slopePerMinute(tr.points, func(q *point) float64 { return float64(q.fds) })
	grown := last.fds - tr.points[0].fds
	if ps.FDRate > 0 && ps.FDLimit > 0 && grown >= minETAGrowth {
		left := max(0, float64(ps.FDLimit)-float64(ps.FDs))
		// Beyond a year the estimate means nothing (and would overflow).
		if eta := left / ps.FDRate * float64(time.Minute); eta < float64(maxETA) {
			ps.ETA = time.Duration(eta)
		}
	}
	return ps
}

// slopePerMinute fits y = a + b·t by least squares over the points and
// returns b in units per minute.
func slopePerMinute(pts []point, y func(*point) float64) float64 {
	n := float64(len(pts))
	t0 := pts[0].at
	var st, sy float64
	for i := range pts {
		st += pts[i].at.Sub(t0).Minutes()
		sy += y(&pts[i])
	}
	mt, my := st/n, sy/n
	var num, den float64
	for i := range pts {
		dt := pts[i].at.Sub(t0).Minutes() - mt
		num += dt * (y(&pts[i]) - my)
		den += dt * dt
	}
	if den == 0 {
		return 0
	}
	return num / den
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

func (m *Monitor) threshold(rule string) float64 {
	r := m.cfg.Rules
	switch rule {
	case RuleCloseWait:
		return float64(r.CloseWait)
	case RuleCloseWaitAge:
		return r.MaxAge.Seconds()
	case RuleFDUsage:
		return r.FDUsage
	case RuleFDLimitETA:
		return r.ETA.Seconds()
	}
	return 0
}

func exited(a Alert) int {
	if a.Exited {
		return 1
	}
	return 0
}

// evaluate applies the rules to a process and returns the transitions.
func (m *Monitor) evaluate(tr *procTrack, ps *ProcStatus, now time.Time) []Alert {
	r := m.cfg.Rules
	cwN := ps.States[inspect.CloseWait]
	usage := ps.FDUsage()
	type verdict struct{ fire, clear bool }
	verdicts := map[string]verdict{}
	if r.CloseWait >= 0 {
		verdicts[RuleCloseWait] = verdict{cwN > r.CloseWait, cwN <= r.CloseWait*3/4}
	}
	if r.MaxAge > 0 {
		verdicts[RuleCloseWaitAge] = verdict{cwN > 0 && ps.CloseWaitOldest >= r.MaxAge, cwN == 0 || ps.CloseWaitOldest < r.MaxAge}
	}
	if r.FDUsage > 0 {
		// Clear 5 points below the threshold or at nine tenths of it,
		// whichever is higher: below 50% the nine tenths (5% or less would
		// never clear 5 points below).
		verdicts[RuleFDUsage] = verdict{usage >= r.FDUsage, usage < max(r.FDUsage-5, r.FDUsage*0.9)}
	}
	if r.ETA > 0 {
		growing := ps.ETA >= 0
		verdicts[RuleFDLimitETA] = verdict{growing && ps.ETA < r.ETA, !growing || float64(ps.ETA) >= 1.5*float64(r.ETA)}
	}
	a := Alert{
		Time: now, ProcKey: ps.ProcKey, Name: ps.Name, State: inspect.CloseWait, Peer: ps.CloseWaitPeer,
		Count: cwN, Age: ps.CloseWaitOldest, FDs: ps.FDs, FDLimit: ps.FDLimit, ETA: ps.ETA,
	}
	a.Rate, a.RateKnown = ps.Rates[inspect.CloseWait]
	tr.last = &a
	var out []Alert
	for _, rule := range ruleOrder {
		v, ok := verdicts[rule]
		switch {
		case !ok:
			continue
		case !tr.firing[rule] && v.fire:
			tr.firing[rule] = true
		case tr.firing[rule] && v.clear:
			delete(tr.firing, rule)
		default:
			if tr.firing[rule] {
				ps.Firing = append(ps.Firing, rule)
			}
			continue
		}
		t := a
		t.Rule, t.Firing, t.Threshold = rule, tr.firing[rule], m.threshold(rule)
		out = append(out, t)
		if t.Firing {
			ps.Firing = append(ps.Firing, rule)
		}
	}
	return out
}

// forget drops the sockets and processes the latest sample did not hold,
// so that a long watch keeps no state for what is gone. (Tracker keeps
// everything for sockleak run's report; watch prunes it each sample.)
func (t *Tracker) forget() {
	for k, l := range t.seen {
		if !l.LastSeen.Equal(t.last) {
			delete(t.seen, k)
		}
	}
	clear(t.procs)
}

// RunConfig configures Monitor.Run.
type RunConfig struct {
	// Interval is the time between samples.
	Interval time.Duration
	// Count stops after this many samples. Optional: 0 runs until ctx is
	// done.
	Count int
	// Sample takes one sample.
	Sample func(ctx context.Context) (Sample, error)
	// Tick replaces the interval's ticker: tests send on it. Optional.
	Tick <-chan time.Time
	// Now measures how long a sample took. Optional: time.Now.
	Now func() time.Time
}

// Run samples at once and then every interval until ctx is done or Count
// samples were taken, and hands each status (a failed sample's has Err
// set) to emit. It returns nil when it stops for ctx or Count, and emit's
// error if emit fails (which stops it).
func (m *Monitor) Run(ctx context.Context, cfg RunConfig, emit func(*Status) error) error {
	tick := cfg.Tick
	if tick == nil {
		t := time.NewTicker(cfg.Interval)
		defer t.Stop()
		tick = t.C
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	done := make(chan struct{})
	var emitErr error
	n := 0
	Loop(ctx, tick, done, func() {
		start := now()
		s, err := cfg.Sample(ctx)
		if ctx.Err() != nil {
			close(done) // a sample cut short by the end is no sample
			return
		}
		var st *Status
		if err != nil {
			st = m.Failed(start, err)
		} else {
			if s.Took == 0 {
				s.Took = now().Sub(start)
			}
			st = m.Observe(s)
		}
		n++
		if emitErr = emit(st); emitErr != nil || (cfg.Count > 0 && n >= cfg.Count) {
			close(done)
		}
	})
	return emitErr
}
