package watch

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/metrics"
	"github.com/sockleak/sockleak/internal/wording"
)

// DefaultMaxWorkloads is how many workloads get series of their own
// unless told otherwise (--max-workloads).
const DefaultMaxWorkloads = 50

// OtherSeries bounds the series of one workload (or of the roll-up)
// besides its sockets by state (one per state it holds, of the
// len(inspect.States) = 12): processes, open fds, fd usage, CLOSE_WAIT
// age, time to the limit, processes that ended at the limit.
const OtherSeries = 6

// fixedFamilies are the series without labels (sockleak_sample_*,
// sockleak_processes_*, sockleak_scan_timestamp_seconds,
// sockleak_watch_workloads, sockleak_workloads_rolled_up,
// sockleak_metric_errors).
const fixedFamilies = 8

// MaxSeries is the most series the exporter exports with a cap of
// maxWorkloads: (maxWorkloads+1) groups (the roll-up is one) of at most
// len(inspect.States)+OtherSeries series each, plus sockleak_sockets by
// state, sockleak_watch_alerts_firing by rule and the 8 without labels:
// 18 × (N+1) + 25, 943 for the default 50.
func MaxSeries(maxWorkloads int) int {
	return (maxWorkloads+1)*(len(inspect.States)+OtherSeries) + len(inspect.States) + len(ruleOrder) + fixedFamilies
}

// families are the metric families the exporter exports, as
// internal/metrics defines them: those it shares with sockleak check
// -o prometheus have the same names, labels and meaning, so one set of
// alert rules serves both.
var families = []metrics.Family{
	metrics.Sockets, metrics.WorkloadSockets, metrics.WorkloadProcesses, metrics.WorkloadOpenFDs, metrics.WorkloadFDUsage,
	metrics.WorkloadCloseWaitOldest, metrics.WorkloadSecondsToFDLimit, metrics.WorkloadFDLimitExits, metrics.WorkloadsRolledUp, metrics.SampleDuration,
	metrics.SampleErrors, metrics.ProcessesUninspectable, metrics.ProcessesInspected, metrics.ScanTimestamp,
	metrics.WatchAlertsFiring, metrics.WatchWorkloads, metrics.MetricErrors,
}

// MetricNames lists every metric the exporter can export.
var MetricNames = func() []string {
	out := make([]string, len(families))
	for i, f := range families {
		out[i] = f.Name
	}
	return out
}()

var (
	descSockets          = metrics.Sockets.Desc()
	descRolledUp         = metrics.WorkloadsRolledUp.Desc()
	descSampleDuration   = metrics.SampleDuration.Desc()
	descSampleErrors     = metrics.SampleErrors.Desc()
	descDenied           = metrics.ProcessesUninspectable.Desc()
	descInspected        = metrics.ProcessesInspected.Desc()
	descScanTimestamp    = metrics.ScanTimestamp.Desc()
	descAlertsFiring     = metrics.WatchAlertsFiring.Desc()
	descWorkloadsTracked = metrics.WatchWorkloads.Desc()
	descMetricErrors     = metrics.MetricErrors.Desc()
)

// Exporter serves the metrics of the latest sample to Prometheus. Update
// builds them on the sampling loop; a scrape only copies them out, so it
// never scans /proc and never sees half a sample. Label values are
// escaped (wording.Escape: a process names itself), and a series that
// still cannot be built is left out and counted in sockleak_metric_errors:
// nothing a process calls itself stops the exporter. Safe for concurrent
// use.
type Exporter struct {
	max   int  // groups with series of their own
	byPID bool // a group is a process, not a workload
	descs workloadDescs

	mu      sync.Mutex
	metrics []prometheus.Metric
	failed  int // series of the latest sample that could not be built
	errors  int
	lastOK  time.Time
	lastErr error
	seen    bool
}

