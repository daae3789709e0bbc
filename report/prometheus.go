package report

import (
	"io"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/metrics"
	"github.com/sockleak/sockleak/internal/wording"
)

// DefaultMaxWorkloads is how many workloads (or processes, with
// --pid-label) get series of their own, besides those with a violation,
// unless CheckThresholds.MaxWorkloads says otherwise: watch's default too.
const DefaultMaxWorkloads = 50

// SeriesPerWorkload is the most series one workload (or the roll-up) has:
// sockets in each state (inspect.States, 12), its processes, descriptors
// and fd usage, its fullest listener's queue and backlog, and its other
// listeners' queues summed. The series cap of
// check's metrics is SeriesPerWorkload × (MaxWorkloads + 1) +
// FixedSeries, plus the workloads with a violation beyond MaxWorkloads
// (each has its own).
var SeriesPerWorkload = len(inspect.States) + 3 + 3

// FixedSeries bounds the series that are not per workload: sockets and
// the kernel's by state, the violations and thresholds of each checked
// metric (4 each: at most one per state and fd usage and accept_queue),
// the gauges without labels, and sockleak_build_info.
var FixedSeries = 2*len(inspect.States) + 4*(len(inspect.States)+2) + 8

// SeriesCap is the most series check's metrics hold with at most
// maxWorkloads workloads and no violation beyond them.
func SeriesCap(maxWorkloads int) int { return SeriesPerWorkload*(maxWorkloads+1) + FixedSeries }

// Gatherer returns a check's metrics on a fresh registry of their own,
// modelled on node_exporter: one family per quantity (internal/metrics
// defines them, for watch too), states as a lower-case "state" label
// ("close_wait"). Processes are labelled by pid and name; command lines
// never go into labels (unbounded, and they can hold secrets). Label
// values are escaped (wording.Escape): a process names itself, and an
// invalid one must not cost the whole output. A series that still cannot
// be built is left out and counted in sockleak_metric_errors.
//
// Series are keyed by workload (a systemd unit; a pod's namespace, pod and
// container; a container; or the process name), not by pid, so a service
// that restarts keeps them (metrics.WorkloadLabels); l.PIDLabel keys them
// by process instead. Cardinality is bounded as watch's exporter bounds
// it: series of their own for every workload with a violation and the
// l.MaxWorkloads worst others (fd usage, CLOSE_WAIT, sockets); the rest
// are summed under kind="other",workload="other" and counted in
// sockleak_workloads_rolled_up (SeriesCap gives the bound).
func Gatherer(r *Report, l CheckThresholds, vs []Violation) (prometheus.Gatherer, error) {
	reg := prometheus.NewRegistry()
	if err := registerMetrics(reg, r, l, vs); err != nil {
		return nil, err
	}
	return reg, nil
}

// checkMetrics are the collectors of a check's metrics.
type checkMetrics struct {
	sockets, wlSockets, wlProcs, wlFDs, wlUsage, kernel *prometheus.GaugeVec
	violations, warnLimit, critLimit                    *prometheus.GaugeVec
	listenQueue, listenBacklog                          *prometheus.GaugeVec
	status, inspected, denied, scanTime, errors         prometheus.Gauge
	rolledUp                                            prometheus.Gauge
	failed                                              int // series that could not be built
}

func registerMetrics(reg prometheus.Registerer, r *Report, l CheckThresholds, vs []Violation) error {
	fam := func(f metrics.Family) *prometheus.GaugeVec {
		if l.PIDLabel {
			f = f.ByPID()
		}
		return f.GaugeVec()
	}
	m := checkMetrics{
		sockets: metrics.Sockets.GaugeVec(), wlSockets: fam(metrics.WorkloadSockets),
		wlProcs: fam(metrics.WorkloadProcesses), wlFDs: fam(metrics.WorkloadOpenFDs), wlUsage: fam(metrics.WorkloadFDUsage),
		kernel: metrics.KernelTCPSockets.GaugeVec(), violations: metrics.CheckViolations.GaugeVec(),
		warnLimit: metrics.CheckWarningThreshold.GaugeVec(), critLimit: metrics.CheckCriticalThreshold.GaugeVec(),
		status: metrics.CheckStatus.Gauge(), inspected: metrics.ProcessesInspected.Gauge(),
		denied: metrics.ProcessesUninspectable.Gauge(), scanTime: metrics.ScanTimestamp.Gauge(),
		listenQueue: fam(metrics.WorkloadListenQueue), listenBacklog: fam(metrics.WorkloadListenBacklog),
		errors: metrics.MetricErrors.Gauge(), rolledUp: metrics.WorkloadsRolledUp.Gauge(),
	}
	build, err := metrics.BuildInfoGauge("")
	if err != nil {
		return err
	}
	for _, c := range []prometheus.Collector{m.sockets, m.wlSockets, m.wlProcs, m.wlFDs, m.wlUsage, m.kernel, m.violations,
		m.warnLimit, m.critLimit, m.status, m.inspected, m.denied, m.scanTime, m.listenQueue, m.listenBacklog, m.errors,
		m.rolledUp, build} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	snap := r.Snapshot
	m.setSockets(r)
	maxWorkloads := l.MaxWorkloads
	if maxWorkloads <= 0 {
		maxWorkloads = DefaultMaxWorkloads
	}
	m.setWorkloads(r, vs, maxWorkloads, l.PIDLabel)
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

// setThresholds sets the checked thresholds, the violations and the
// check's status.
func (m *checkMetrics) setThresholds(r *Report, l CheckThresholds, vs []Violation) {
	for _, ms := range Measure(r, l) {
		// A threshold gauge is the maximum: a range that is none (a
		// minimum, "10:") has no series to compare a value with.
		if n, ok := ms.Level.Warn.Max(); ok {
			m.set(m.warnLimit, n, ms.Metric)
		}
		if n, ok := ms.Level.Crit.Max(); ok {
			m.set(m.critLimit, n, ms.Metric)
		}
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
