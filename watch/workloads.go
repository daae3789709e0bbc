package watch

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/metrics"
	"github.com/sockleak/sockleak/report"
)

// workloadDescs are the descriptors of the workload families, per
// workload or (--pid-label) per process.
type workloadDescs struct {
	sockets, processes, openFDs, fdUsage, closeWaitOldest, secondsToLimit, limitExits *prometheus.Desc
}

func newWorkloadDescs(byPID bool) workloadDescs {
	desc := func(f metrics.Family) *prometheus.Desc {
		if byPID {
			f = f.ByPID()
		}
		return f.Desc()
	}
	return workloadDescs{
		sockets: desc(metrics.WorkloadSockets), processes: desc(metrics.WorkloadProcesses),
		openFDs: desc(metrics.WorkloadOpenFDs), fdUsage: desc(metrics.WorkloadFDUsage),
		closeWaitOldest: desc(metrics.WorkloadCloseWaitOldest), secondsToLimit: desc(metrics.WorkloadSecondsToFDLimit),
		limitExits: desc(metrics.WorkloadFDLimitExits),
	}
}

// group is a workload's processes at one sample (one process with
// --pid-label), summed as the workload families say.
type group struct {
	name   string   // the workload's name, to order ties
	labels []string // report.MetricLabels, not escaped yet
	states map[inspect.TCPState]int
	procs  int
	fds    int
	usage  float64 // the highest FDs/FDLimit; -1 when no limit is known
	oldest time.Duration
	eta    time.Duration // the soonest; -1 when none
	firing int
	exits  int // processes that ended near the fd limit (WorkloadStatus.LimitExits)
}

func newGroup(name string, labels []string) *group {
	return &group{name: name, labels: labels, states: map[inspect.TCPState]int{}, usage: -1, eta: -1}
}

// add sums p (or another group's totals) into g.
func (g *group) add(states map[inspect.TCPState]int, procs, fds int, usage float64, oldest, eta time.Duration, firing int) {
	for s, n := range states {
		g.states[s] += n
	}
	g.procs += procs
	g.fds += fds
	g.usage = max(g.usage, usage)
	g.oldest = max(g.oldest, oldest)
	if eta >= 0 && (g.eta < 0 || eta < g.eta) {
		g.eta = eta
	}
	g.firing += firing
}

func (g *group) sockets() (n int) {
	for _, c := range g.states {
		n += c
	}
	return n
}

// groupStatuses groups the processes by workload (WorkloadName and its
// label values, so two series never share a label set), or one group a
// process with byPID, in the processes' order.
func groupStatuses(procs []ProcStatus, byPID bool) []*group {
	var out []*group
	byKey := map[string]*group{}
	for i := range procs {
		p := &procs[i]
		w := p.Workload
		if w.Kind == "" {
			w.Kind = inspect.KindProcess
		}
		name := cmp.Or(p.WorkloadName, w.Name(p.Name))
		pid := 0
		if byPID {
			pid = p.PID
		}
		labels := report.MetricLabels(&w, name, pid, p.Name)
		key := strings.Join(labels, "\x00")
		g := byKey[key]
		if g == nil {
			g = newGroup(name, labels)
			byKey[key] = g
			out = append(out, g)
		}
		usage := -1.0
		if p.FDLimit > 0 {
			usage = float64(p.FDs) / float64(p.FDLimit)
		}
		g.add(p.States, 1, p.FDs, usage, p.CloseWaitOldest(), p.ETA, len(p.Firing))
	}
	return out
}

// addExits gives each workload's group its processes that ended near the
// fd limit (with byPID, its first process's group), and a group of its
// own, with no process, to a workload that has none now: a service that
// died of its leak keeps its series while it waits to be restarted.
func addExits(groups []*group, ws []WorkloadStatus, byPID bool) []*group {
	byName := map[string]*group{}
	for _, g := range groups {
		if _, ok := byName[g.name]; !ok {
			byName[g.name] = g
		}
	}
	for i := range ws {
		w := &ws[i]
		n := len(w.LimitExits())
		if n == 0 {
			continue
		}
		g := byName[w.Name]
		if g == nil {
			wl := w.Workload
			if wl.Kind == "" {
				wl.Kind = inspect.KindProcess
			}
			labels := report.MetricLabels(&wl, w.Name, 0, "")
			if byPID {
				labels = append(labels, "", "")
			}
			g = newGroup(w.Name, labels)
			byName[w.Name] = g
			groups = append(groups, g)
		}
		g.exits += n
	}
	return groups
}

// worstFirst orders groups: firing alerts, the soonest time to the fd
// limit, CLOSE_WAIT sockets, all sockets, then the name.
func worstFirst(a, b *group) int {
	return cmp.Or(cmp.Compare(b.firing, a.firing), cmp.Compare(b.exits, a.exits), cmp.Compare(soonest(a.eta), soonest(b.eta)),
		cmp.Compare(b.states[inspect.CloseWait], a.states[inspect.CloseWait]), cmp.Compare(b.sockets(), a.sockets()),
		cmp.Compare(a.name, b.name), slices.Compare(a.labels, b.labels))
}

// workloads adds the series of the e.max worst groups, and those of the
// rest summed under report.OtherLabels, and how many were summed.
func (e *Exporter) workloads(out *series, groups []*group) {
	groups = slices.Clone(groups)
	slices.SortFunc(groups, worstFirst)
	for _, g := range groups[:min(len(groups), e.max)] {
		e.groupSeries(out, g)
	}
	rest := groups[min(len(groups), e.max):]
	out.gauge(descRolledUp, float64(len(rest)))
	if len(rest) == 0 {
		return
	}
	other := newGroup(metrics.OtherKind, report.OtherLabels(e.byPID))
	for _, g := range rest {
		other.add(g.states, g.procs, g.fds, g.usage, g.oldest, g.eta, g.firing)
		other.exits += g.exits
	}
	e.groupSeries(out, other)
}

// groupSeries adds a group's series: its sockets by state (those it
// holds), its processes and descriptors, its highest fd usage when a
// limit is known, the age of its oldest CLOSE_WAIT socket while it holds
// one, and its soonest time to the fd limit while descriptors grow: at
// most len(inspect.States)+OtherSeries.
func (e *Exporter) groupSeries(out *series, g *group) {
	with := func(extra ...string) []string { return append(slices.Clone(g.labels), extra...) }
	for _, s := range inspect.States {
		if n := g.states[s]; n > 0 {
			out.gauge(e.descs.sockets, float64(n), with(s.Label())...)
		}
	}
	out.gauge(e.descs.processes, float64(g.procs), with()...)
	out.gauge(e.descs.openFDs, float64(g.fds), with()...)
	if g.usage >= 0 {
		out.gauge(e.descs.fdUsage, g.usage, with()...)
	}
	if g.states[inspect.CloseWait] > 0 {
		out.gauge(e.descs.closeWaitOldest, g.oldest.Seconds(), with()...)
	}
	if g.eta >= 0 {
		out.gauge(e.descs.secondsToLimit, g.eta.Seconds(), with()...)
	}
	if g.exits > 0 {
		out.gauge(e.descs.limitExits, float64(g.exits), with()...)
	}
}