// NewExporter returns an exporter that gives series of their own to the
// maxWorkloads worst workloads (DefaultMaxWorkloads when 0 or less), and
// sums the rest under kind="other". With byPID (--pid-label) the series
// are per process, with pid and process labels, and the cap counts
// processes.
func NewExporter(maxWorkloads int, byPID bool) *Exporter {
	if maxWorkloads <= 0 {
		maxWorkloads = DefaultMaxWorkloads
	}
	return &Exporter{max: maxWorkloads, byPID: byPID, descs: newWorkloadDescs(byPID)}
}

// Describe implements prometheus.Collector.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
		if e.byPID {
			f = f.ByPID()
		}
		ch <- f.Desc()
	}
}

// Collect implements prometheus.Collector.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	ms, errs, failed := e.metrics, e.errors, e.failed
	e.mu.Unlock()
	for _, m := range ms {
		ch <- m
	}
	// Neither has labels: they cannot fail.
	if m, err := prometheus.NewConstMetric(descSampleErrors, prometheus.CounterValue, float64(errs)); err == nil {
		ch <- m
	}
	if m, err := prometheus.NewConstMetric(descMetricErrors, prometheus.GaugeValue, float64(failed)); err == nil {
		ch <- m
	}
}

// Update takes a status from the sampling loop. A failed sample counts in
// sockleak_sample_errors_total and leaves the other metrics as they were.
func (e *Exporter) Update(st *Status) {
	if st.Err != nil {
		e.mu.Lock()
		e.errors = st.Errors
		e.lastErr = st.Err
		e.seen = true
		e.mu.Unlock()
		return
	}
	var out series
	e.build(&out, st)
	e.mu.Lock()
	e.metrics, e.failed, e.errors, e.lastOK, e.lastErr, e.seen = out.ms, out.failed, st.Errors, st.Time, nil, true
	e.mu.Unlock()
}

// series are the metrics of one sample, and how many could not be built.
type series struct {
	ms     []prometheus.Metric
	failed int
}

// gauge adds a gauge with these label values, escaped; one that cannot
// be built is counted, not fatal.
func (s *series) gauge(d *prometheus.Desc, v float64, labels ...string) {
	for i, l := range labels {
		labels[i] = wording.Escape(l)
	}
	m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, v, labels...)
	if err != nil {
		s.failed++
		return
	}
	s.ms = append(s.ms, m)
}

func (e *Exporter) build(out *series, st *Status) {
	for _, s := range inspect.States { // every state, so a series never just disappears
		out.gauge(descSockets, float64(st.States[s]), s.Label())
	}
	groups := addExits(groupStatuses(st.Processes, e.byPID), st.Workloads, e.byPID)
	e.workloads(out, groups)
	firing := map[string]int{}
	for i := range st.Processes {
		for _, r := range st.Processes[i].Firing {
			firing[r]++
		}
	}
	for _, r := range ruleOrder {
		out.gauge(descAlertsFiring, float64(firing[r]), r)
	}
	out.gauge(descSampleDuration, st.Took.Seconds())
	out.gauge(descDenied, float64(st.Denied))
	out.gauge(descInspected, float64(st.Inspected))
	out.gauge(descScanTimestamp, float64(st.Time.UnixMilli())/1000)
	out.gauge(descWorkloadsTracked, float64(len(groups)))
}

// Health reports whether the exporter's data is fresh at now: a sample
// succeeded, the latest one did, and it is no older than maxAge.
func (e *Exporter) Health(now time.Time, maxAge time.Duration) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case !e.seen:
		return errors.New("no sample yet")
	case e.lastErr != nil:
		return fmt.Errorf("the latest sample failed: %v", e.lastErr)
	case now.Sub(e.lastOK) > maxAge:
		return fmt.Errorf("the latest sample is %s old", now.Sub(e.lastOK).Round(time.Millisecond))
	}
	return nil
}

// Handler serves /metrics from g and /healthz from health: 200 "ok", or
// 503 and the reason.
func Handler(g prometheus.Gatherer, health func() error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := health(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, err.Error()+"\n")
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<html><head><title>sockleak watch</title></head><body><h1>sockleak watch</h1><p><a href="/metrics">Metrics</a> · <a href="/healthz">Health</a></p></body></html>`+"\n")
	})
	return mux
}
