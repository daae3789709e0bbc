package report

import (
	"cmp"
	"io"
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/metrics"
	"github.com/sockleak/sockleak/internal/wording"
)

// DefaultMaxProcesses is how many processes get metrics of their own,
// besides those with a violation, unless CheckThresholds.MaxProcesses
// says otherwise: watch's default (watch.DefaultMaxProcesses) too.
const DefaultMaxProcesses = 50

// OtherProcess is the process label of the series that sum the processes
// beyond the bound, as watch's exporter names them.
const OtherProcess = "other"

// Gatherer returns a check's metrics on a fresh registry of their own,
// modelled on node_exporter: one family per quantity (internal/metrics
// defines them, for watch too), states as a lower-case "state" label
// ("close_wait"). Processes are labelled by pid and name; command lines
// never go into labels (unbounded, and they can hold secrets). Label
// values are escaped (wording.Escape): a process names itself, and an
// invalid one must not cost the whole output. A series that still cannot
// be built is left out and counted in sockleak_metric_errors.
//
// Cardinality is bounded as watch's exporter bounds it: per-process
// series only for the l.MaxProcesses processes with the most sockets and
// for every process with a violation; the rest are summed under
// pid="",process="other" (sockets and descriptors; a limit does not sum,
// so theirs are left out). Listeners likewise: those of an accept_queue
// violation and the l.MaxProcesses fullest, the rest's queues summed.
func Gatherer(r *Report, l CheckThresholds, vs []Violation) (prometheus.Gatherer, error) {
	reg := prometheus.NewRegistry()
	if err := registerMetrics(reg, r, l, vs); err != nil {
		return nil, err
	}
	return reg, nil
}

// checkMetrics are the collectors of a check's metrics.
type checkMetrics struct {
	sockets, procSockets, openFDs, maxFDs, kernel *prometheus.GaugeVec
	violations, warnLimit, critLimit              *prometheus.GaugeVec
	listenQueue, listenBacklog                    *prometheus.GaugeVec
	status, inspected, denied, scanTime, errors   prometheus.Gauge
	failed                                        int // series that could not be built
}

func registerMetrics(reg prometheus.Registerer, r *Report, l CheckThresholds, vs []Violation) error {
	m := checkMetrics{
		sockets: metrics.Sockets.GaugeVec(), procSockets: metrics.ProcessSockets.GaugeVec(),
		openFDs: metrics.ProcessOpenFDs.GaugeVec(), maxFDs: metrics.ProcessFDLimit.GaugeVec(),
		kernel: metrics.KernelTCPSockets.GaugeVec(), violations: metrics.CheckViolations.GaugeVec(),
		warnLimit: metrics.CheckWarningThreshold.GaugeVec(), critLimit: metrics.CheckCriticalThreshold.GaugeVec(),
		status: metrics.CheckStatus.Gauge(), inspected: metrics.ProcessesInspected.Gauge(),
		denied: metrics.ProcessesUninspectable.Gauge(), scanTime: metrics.ScanTimestamp.Gauge(),
		listenQueue: metrics.ListenQueue.GaugeVec(), listenBacklog: metrics.ListenBacklog.GaugeVec(),
		errors: metrics.MetricErrors.Gauge(),
	}
	for _, c := range []prometheus.Collector{m.sockets, m.procSockets, m.openFDs, m.maxFDs, m.kernel, m.violations,
		m.warnLimit, m.critLimit, m.status, m.inspected, m.denied, m.scanTime, m.listenQueue, m.listenBacklog, m.errors} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	snap := r.Snapshot
	m.setSockets(r)
	maxProcs := l.MaxProcesses
	if maxProcs <= 0 {
		maxProcs = DefaultMaxProcesses
	}
	m.setListeners(r, vs, maxProcs)
	m.setProcesses(r, vs, maxProcs)
	m.setThresholds(r, l, vs)
	m.inspected.Set(float64(len(snap.Processes)))
	m.denied.Set(float64(snap.Denied))
	m.scanTime.Set(float64(snap.Time.UnixMilli()) / 1000)
	m.errors.Set(float64(m.failed))
	return nil
}

