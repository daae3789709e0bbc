package report

import (
	"io"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/sockleak/sockleak/inspect"
)

// namespace prefixes every metric, as node_exporter's "node".
const namespace = "sockleak"

// Gatherer returns a check's metrics on a fresh registry of their own,
// modelled on node_exporter: one family per quantity, states as a
// lower-case "state" label ("close_wait"). Processes are labelled by pid
// and name; command lines never go into labels (unbounded, and they can
// hold secrets).
func Gatherer(r *Report, l CheckThresholds, vs []Violation) (prometheus.Gatherer, error) {
	reg := prometheus.NewRegistry()
	if err := registerMetrics(reg, r, l, vs); err != nil {
		return nil, err
	}
	return reg, nil
}

func registerMetrics(reg prometheus.Registerer, r *Report, l CheckThresholds, vs []Violation) error {
	gauge := func(subsystem, name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: subsystem, Name: name, Help: help,
		}, labels)
	}
	var (
		sockets = gauge("", "sockets",
			"TCP sockets in the scanned view by state; on an unfiltered scan, every socket of every network namespace.", "state")
		procSockets = gauge("process", "sockets",
			"TCP sockets a process holds, by state (a socket shared after fork counts for each holder).", "pid", "process", "state")
		openFDs = gauge("process", "open_fds", "File descriptors a process has open.", "pid", "process")
		maxFDs  = gauge("process", "fd_limit", "A process's soft limit on open files (absent when unlimited or unknown).", "pid", "process")
		kernel  = gauge("kernel", "tcp_sockets",
			"TCP sockets no process holds (TIME_WAIT, orphans), by state.", "state")
		violations = gauge("check", "violations",
			"Thresholds of sockleak check exceeded, by metric (a state's label or fd_usage) and severity.", "metric", "severity")
		warnLimit = gauge("check", "warning_threshold",
			"The warning threshold of each checked metric: above it is a warning.", "metric")
		critLimit = gauge("check", "critical_threshold",
			"The critical threshold of each checked metric: above it is critical.", "metric")
		status = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Subsystem: "check", Name: "status",
			Help: "Outcome of the check: 0 ok, 1 warning, 2 critical."})
		inspected = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "processes_inspected",
			Help: "Processes whose descriptors sockleak read."})
		denied = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "processes_uninspectable",
			Help: "Processes sockleak could not inspect (permission denied): run as root for complete ownership."})
		scanTime = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "scan_timestamp_seconds",
			Help: "When the scan was taken, in seconds since the Unix epoch."})
	)
	for _, c := range []prometheus.Collector{sockets, procSockets, openFDs, maxFDs, kernel, violations,
		warnLimit, critLimit, status, inspected, denied, scanTime} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}

	snap := r.Snapshot
	byState := map[string]float64{}
	for _, s := range snap.Sockets {
		byState[s.State.Label()]++
	}
	for _, st := range stateOrder() { // every known state, so a series never just disappears
		sockets.WithLabelValues(st).Set(byState[st])
	}
	for st, n := range r.Kernel {
		if n > 0 {
			kernel.WithLabelValues(st.Label()).Set(float64(n))
		}
	}

	// Processes: those the report shows (holding a socket, or with a
	// finding) and those with a violation.
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
	for _, p := range snap.Processes {
		if !shown[p.PID] {
			continue
		}
		pid := strconv.Itoa(p.PID)
		openFDs.WithLabelValues(pid, p.Name).Set(float64(p.FDs))
		if p.FDSoftLimit > 0 {
			maxFDs.WithLabelValues(pid, p.Name).Set(float64(p.FDSoftLimit))
		}
		for st, n := range rows[p.PID].States {
			if n > 0 {
				procSockets.WithLabelValues(pid, p.Name, st.Label()).Set(float64(n))
			}
		}
	}

	for _, m := range Measure(r, l) {
		warnLimit.WithLabelValues(m.Metric).Set(float64(m.Level.Warn))
		critLimit.WithLabelValues(m.Metric).Set(float64(m.Level.Crit))
		// Zero series for every checked metric, so "> 0" alerts resolve.
		violations.WithLabelValues(m.Metric, Warning.String())
		violations.WithLabelValues(m.Metric, Critical.String())
	}
	for _, v := range vs {
		violations.WithLabelValues(v.Metric, v.Severity.String()).Inc()
	}
	status.Set(float64(Status(vs)))
	inspected.Set(float64(len(snap.Processes)))
	denied.Set(float64(snap.Denied))
	scanTime.Set(float64(snap.Time.UnixMilli()) / 1000)
	return nil
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
// textfile collector, atomically: prometheus.WriteToTextfile writes a
// temporary file in the same directory (named path plus digits, which the
// collector ignores as it reads only *.prom) and renames it over path, so
// a scrape reads the old file or the new one, never half of one.
func WriteTextfile(path string, r *Report, l CheckThresholds, vs []Violation) error {
	g, err := Gatherer(r, l, vs)
	if err != nil {
		return err
	}
	return prometheus.WriteToTextfile(path, g)
}
