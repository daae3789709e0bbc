package report

import (
	"io"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/metrics"
)

// Gatherer returns a check's metrics on a fresh registry of their own,
// modelled on node_exporter: one family per quantity (internal/metrics
// defines them, for watch too), states as a lower-case "state" label
// ("close_wait"). Processes are labelled by pid and name; command lines
// never go into labels (unbounded, and they can hold secrets).
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
	status, inspected, denied, scanTime           prometheus.Gauge
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
	}
	for _, c := range []prometheus.Collector{m.sockets, m.procSockets, m.openFDs, m.maxFDs, m.kernel, m.violations,
		m.warnLimit, m.critLimit, m.status, m.inspected, m.denied, m.scanTime, m.listenQueue, m.listenBacklog} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	snap := r.Snapshot
	m.setSockets(r)
	m.setListeners(r)
	m.setProcesses(r, vs)
	m.setThresholds(r, l, vs)
	m.inspected.Set(float64(len(snap.Processes)))
	m.denied.Set(float64(snap.Denied))
	m.scanTime.Set(float64(snap.Time.UnixMilli()) / 1000)
	return nil
}

// setSockets counts the view's sockets by state, and the kernel's.
func (m *checkMetrics) setSockets(r *Report) {
	byState := map[string]float64{}
	for _, s := range r.Snapshot.Sockets {
		byState[s.State.Label()]++
	}
	for _, st := range stateOrder() { // every known state, so a series never just disappears
		m.sockets.WithLabelValues(st).Set(byState[st])
	}
	for st, n := range r.Kernel {
		if n > 0 {
			m.kernel.WithLabelValues(st.Label()).Set(float64(n))
		}
	}
}

// setListeners sets the accept queue and backlog of every listener whose
// queue is not empty: few series, and the ones an alert on a server that
// stopped accepting needs.
func (m *checkMetrics) setListeners(r *Report) {
	names := map[int]string{}
	for _, p := range r.Snapshot.Processes {
		names[p.PID] = p.Name
	}
	for i := range r.Snapshot.Sockets {
		s := &r.Snapshot.Sockets[i]
		if s.State != inspect.Listen || s.RxQueue == 0 {
			continue
		}
		pid := socketOwner(s)
		labels := []string{strconv.Itoa(pid), strings.ToValidUTF8(names[pid], "?"), s.Local.String()}
		m.listenQueue.WithLabelValues(labels...).Set(float64(s.RxQueue))
		if s.TxQueue > 0 {
			m.listenBacklog.WithLabelValues(labels...).Set(float64(s.TxQueue))
		}
	}
}

// setProcesses sets the series of the processes the report shows
// (holding a socket, or with a finding) and of those with a violation.
func (m *checkMetrics) setProcesses(r *Report, vs []Violation) {
	shown := map[int]bool{}
	for _, p := range r.Processes {
		shown[p.PID] = true
	}
	for _, v := range vs {
		if v.PID > 0 {
			shown[v.PID] = true
		}
	}
	rows := map[int]ProcessRow{}
	for _, p := range r.Processes {
		rows[p.PID] = p
	}
	for _, p := range r.Snapshot.Processes {
		if !shown[p.PID] {
			continue
		}
		pid := strconv.Itoa(p.PID)
		m.openFDs.WithLabelValues(pid, p.Name).Set(float64(p.FDs))
		if p.FDSoftLimit > 0 {
			m.maxFDs.WithLabelValues(pid, p.Name).Set(float64(p.FDSoftLimit))
		}
		for st, n := range rows[p.PID].States {
			if n > 0 {
				m.procSockets.WithLabelValues(pid, p.Name, st.Label()).Set(float64(n))
			}
		}
	}
}

// setThresholds sets the checked thresholds, the violations and the
// check's status.
func (m *checkMetrics) setThresholds(r *Report, l CheckThresholds, vs []Violation) {
	for _, ms := range Measure(r, l) {
		m.warnLimit.WithLabelValues(ms.Metric).Set(float64(ms.Level.Warn))
		m.critLimit.WithLabelValues(ms.Metric).Set(float64(ms.Level.Crit))
		// Zero series for every checked metric, so "> 0" alerts resolve.
		m.violations.WithLabelValues(ms.Metric, Warning.String())
		m.violations.WithLabelValues(ms.Metric, Critical.String())
	}
	if l.AcceptQueue {
		m.violations.WithLabelValues(MetricAcceptQueue, Warning.String())
		m.violations.WithLabelValues(MetricAcceptQueue, Critical.String())
	}
	for _, v := range vs {
		m.violations.WithLabelValues(v.Metric, v.Severity.String()).Inc()
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
