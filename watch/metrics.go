package watch

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/metrics"
	"github.com/sockleak/sockleak/internal/wording"
)

// OtherProcess is the process label of the processes beyond the exporter's
// limit, summed.
const OtherProcess = "other"

// DefaultMaxProcesses is how many processes get series of their own
// unless told otherwise.
const DefaultMaxProcesses = 50

// families are the metric families the exporter exports, as
// internal/metrics defines them: those it shares with sockleak check
// -o prometheus have the same names, labels and meaning, so one set of
// alert rules serves both.
var families = []metrics.Family{
	metrics.Sockets, metrics.ProcessSockets, metrics.ProcessOpenFDs, metrics.ProcessFDLimit, metrics.CloseWaitOldest,
	metrics.ProcessSecondsToFDLimit, metrics.SampleDuration, metrics.SampleErrors, metrics.ProcessesUninspectable,
	metrics.ProcessesInspected, metrics.ScanTimestamp, metrics.WatchAlertsFiring, metrics.WatchProcesses,
	metrics.MetricErrors,
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
	descProcessSockets   = metrics.ProcessSockets.Desc()
	descOpenFDs          = metrics.ProcessOpenFDs.Desc()
	descMaxFDs           = metrics.ProcessFDLimit.Desc()
	descCloseWaitOldest  = metrics.CloseWaitOldest.Desc()
	descSecondsToLimit   = metrics.ProcessSecondsToFDLimit.Desc()
	descSampleDuration   = metrics.SampleDuration.Desc()
	descSampleErrors     = metrics.SampleErrors.Desc()
	descDenied           = metrics.ProcessesUninspectable.Desc()
	descInspected        = metrics.ProcessesInspected.Desc()
	descScanTimestamp    = metrics.ScanTimestamp.Desc()
	descAlertsFiring     = metrics.WatchAlertsFiring.Desc()
	descProcessesTracked = metrics.WatchProcesses.Desc()
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
	maxProcs int

	mu      sync.Mutex
	metrics []prometheus.Metric
	failed  int // series of the latest sample that could not be built
	errors  int
	lastOK  time.Time
	lastErr error
	seen    bool
}

// NewExporter returns an exporter that gives series of their own to the
// maxProcesses processes with the most sockets (DefaultMaxProcesses when
// 0 or less), and sums the rest under process="other".
func NewExporter(maxProcesses int) *Exporter {
	if maxProcesses <= 0 {
		maxProcesses = DefaultMaxProcesses
	}
	return &Exporter{maxProcs: maxProcesses}
}

// Describe implements prometheus.Collector.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
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
	e.processes(out, st.Processes)
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
	out.gauge(descProcessesTracked, float64(len(st.Processes)))
}

// processes adds the series of the maxProcs processes with the most
// sockets, and those of the rest summed under process="other". The
// process label is the name alone: the command line that tells processes
// of one name apart in watch's lines (ProcStatus.Command) stays out.
func (e *Exporter) processes(out *series, all []ProcStatus) {
	procs := slices.Clone(all)
	slices.SortStableFunc(procs, func(a, b ProcStatus) int {
		return cmp.Or(cmp.Compare(b.Sockets, a.Sockets), cmp.Compare(len(b.Firing), len(a.Firing)), cmp.Compare(a.PID, b.PID))
	})
	for i := range procs[:min(len(procs), e.maxProcs)] {
		p := &procs[i]
		processSeries(out, strconv.Itoa(p.PID), p.Name, p.States, p.FDs, p.CloseWaitOldest(), p.ETA)
		if p.FDLimit > 0 {
			out.gauge(descMaxFDs, float64(p.FDLimit), strconv.Itoa(p.PID), p.Name)
		}
	}
	if len(procs) <= e.maxProcs {
		return
	}
	var (
		otherStates = map[inspect.TCPState]int{}
		otherFDs    int
		otherOldest time.Duration
		otherETA    time.Duration = -1
	)
	for _, p := range procs[e.maxProcs:] {
		for s, n := range p.States {
			otherStates[s] += n
		}
		otherFDs += p.FDs
		otherOldest = max(otherOldest, p.CloseWaitOldest())
		if p.ETA >= 0 && (otherETA < 0 || p.ETA < otherETA) {
			otherETA = p.ETA
		}
	}
	processSeries(out, "", OtherProcess, otherStates, otherFDs, otherOldest, otherETA)
}

// processSeries adds a process's series (or the roll-up's): its sockets
// by state, its descriptors, the age of its oldest CLOSE_WAIT socket
// while it holds one, and its time to the fd limit while its descriptors
// grow.
func processSeries(out *series, pid, name string, states map[inspect.TCPState]int, fds int, oldest, eta time.Duration) {
	for _, s := range inspect.States {
		if n := states[s]; n > 0 {
			out.gauge(descProcessSockets, float64(n), pid, name, s.Label())
		}
	}
	out.gauge(descOpenFDs, float64(fds), pid, name)
	if states[inspect.CloseWait] > 0 {
		out.gauge(descCloseWaitOldest, oldest.Seconds(), pid, name)
	}
	if eta >= 0 {
		out.gauge(descSecondsToLimit, eta.Seconds(), pid, name)
	}
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
