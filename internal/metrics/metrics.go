// Package metrics defines each of sockleak's Prometheus metric families
// once: its name, help text and label names. sockleak check's
// -o prometheus and --textfile (package report) and sockleak watch's
// /metrics (package watch) both export from these definitions, so a
// family they share has the same name, labels and meaning in both, and one
// set of alert rules (deploy/prometheus) serves both. The names are an
// API: alert rules and dashboards use them.
package metrics

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// Family is one metric family: a name, what it measures, and its labels.
// Processes are labelled by workload (WorkloadLabels), and with
// --pid-label by pid and name too, escaped as sockleak prints names (a
// process or unit names itself: invalid UTF-8, escape sequences); command
// lines never go into labels (unbounded, and they can hold secrets), not
// even those that tell processes of one name apart. States
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

// WorkloadLabels key the series of a workload (inspect.Workload): its kind
// ("unit", "container", "pod", "process", or "other" for the roll-up
// beyond the series cap), its name (Workload.Name: the unit, the pod's
// NAMESPACE/POD/CONTAINER, the container, or the process name), and the
// fields Prometheus users join on (namespace, pod and container as
// kube-state-metrics names them; scrape with honor_labels: true, or the
// target's own namespace and pod labels rename them exported_*). Empty
// when they do not apply. No pid: a workload keeps its series when its
// process restarts.
var WorkloadLabels = []string{"kind", "workload", "unit", "namespace", "pod", "container"}

// PIDLabels are added after WorkloadLabels when series are asked per
// process (--pid-label): the pid and the process name.
var PIDLabels = []string{"pid", "process"}

// OtherKind is the kind and workload label values of the roll-up: the
// workloads beyond the series cap, summed.
const OtherKind = "other"

// ByPID returns the family with PIDLabels inserted after WorkloadLabels,
// for series per process; a family without workload labels is returned
// as it is.
func (f Family) ByPID() Family {
	n := len(WorkloadLabels)
	if len(f.Labels) < n || !slices.Equal(f.Labels[:n], WorkloadLabels) {
		return f
	}
	f.Labels = slices.Concat(WorkloadLabels, PIDLabels, f.Labels[n:])
	return f
}

func workloadFamily(name, help string, extra ...string) Family {
	return Family{name, help, slices.Concat(WorkloadLabels, extra)}
}

// The workload families both sockleak check and sockleak watch export.
// Each is per workload (summed over its processes as the help says), or
// per process with --pid-label.
var (
	WorkloadSockets = workloadFamily("sockleak_workload_sockets",
		`TCP sockets the workload's processes hold, by state, each socket once (kind="other" sums the workloads beyond the series cap).`,
		"state")
	WorkloadProcesses = workloadFamily("sockleak_workload_processes",
		"Processes of the workload that sockleak inspected.")
	WorkloadOpenFDs = workloadFamily("sockleak_workload_open_fds",
		"File descriptors the workload's processes have open, summed.")
	WorkloadFDUsage = workloadFamily("sockleak_workload_fd_usage_ratio",
		"The highest ratio of open descriptors to the soft open-files limit among the workload's processes, 0-1: the limit is per process (absent when no limit is known).")
	WorkloadCloseWaitOldest = workloadFamily("sockleak_workload_close_wait_oldest_seconds",
		"How long the workload's oldest CLOSE_WAIT socket has been in the state, a lower bound (tcp_info's clock where the kernel tells, otherwise sockleak watch's samples).")
	WorkloadListenQueue = workloadFamily("sockleak_workload_listen_queue_connections",
		"Connections waiting in the accept queue of a listening socket of the workload, not accepted yet, for listeners whose queue is not empty; local is the listening address.",
		"local")
	WorkloadListenBacklog = workloadFamily("sockleak_workload_listen_backlog",
		"The backlog of a listening socket of the workload whose accept queue is not empty: past it the kernel drops new connections (absent when unknown).",
		"local")
	// SeriesRolledUp counts what the cap left out, so a roll-up is never
	// silent.
	WorkloadsRolledUp = Family{"sockleak_workloads_rolled_up",
		`Workloads (or processes, with --pid-label) beyond the series cap (--max-workloads), summed under kind="other".`, nil}
)

// The workload families of sockleak watch alone.
var (
	WorkloadSecondsToFDLimit = workloadFamily("sockleak_workload_seconds_to_fd_limit",
		"Estimated seconds until the first of the workload's processes reaches its soft open-files limit, at its descriptors' growth over the window or the workload's CLOSE_WAIT growth across restarts, whichever is sooner (only while they grow).")
	WorkloadFDLimitExits = workloadFamily("sockleak_workload_fd_limit_exits",
		"Processes of the workload that ended within the last 10 minutes at 80% of their soft open-files limit or more when last sampled (only while there are any): 3 or more, and the workload back, is a crash loop of a leak.")
	WatchWorkloads = Family{"sockleak_watch_workloads",
		"Workloads holding a socket of the view (or with a firing alert) at the latest sample, before the series cap.", nil}
)

// The families both sockleak check and sockleak watch export.
var (
	Sockets = Family{"sockleak_sockets",
		"TCP sockets in the scanned view by state; on an unfiltered scan, every socket of every network namespace.",
		[]string{"state"}}
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
)

// The families of sockleak watch alone.
var (
	SampleDuration = Family{"sockleak_sample_duration_seconds",
		"How long the latest sample took.", nil}
	SampleErrors = Family{"sockleak_sample_errors_total",
		"Samples that failed since sockleak watch started.", nil}
	WatchAlertsFiring = Family{"sockleak_watch_alerts_firing",
		"Workloads for which each of sockleak watch's own alert rules is firing.", []string{"rule"}}
)