// series returns the series of vec with these label values, escaped (a
// process's name is its own), or nil: a series that cannot be built is
// counted, not fatal.
func (m *checkMetrics) series(vec *prometheus.GaugeVec, labels ...string) prometheus.Gauge {
	for i, l := range labels {
		labels[i] = wording.Escape(l)
	}
	g, err := vec.GetMetricWithLabelValues(labels...)
	if err != nil {
		m.failed++
		return nil
	}
	return g
}

// set sets a series of vec to v (see series).
func (m *checkMetrics) set(vec *prometheus.GaugeVec, v float64, labels ...string) {
	if g := m.series(vec, labels...); g != nil {
		g.Set(v)
	}
}

// add adds v to a series of vec (see series); add(vec, 0, ...) makes a
// zero series.
func (m *checkMetrics) add(vec *prometheus.GaugeVec, v float64, labels ...string) {
	if g := m.series(vec, labels...); g != nil {
		g.Add(v)
	}
}

// setSockets counts the view's sockets by state, and the kernel's.
func (m *checkMetrics) setSockets(r *Report) {
	byState := map[string]float64{}
	for _, s := range r.Snapshot.Sockets {
		byState[s.State.Label()]++
	}
	for _, st := range stateOrder() { // every known state, so a series never just disappears
		m.set(m.sockets, byState[st], st)
	}
	for st, n := range r.Kernel {
		if n > 0 {
			m.set(m.kernel, float64(n), st.Label())
		}
	}
}

// setListeners sets the accept queue and backlog of listeners whose
// queue is not empty: few series, and the ones an alert on a server that
// stopped accepting needs. Those of an accept_queue violation and the
// maxProcs fullest have their own; the rest's queues are summed under
// process="other" (their backlogs do not sum: left out).
func (m *checkMetrics) setListeners(r *Report, vs []Violation, maxProcs int) {
	names := map[int]string{}
	for _, p := range r.Snapshot.Processes {
		names[p.PID] = p.Name
	}
	failing := map[string]bool{}
	for _, v := range vs {
		if v.Metric == MetricAcceptQueue {
			failing[strconv.Itoa(v.PID)+" "+v.Local] = true
		}
	}
	var ls []*inspect.Socket
	for i := range r.Snapshot.Sockets {
		if s := &r.Snapshot.Sockets[i]; s.State == inspect.Listen && s.RxQueue > 0 {
			ls = append(ls, s)
		}
	}
	isFailing := func(s *inspect.Socket) bool { return failing[strconv.Itoa(socketOwner(s))+" "+s.Local.String()] }
	slices.SortStableFunc(ls, func(a, b *inspect.Socket) int {
		return cmp.Or(cmp.Compare(b2i(isFailing(b)), b2i(isFailing(a))), cmp.Compare(b.RxQueue, a.RxQueue))
	})
	var other float64
	for i, s := range ls {
		if i >= maxProcs && !isFailing(s) {
			other += float64(s.RxQueue)
			continue
		}
		pid := socketOwner(s)
		m.set(m.listenQueue, float64(s.RxQueue), strconv.Itoa(pid), names[pid], s.Local.String())
		if s.TxQueue > 0 {
			m.set(m.listenBacklog, float64(s.TxQueue), strconv.Itoa(pid), names[pid], s.Local.String())
		}
	}
	if len(ls) > maxProcs && other > 0 {
		m.set(m.listenQueue, other, "", OtherProcess, "")
	}
}

