package watch

import (
	"cmp"
	"slices"
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// CrashLoopWindow is how far back the Monitor remembers a workload's
// processes that ended: the crash loop rule counts those that ended near
// their fd limit within it.
const CrashLoopWindow = 10 * time.Minute

// CrashLoopUsage is the share of its soft fd limit a process must have
// used when last seen for its end to count as dying of the limit. A
// process that leaks to its limit between two samples was last seen
// somewhat below it: at 2000 descriptors by 60 a minute and a 2 s
// interval, 2 descriptors below; at 5 s and 2000 a minute, about 170 of
// 2048.
const CrashLoopUsage = 0.8

// CarryAge is how long a CLOSE_WAIT socket must have been seen in the
// state to count on in its workload's growth after its process ends: a
// leaked socket, not one a process that exits on its peer's close held
// for an instant. (A busy host's short-lived workers often end holding
// such a socket: carried over, they would add up to a growth that is not
// there.)
const CarryAge = 30 * time.Second

// DefaultCrashLoop is how many processes of one workload must end near
// their fd limit within CrashLoopWindow for the crash loop rule to fire.
const DefaultCrashLoop = 3

// maxExits bounds the exits remembered per workload.
const maxExits = 256

// Exit is a process of a workload that ended (or left the workload), as
// the last sample that held it saw it.
type Exit struct {
	ProcKey
	At      time.Time // the first sample without it
	FDs     int
	FDLimit int64
}

// AtLimit reports whether the process ended at CrashLoopUsage of its
// soft fd limit or more.
func (e Exit) AtLimit() bool {
	return e.FDLimit > 0 && float64(e.FDs) >= CrashLoopUsage*float64(e.FDLimit)
}

// Usage is the percentage of its fd limit the process used when last
// seen, or -1 when the limit was unknown or unlimited.
func (e Exit) Usage() float64 {
	if e.FDLimit <= 0 {
		return -1
	}
	return 100 * float64(e.FDs) / float64(e.FDLimit)
}

// WorkloadStatus is one workload at one sample: its processes summed, its
// CLOSE_WAIT growth and time to the fd limit across restarts, and its
// processes that ended.
type WorkloadStatus struct {
	// Name is the workload's key across restarts (inspect.Process.
	// WorkloadName); Workload its fields, as its latest process had them.
	Name     string
	Workload inspect.Workload
	// Processes counts its processes at this sample: 0 while a service
	// that died waits to be restarted.
	Processes int
	// Lead is the process its alerts name: the most CLOSE_WAIT sockets,
	// then the highest fd usage; its name and command as in ProcStatus.
	Lead                  ProcKey
	LeadName, LeadCommand string
	CloseWait             int
	CloseWaitPeer         string
	Oldest                time.Duration // its oldest CLOSE_WAIT socket's age
	// FDs, FDLimit are those of its process nearest its limit.
	FDs     int
	FDLimit int64
	// Rate is the growth of its CLOSE_WAIT sockets in sockets per minute
	// over the window, across restarts: the sockets a process held when
	// it ended count on, as Prometheus's rate() counts on over a counter
	// reset — all of them if it ended at its fd limit or with
	// minETAGrowth or more, else those of CarryAge or older. RateKnown is
	// false until the window holds 3 samples.
	Rate      float64
	RateKnown bool
	// ETA is the soonest time to the fd limit of its processes: by each
	// process's own descriptor growth, or, across restarts, by the
	// workload's CLOSE_WAIT growth (each such socket holds a descriptor).
	// -1 when neither grows toward a known limit.
	ETA time.Duration
	// Exits are its processes that ended within CrashLoopWindow, oldest
	// first.
	Exits []Exit
	// Firing lists the rules firing for it, in rule order.
	Firing []string
	track  string // the Monitor's key of it (trackName)
}

// LimitExits returns the exits at CrashLoopUsage of the fd limit or more.
func (w *WorkloadStatus) LimitExits() []Exit {
	var out []Exit
	for _, e := range w.Exits {
		if e.AtLimit() {
			out = append(out, e)
		}
	}
	return out
}

// wlTrack is what the Monitor remembers of one workload, across its
// processes' lives.
type wlTrack struct {
	track    string // its key (trackName)
	name     string
	workload inspect.Workload
	alive    map[ProcKey]procLast // its processes at the latest sample that held any
	offset   int32                // CLOSE_WAIT sockets its ended processes carried (procLast.carried)
	points   []wpoint             // within the window, oldest first
	exits    []Exit               // within CrashLoopWindow, oldest first
	present  time.Time            // the latest sample that held a process of it
	firing   map[string]bool
	last     *Alert // the latest alert values, for a resolution after it is gone
}

// procLast is a process as the latest sample saw it.
type procLast struct {
	closeWait, old int32 // its CLOSE_WAIT sockets; those of CarryAge or older
	prev           int32 // its CLOSE_WAIT sockets at the sample before
	fds            int
	limit          int64
}

// carried is how many of its CLOSE_WAIT sockets count on in its
// workload's growth after it ended: all of them when it died at its fd
// limit or held minETAGrowth or more (a leak: a crash loop's processes
// live seconds), else those of CarryAge or older (a worker that ends on
// its peer's close holds one for an instant).
//
// A sample that caught the process dying may have found its sockets
// closed by its exit and its descriptors not yet: the sample before
// counts too.
func (l procLast) carried(e Exit) int32 {
	if n := max(l.closeWait, l.prev); e.AtLimit() || n >= minETAGrowth {
		return n
	}
	return l.old
}

// wpoint is a workload's CLOSE_WAIT count at one sample, with the
// offset of its ended processes added.
type wpoint struct {
	at        time.Time
	closeWait int32
}

func (p wpoint) when() time.Time { return p.at }

// observeWorkloads updates the workload tracks from the sample's process
// statuses (all of them, shown or not) and returns the statuses of the
// workloads present or remembered, in no particular order.
func (m *Monitor) observeWorkloads(procs []ProcStatus, now time.Time) []*WorkloadStatus {
	byName := map[string][]*ProcStatus{}
	for i := range procs {
		byName[procs[i].track] = append(byName[procs[i].track], &procs[i])
	}
	var out []*WorkloadStatus
	for name, ps := range byName {
		tr := m.workloads[name]
		if tr == nil {
			tr = &wlTrack{track: name, name: ps[0].WorkloadName, alive: map[ProcKey]procLast{}, firing: map[string]bool{}}
			m.workloads[name] = tr
		}
		tr.observe(ps, now, m.cfg.Window)
		out = append(out, tr.status(ps))
	}
	for name, tr := range m.workloads {
		if _, ok := byName[name]; ok {
			continue
		}
		tr.observe(nil, now, m.cfg.Window)
		if now.Sub(tr.present) > max(m.cfg.Window, CrashLoopWindow) && len(tr.firing) == 0 {
			delete(m.workloads, name)
			continue
		}
		out = append(out, tr.status(nil))
	}
	return out
}

// observe records the workload's processes at one sample: those gone
// since the last become exits, and its CLOSE_WAIT point carries their
// sockets on.
func (tr *wlTrack) observe(ps []*ProcStatus, now time.Time, window time.Duration) {
	now0 := make(map[ProcKey]procLast, len(ps))
	var cw int32
	for _, p := range ps {
		now0[p.ProcKey] = procLast{closeWait: int32(p.States[inspect.CloseWait]), prev: tr.alive[p.ProcKey].closeWait,
			old: int32(p.cwOld), fds: p.FDs, limit: p.FDLimit}
		cw += int32(p.States[inspect.CloseWait])
		tr.workload = p.Workload
	}
	for key, last := range tr.alive {
		if _, ok := now0[key]; !ok {
			e := Exit{ProcKey: key, At: now, FDs: last.fds, FDLimit: last.limit}
			tr.offset += last.carried(e)
			tr.exits = append(tr.exits, e)
		}
	}
	// A name many short-lived processes share (a cron job's) must not
	// grow the list without bound: the latest maxExits will do.
	if n := len(tr.exits) - maxExits; n > 0 {
		tr.exits = append(tr.exits[:0], tr.exits[n:]...)
	}
	if len(ps) > 0 {
		tr.present = now
	}
	tr.alive = now0
	tr.points = append(tr.points, wpoint{at: now, closeWait: cw + tr.offset})
	tr.points = trimBefore(tr.points, now.Add(-window), func(p wpoint) time.Time { return p.at })
	tr.exits = trimBefore(tr.exits, now.Add(-CrashLoopWindow), func(e Exit) time.Time { return e.At })
}

// trimBefore drops the leading elements older than cutoff, in place.
func trimBefore[T any](s []T, cutoff time.Time, at func(T) time.Time) []T {
	i := slices.IndexFunc(s, func(x T) bool { return !at(x).Before(cutoff) })
	if i < 0 {
		return s[:0]
	}
	return append(s[:0], s[i:]...)
}

// status sums the workload's processes and computes its trends.
func (tr *wlTrack) status(ps []*ProcStatus) *WorkloadStatus {
	w := &WorkloadStatus{track: tr.track, Name: tr.name, Workload: tr.workload, Processes: len(ps), ETA: -1, Exits: slices.Clone(tr.exits)}
	var lead *ProcStatus
	best := -2.0 // the highest fd usage; FDUsage is -1 without a limit
	for _, p := range ps {
		n := p.States[inspect.CloseWait]
		w.CloseWait += n
		w.Oldest = max(w.Oldest, p.CloseWaitOldest())
		if lead == nil || cmp.Or(cmp.Compare(n, lead.States[inspect.CloseWait]), cmp.Compare(p.FDUsage(), lead.FDUsage())) > 0 {
			lead = p
		}
		if u := p.FDUsage(); u > best {
			best, w.FDs, w.FDLimit = u, p.FDs, p.FDLimit
		}
	}
	if lead != nil {
		w.Lead, w.LeadName, w.LeadCommand, w.CloseWaitPeer = lead.ProcKey, lead.Name, lead.Command, lead.CloseWaitPeer
	}
	if len(tr.points) >= minTrendPoints {
		w.Rate, w.RateKnown = slopePerMinute(tr.points, func(p *wpoint) float64 { return float64(p.closeWait) }), true
	}
	// How far it grew in the window: to its highest point, which a
	// restart's sockets younger than CarryAge may have dropped from.
	grown := int32(0)
	for _, p := range tr.points {
		grown = max(grown, p.closeWait-tr.points[0].closeWait)
	}
	for _, p := range ps {
		eta := p.ETA
		if w.RateKnown && w.Rate > 0 && grown >= minETAGrowth && p.FDLimit > 0 {
			left := max(0, float64(p.FDLimit)-float64(p.FDs))
			if e := left / w.Rate * float64(time.Minute); e < float64(maxETA) && (eta < 0 || time.Duration(e) < eta) {
				eta = time.Duration(e)
			}
		}
		p.ETA = eta
		if eta >= 0 && (w.ETA < 0 || eta < w.ETA) {
			w.ETA = eta
		}
	}
	return w
}
