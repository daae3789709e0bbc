package report

import (
	"cmp"
	"slices"
	"strings"

	"github.com/sockleak/sockleak/inspect"
)

// seriesGroup is what gets one set of series: a workload, or a process
// with --pid-label.
type seriesGroup struct {
	name      string
	labels    []string // label values (MetricLabels)
	states    map[inspect.TCPState]int
	sockets   int
	procs     int
	fds       int
	usage     float64 // the highest fd usage of its processes, percent; -1 when no limit is known
	violating bool
	pids      []int
}

// seriesGroups are the workloads (or, byPID, the processes) that hold a
// socket of the report or have a violation.
func seriesGroups(r *Report, vs []Violation, byPID bool) []seriesGroup {
	shown := map[int]bool{}
	for _, p := range r.Processes {
		shown[p.PID] = true
	}
	violating := map[int]bool{}
	for _, v := range vs {
		if v.PID > 0 {
			violating[v.PID] = true
			shown[v.PID] = true
		}
	}
	var out []seriesGroup
	for _, wg := range Workloads(r.Snapshot) {
		if !slices.ContainsFunc(wg.Processes, func(p inspect.Process) bool { return shown[p.PID] }) {
			continue
		}
		if !byPID {
			g := seriesGroup{name: wg.Name, labels: MetricLabels(&wg.Workload, wg.Name, 0, ""), states: wg.States,
				sockets: wg.Sockets, procs: len(wg.Processes), fds: wg.FDs, usage: -1}
			if wg.Worst >= 0 {
				g.usage = wg.FDUsage
			}
			for _, p := range wg.Processes {
				g.violating = g.violating || violating[p.PID]
				g.pids = append(g.pids, p.PID)
			}
			out = append(out, g)
			continue
		}
		for _, p := range wg.Processes {
			if !shown[p.PID] {
				continue
			}
			row := r.row(p.PID)
			g := seriesGroup{name: wg.Name, labels: MetricLabels(&wg.Workload, wg.Name, p.PID, p.Name), states: row.States,
				sockets: row.Sockets, procs: 1, fds: p.FDs, usage: -1, violating: violating[p.PID], pids: []int{p.PID}}
			if p.FDSoftLimit > 0 {
				g.usage = usagePercent(p.FDs, p.FDSoftLimit)
			}
			out = append(out, g)
		}
	}
	// The worst first: a violation, then fd usage, CLOSE_WAIT, sockets;
	// the name for a stable order.
	slices.SortStableFunc(out, func(a, b seriesGroup) int {
		return cmp.Or(cmp.Compare(b2i(b.violating), b2i(a.violating)), cmp.Compare(b.usage, a.usage),
			cmp.Compare(b.states[inspect.CloseWait], a.states[inspect.CloseWait]), cmp.Compare(b.sockets, a.sockets),
			cmp.Compare(a.name, b.name), slices.Compare(a.pids, b.pids))
	})
	return out
}

// row returns the report's row of a process, or an empty one.
func (r *Report) row(pid int) ProcessRow {
	for _, p := range r.Processes {
		if p.PID == pid {
			return p
		}
	}
	return ProcessRow{}
}

// setWorkloads sets the series of the workloads (or processes) with a
// violation and of the maxN worst others; the rest are summed under
// OtherLabels and counted. Listeners' queues follow their owner's group.
func (m *checkMetrics) setWorkloads(r *Report, vs []Violation, maxN int, byPID bool) {
	groups := seriesGroups(r, vs, byPID)
	other := seriesGroup{labels: OtherLabels(byPID), states: map[inspect.TCPState]int{}}
	rest := 0
	own := map[int][]string{} // pid -> the labels of its group, when it has its own
	for i, g := range groups {
		if i >= maxN && !g.violating {
			for st, n := range g.states {
				other.states[st] += n
			}
			other.sockets += g.sockets
			other.procs += g.procs
			other.fds += g.fds
			rest++
			continue
		}
		for _, pid := range g.pids {
			own[pid] = g.labels
		}
		m.setGroup(g)
	}
	if rest > 0 {
		other.usage = -1 // a usage does not sum
		m.setGroup(other)
	}
	m.rolledUp.Set(float64(rest))
	m.setListeners(r, own, OtherLabels(byPID))
}

// setGroup sets one group's series.
func (m *checkMetrics) setGroup(g seriesGroup) {
	for st, n := range g.states {
		if n > 0 {
			m.set(m.wlSockets, float64(n), append(slices.Clone(g.labels), st.Label())...)
		}
	}
	m.set(m.wlProcs, float64(g.procs), slices.Clone(g.labels)...)
	m.set(m.wlFDs, float64(g.fds), slices.Clone(g.labels)...)
	if g.usage >= 0 {
		m.set(m.wlUsage, g.usage/100, slices.Clone(g.labels)...)
	}
}

// setListeners sets the accept queue and backlog of listeners whose
// queue is not empty: few series, and the ones an alert on a server that
// stopped accepting needs. Of a group with series of its own, the
// fullest listener has its own (queue and backlog), and the rest's queues
// are summed under local="" (a server on many ports stays one series
// more); the queues of the rest of the host are summed under the roll-up's
// labels. Backlogs do not sum: the sums have none.
func (m *checkMetrics) setListeners(r *Report, own map[int][]string, other []string) {
	type queues struct {
		labels  []string
		fullest *inspect.Socket
		rest    float64
	}
	byGroup := map[string]*queues{}
	var keys []string
	for i := range r.Snapshot.Sockets {
		s := &r.Snapshot.Sockets[i]
		if s.State != inspect.Listen || s.RxQueue == 0 {
			continue
		}
		labels, ok := own[socketOwner(s)]
		if !ok {
			labels = other
		}
		key := strings.Join(labels, "\x00")
		q := byGroup[key]
		if q == nil {
			q = &queues{labels: labels}
			byGroup[key] = q
			keys = append(keys, key)
		}
		switch {
		case !ok: // the roll-up: summed
			q.rest += float64(s.RxQueue)
		case q.fullest == nil || s.RxQueue > q.fullest.RxQueue:
			if q.fullest != nil {
				q.rest += float64(q.fullest.RxQueue)
			}
			q.fullest = s
		default:
			q.rest += float64(s.RxQueue)
		}
	}
	for _, key := range keys {
		q := byGroup[key]
		if s := q.fullest; s != nil {
			m.set(m.listenQueue, float64(s.RxQueue), append(slices.Clone(q.labels), s.Local.String())...)
			if s.TxQueue > 0 {
				m.set(m.listenBacklog, float64(s.TxQueue), append(slices.Clone(q.labels), s.Local.String())...)
			}
		}
		if q.rest > 0 {
			m.set(m.listenQueue, q.rest, append(slices.Clone(q.labels), "")...)
		}
	}
}

// b2i is 1 for true.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