// b2i is 1 for true.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// setProcesses sets the series of the processes the report shows
// (holding a socket, or with a finding) and of those with a violation:
// those with a violation and the maxProcs with the most sockets each
// their own, the rest summed under process="other".
func (m *checkMetrics) setProcesses(r *Report, vs []Violation, maxProcs int) {
	rows := map[int]ProcessRow{}
	for _, p := range r.Processes {
		rows[p.PID] = p
	}
	violating := map[int]bool{}
	for _, v := range vs {
		if v.PID > 0 {
			violating[v.PID] = true
		}
	}
	var procs []inspect.Process
	for _, p := range r.Snapshot.Processes {
		if _, shown := rows[p.PID]; shown || violating[p.PID] {
			procs = append(procs, p)
		}
	}
	slices.SortStableFunc(procs, func(a, b inspect.Process) int {
		return cmp.Or(cmp.Compare(b2i(violating[b.PID]), b2i(violating[a.PID])),
			cmp.Compare(rows[b.PID].Sockets, rows[a.PID].Sockets), cmp.Compare(a.PID, b.PID))
	})
	otherStates := map[inspect.TCPState]int{}
	var otherFDs, rest int
	for i, p := range procs {
		if i >= maxProcs && !violating[p.PID] {
			for st, n := range rows[p.PID].States {
				otherStates[st] += n
			}
			otherFDs += p.FDs
			rest++
			continue
		}
		pid := strconv.Itoa(p.PID)
		m.set(m.openFDs, float64(p.FDs), pid, p.Name)
		if p.FDSoftLimit > 0 {
			m.set(m.maxFDs, float64(p.FDSoftLimit), pid, p.Name)
		}
		m.setStates(rows[p.PID].States, pid, p.Name)
	}
	if rest > 0 {
		m.set(m.openFDs, float64(otherFDs), "", OtherProcess)
		m.setStates(otherStates, "", OtherProcess)
	}
}

// setStates sets a process's (or the roll-up's) sockets by state.
func (m *checkMetrics) setStates(states map[inspect.TCPState]int, pid, name string) {
	for st, n := range states {
		if n > 0 {
			m.set(m.procSockets, float64(n), pid, name, st.Label())
		}
	}
}

// setThresholds sets the checked thresholds, the violations and the
// check's status.
func (m *checkMetrics) setThresholds(r *Report, l CheckThresholds, vs []Violation) {
	for _, ms := range Measure(r, l) {
		m.set(m.warnLimit, float64(ms.Level.Warn), ms.Metric)
		m.set(m.critLimit, float64(ms.Level.Crit), ms.Metric)
		// Zero series for every checked metric, so "> 0" alerts resolve.
		m.add(m.violations, 0, ms.Metric, Warning.String())
		m.add(m.violations, 0, ms.Metric, Critical.String())
	}
	if l.AcceptQueue {
		m.add(m.violations, 0, MetricAcceptQueue, Warning.String())
		m.add(m.violations, 0, MetricAcceptQueue, Critical.String())
	}
	for _, v := range vs {
		m.add(m.violations, 1, v.Metric, v.Severity.String())
	}
	m.status.Set(float64(Status(vs)))
}

func stateOrder() []string {
	out := make([]string, len(inspect.States))
	for i, st := range inspect.States {
		out[i] = st.Label()
	}
	return out
}

// Prometheus writes a check's metrics in the text exposition format.
func Prometheus(w io.Writer, r *Report, l CheckThresholds, vs []Violation) error {
	g, err := Gatherer(r, l, vs)
	if err != nil {
		return err
	}
	mfs, err := g.Gather()
	if err != nil {
		return err
	}
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
			return err
		}
	}
	return nil
}

// WriteTextfile writes a check's metrics to path for node_exporter's
// textfile collector, atomically and durably: writeTextfile writes a
// temporary file in the same directory (named path plus digits, which the
// collector ignores as it reads only *.prom), syncs it and renames it over
// path, so a scrape reads the old file or the new one, never half of one,
// and neither does a scrape after a crash.
func WriteTextfile(path string, r *Report, l CheckThresholds, vs []Violation) error {
	g, err := Gatherer(r, l, vs)
	if err != nil {
		return err
	}
	return writeTextfile(path, g)
}
