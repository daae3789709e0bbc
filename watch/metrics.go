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
)

// The metric names sockleak watch exports. Those it shares with sockleak
// check -o prometheus (report/prometheus.go) have the same names, labels
// and meaning, so one set of alert rules serves both.
const (
	MetricSockets          = "sockleak_sockets"
	MetricProcessSockets   = "sockleak_process_sockets"
	MetricOpenFDs          = "sockleak_process_open_fds"
	MetricMaxFDs           = "sockleak_process_fd_limit"
	MetricCloseWaitOldest  = "sockleak_close_wait_oldest_seconds"
	MetricSecondsToLimit   = "sockleak_process_seconds_to_fd_limit"
	MetricSampleDuration   = "sockleak_sample_duration_seconds"
	MetricSampleErrors     = "sockleak_sample_errors_total"
	MetricDenied           = "sockleak_processes_uninspectable"
	MetricInspected        = "sockleak_processes_inspected"
	MetricScanTimestamp    = "sockleak_scan_timestamp_seconds"
	MetricAlertsFiring     = "sockleak_watch_alerts_firing"
	MetricProcessesTracked = "sockleak_watch_processes"
)

// MetricNames lists every metric the exporter can export.
var MetricNames = []string{
	MetricSockets, MetricProcessSockets, MetricOpenFDs, MetricMaxFDs, MetricCloseWaitOldest,
	MetricSecondsToLimit, MetricSampleDuration, MetricSampleErrors, MetricDenied, MetricInspected,
	MetricScanTimestamp, MetricAlertsFiring, MetricProcessesTracked,
}

// OtherProcess is the process label of the processes beyond the exporter's
// limit, summed.
const OtherProcess = "other"

// DefaultMaxProcesses is how many processes get series of their own
// unless told otherwise.
const DefaultMaxProcesses = 50

var (
	descSockets = prometheus.NewDesc(MetricSockets,
		"TCP sockets in the scanned view by state; on an unfiltered scan, every socket of every network namespace.", []string{"state"}, nil)
	descProcessSockets = prometheus.NewDesc(MetricProcessSockets,
		`TCP sockets a process holds, by state (a socket shared after fork counts for each holder); process="other" sums the processes beyond --max-processes.`,
		[]string{"pid", "process", "state"}, nil)
	descOpenFDs = prometheus.NewDesc(MetricOpenFDs,
		`File descriptors a process has open; process="other" sums the processes beyond --max-processes.`, []string{"pid", "process"}, nil)
	descMaxFDs = prometheus.NewDesc(MetricMaxFDs,
		"A process's soft limit on open files (absent when unlimited or unknown).", []string{"pid", "process"}, nil)
	descCloseWaitOldest = prometheus.NewDesc(MetricCloseWaitOldest,
		`How long the process's oldest CLOSE_WAIT socket has been in the state, as seen by watch's samples (a lower bound); process="other": the oldest of the rest.`,
		[]string{"pid", "process"}, nil)
	descSecondsToLimit = prometheus.NewDesc(MetricSecondsToLimit,
		`Estimated seconds until the process's open descriptors reach its soft limit, at their growth over the window (only while they grow); process="other": the soonest of the rest.`,
		[]string{"pid", "process"}, nil)
	descSampleDuration = prometheus.NewDesc(MetricSampleDuration,
		"How long the latest sample took.", nil, nil)
	descSampleErrors = prometheus.NewDesc(MetricSampleErrors,
		"Samples that failed since sockleak watch started.", nil, nil)
	descDenied = prometheus.NewDesc(MetricDenied,
		"Processes sockleak could not inspect (permission denied): run as root for complete ownership.", nil, nil)
	descInspected = prometheus.NewDesc(MetricInspected,
		"Processes whose descriptors sockleak read.", nil, nil)
	descScanTimestamp = prometheus.NewDesc(MetricScanTimestamp,
		"When the latest successful sample was taken, in seconds since the Unix epoch.", nil, nil)
	descAlertsFiring = prometheus.NewDesc(MetricAlertsFiring,
		"Processes for which each of sockleak watch's own alert rules is firing.", []string{"rule"}, nil)
	descProcessesTracked = prometheus.NewDesc(MetricProcessesTracked,
		"Processes holding a socket of the view (or with a firing alert) at the latest sample, before the --max-processes roll-up.", nil, nil)
)

