// Package metrics defines each of sockleak's Prometheus metric families
// once: its name, help text and label names. sockleak check's
// -o prometheus and --textfile (package report) and sockleak watch's
// /metrics (package watch) both export from these definitions, so a
// family they share has the same name, labels and meaning in both, and one
// set of alert rules (deploy/prometheus) serves both. The names are an
// API: alert rules and dashboards use them.
package metrics

import "github.com/prometheus/client_golang/prometheus"

// Family is one metric family: a name, what it measures, and its labels.
// Processes are labelled by pid and name, escaped as sockleak prints
// names (a process names itself: invalid UTF-8, escape sequences);
// command lines never go into labels (unbounded, and they can hold
// secrets), not even those that tell processes of one name apart. States
// are lower case, as node_exporter's ("close_wait").
type Family struct {
	Name   string
	Help   string
	Labels []string
}

// Desc returns the family's descriptor, for a collector that builds its
// metrics itself (watch's exporter).
func (f Family) Desc() *prometheus.Desc {
	return prometheus.NewDesc(f.Name, f.Help, f.Labels, nil)
}

// GaugeVec returns a gauge vector of the family (report).
func (f Family) GaugeVec() *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: f.Name, Help: f.Help}, f.Labels)
}

// Gauge returns a gauge of a family without labels (report).
func (f Family) Gauge() prometheus.Gauge {
	return prometheus.NewGauge(prometheus.GaugeOpts{Name: f.Name, Help: f.Help})
}

// The families both sockleak check and sockleak watch export.
var (
	Sockets = Family{"sockleak_sockets",
		"TCP sockets in the scanned view by state; on an unfiltered scan, every socket of every network namespace.",
		[]string{"state"}}
	ProcessSockets = Family{"sockleak_process_sockets",
		`TCP sockets a process holds, by state (a socket shared after fork counts for each holder); process="other" sums the processes beyond --max-processes (sockleak watch's and check's).`,
		[]string{"pid", "process", "state"}}
	ProcessOpenFDs = Family{"sockleak_process_open_fds",
		`File descriptors a process has open; process="other" sums the processes beyond --max-processes (sockleak watch's and check's).`,
		[]string{"pid", "process"}}
	ProcessFDLimit = Family{"sockleak_process_fd_limit",
		"A process's soft limit on open files (absent when unlimited or unknown).",
		[]string{"pid", "process"}}
	ProcessesInspected = Family{"sockleak_processes_inspected",
		"Processes whose descriptors sockleak read.", nil}
	ProcessesUninspectable = Family{"sockleak_processes_uninspectable",
		"Processes sockleak could not inspect (permission denied): run as root for complete ownership.", nil}
	ScanTimestamp = Family{"sockleak_scan_timestamp_seconds",
		"When the latest successful scan was taken, in seconds since the Unix epoch.", nil}
	MetricErrors = Family{"sockleak_metric_errors",
		"Series left out of the latest output because they could not be built from what the scan read (label values are escaped first, so this stays 0 unless sockleak has a bug).", nil}
)

// The families of sockleak check alone.
var (
	KernelTCPSockets = Family{"sockleak_kernel_tcp_sockets",
		"TCP sockets no process holds (TIME_WAIT, orphans), by state.", []string{"state"}}
	CheckViolations = Family{"sockleak_check_violations",
		"Thresholds of sockleak check exceeded, by metric (a state's label or fd_usage) and severity.",
		[]string{"metric", "severity"}}
	CheckWarningThreshold = Family{"sockleak_check_warning_threshold",
		"The warning threshold of each checked metric: above it is a warning.", []string{"metric"}}
	CheckCriticalThreshold = Family{"sockleak_check_critical_threshold",
		"The critical threshold of each checked metric: above it is critical.", []string{"metric"}}
	CheckStatus = Family{"sockleak_check_status",
		"Outcome of the check: 0 ok, 1 warning, 2 critical.", nil}
	ListenQueue = Family{"sockleak_listen_queue_connections",
		`Connections waiting in a listening socket's accept queue, not accepted yet, for listeners whose queue is not empty; local is the listening address.`,
		[]string{"pid", "process", "local"}}
	ListenBacklog = Family{"sockleak_listen_backlog",
		"The backlog of a listening socket whose accept queue is not empty: past it the kernel drops new connections (absent when unknown).",
		[]string{"pid", "process", "local"}}
)

// The families of sockleak watch alone.
var (
	CloseWaitOldest = Family{"sockleak_close_wait_oldest_seconds",
		`How long the process's oldest CLOSE_WAIT socket has been in the state, a lower bound, from the kernel's clock (tcp_info) where it tells, otherwise from watch's samples; process="other": the oldest of the rest.`,
		[]string{"pid", "process"}}
	ProcessSecondsToFDLimit = Family{"sockleak_process_seconds_to_fd_limit",
		`Estimated seconds until the process's open descriptors reach its soft limit, at their growth over the window (only while they grow); process="other": the soonest of the rest.`,
		[]string{"pid", "process"}}
	SampleDuration = Family{"sockleak_sample_duration_seconds",
		"How long the latest sample took.", nil}
	SampleErrors = Family{"sockleak_sample_errors_total",
		"Samples that failed since sockleak watch started.", nil}
	WatchAlertsFiring = Family{"sockleak_watch_alerts_firing",
		"Processes for which each of sockleak watch's own alert rules is firing.", []string{"rule"}}
	WatchProcesses = Family{"sockleak_watch_processes",
		"Processes holding a socket of the view (or with a firing alert) at the latest sample, before the --max-processes roll-up.", nil}
)