// Exporter serves the metrics of the latest sample to Prometheus. Update
// builds them on the sampling loop; a scrape only copies them out, so it
// never scans /proc and never sees half a sample. Safe for concurrent use.
type Exporter struct {
	maxProcs int

	mu      sync.Mutex
	metrics []prometheus.Metric
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
	for _, d := range []*prometheus.Desc{descSockets, descProcessSockets, descOpenFDs, descMaxFDs, descCloseWaitOldest,
		descSecondsToLimit, descSampleDuration, descSampleErrors, descDenied, descInspected, descScanTimestamp,
		descAlertsFiring, descProcessesTracked} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.mu.Lock()
	ms, errs := e.metrics, e.errors
	e.mu.Unlock()
	for _, m := range ms {
		ch <- m
	}
	ch <- prometheus.MustNewConstMetric(descSampleErrors, prometheus.CounterValue, float64(errs))
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
	ms := e.build(st)
	e.mu.Lock()
	e.metrics, e.errors, e.lastOK, e.lastErr, e.seen = ms, st.Errors, st.Time, nil, true
	e.mu.Unlock()
}

func (e *Exporter) build(st *Status) []prometheus.Metric {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
		return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	var ms []prometheus.Metric
	for _, s := range inspect.States { // every state, so a series never just disappears
		ms = append(ms, gauge(descSockets, float64(st.States[s]), s.Label()))
	}
	procs := slices.Clone(st.Processes)
	slices.SortStableFunc(procs, func(a, b ProcStatus) int {
		return cmp.Or(cmp.Compare(b.Sockets, a.Sockets), cmp.Compare(len(b.Firing), len(a.Firing)), cmp.Compare(a.PID, b.PID))
	})
	var (
		other       bool
		otherStates = map[inspect.TCPState]int{}
		otherFDs    int
		otherOldest time.Duration
		otherETA    time.Duration = -1
	)
	for i := range procs {
		p := &procs[i]
		if i >= e.maxProcs {
			other = true
			for s, n := range p.States {
				otherStates[s] += n
			}
			otherFDs += p.FDs
			otherOldest = max(otherOldest, p.CloseWaitOldest())
			if p.ETA >= 0 && (otherETA < 0 || p.ETA < otherETA) {
				otherETA = p.ETA
			}
			continue
		}
		pid := strconv.Itoa(p.PID)
		for _, s := range inspect.States {
			if n := p.States[s]; n > 0 {
				ms = append(ms, gauge(descProcessSockets, float64(n), pid, p.Name, s.Label()))
			}
		}
		ms = append(ms, gauge(descOpenFDs, float64(p.FDs), pid, p.Name))
		if p.FDLimit > 0 {
			ms = append(ms, gauge(descMaxFDs, float64(p.FDLimit), pid, p.Name))
		}
		if p.States[inspect.CloseWait] > 0 {
			ms = append(ms, gauge(descCloseWaitOldest, p.CloseWaitOldest().Seconds(), pid, p.Name))
		}
		if p.ETA >= 0 {
			ms = append(ms, gauge(descSecondsToLimit, p.ETA.Seconds(), pid, p.Name))
		}
	}
	if other {
		for _, s := range inspect.States {
			if n := otherStates[s]; n > 0 {
				ms = append(ms, gauge(descProcessSockets, float64(n), "", OtherProcess, s.Label()))
			}
		}
		ms = append(ms, gauge(descOpenFDs, float64(otherFDs), "", OtherProcess))
		if otherStates[inspect.CloseWait] > 0 {
			ms = append(ms, gauge(descCloseWaitOldest, otherOldest.Seconds(), "", OtherProcess))
		}
		if otherETA >= 0 {
			ms = append(ms, gauge(descSecondsToLimit, otherETA.Seconds(), "", OtherProcess))
		}
	}
	firing := map[string]int{}
	for i := range st.Processes {
		for _, r := range st.Processes[i].Firing {
			firing[r]++
		}
	}
	for _, r := range ruleOrder {
		ms = append(ms, gauge(descAlertsFiring, float64(firing[r]), r))
	}
	ms = append(ms,
		gauge(descSampleDuration, st.Took.Seconds()),
		gauge(descDenied, float64(st.Denied)),
		gauge(descInspected, float64(st.Inspected)),
		gauge(descScanTimestamp, float64(st.Time.UnixMilli())/1000),
		gauge(descProcessesTracked, float64(len(st.Processes))),
	)
	return ms
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
