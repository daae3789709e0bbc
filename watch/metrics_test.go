package watch

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sockleak/sockleak/internal/metrics"
)

// exporterStatus is three processes: 42 leaking (6 CLOSE_WAIT, growing),
// 7 with 4 ESTABLISHED, 9 with 1 CLOSE_WAIT and 1 ESTABLISHED.
func exporterStatus(t *testing.T) *Status {
	t.Helper()
	m := NewMonitor(Config{Window: time.Minute, Thresholds: Thresholds{CloseWait: 4}})
	var st *Status
	for i := range 4 {
		procs := []procSpec{
			{pid: 42, start: 1, name: "leaky", cw: 2 * i, extraFDs: 4, limit: 64},
			{pid: 7, start: 1, name: "sshd", est: 4, extraFDs: 3, limit: 1024},
			{pid: 9, start: 1, name: "cron", cw: 1, cwBase: 900, est: 1, extraFDs: 1, limit: -1},
		}
		if i < 3 { // crashy.service dies at its fd limit before the last sample
			procs = append(procs, procSpec{pid: 50, start: 1, name: "crashy", fds: 60, limit: 64, unit: "crashy.service"})
		}
		st = m.Observe(sample(time.Duration(i)*10*time.Second, procs...))
	}
	st.Took = 250 * time.Millisecond
	st.Denied, st.Errors = 2, 1
	return st
}

// workloadFamilies are the families of each workload's series.
var workloadFamilies = []string{metrics.WorkloadSockets.Name, metrics.WorkloadProcesses.Name, metrics.WorkloadOpenFDs.Name,
	metrics.WorkloadFDUsage.Name, metrics.WorkloadCloseWaitOldest.Name, metrics.WorkloadSecondsToFDLimit.Name,
	metrics.WorkloadFDLimitExits.Name, metrics.WorkloadsRolledUp.Name}

// exporterCases are the exposition of exporterStatus's families with
// series for max workloads.
var exporterCases = []struct {
	name     string
	max      int
	metrics  []string
	expected string
}{
	{
		name: "every workload", max: 50,
		metrics: workloadFamilies,
		expected: `
# HELP sockleak_workload_close_wait_oldest_seconds How long the workload's oldest CLOSE_WAIT socket has been in the state, a lower bound (tcp_info's clock where the kernel tells, otherwise sockleak watch's samples).
# TYPE sockleak_workload_close_wait_oldest_seconds gauge
sockleak_workload_close_wait_oldest_seconds{container="",kind="process",namespace="",pod="",unit="",workload="cron"} 30
sockleak_workload_close_wait_oldest_seconds{container="",kind="process",namespace="",pod="",unit="",workload="leaky"} 20
# HELP sockleak_workload_fd_limit_exits Processes of the workload that ended within the last 10 minutes at 80% of their soft open-files limit or more when last sampled (only while there are any): 3 or more, and the workload back, is a crash loop of a leak.
# TYPE sockleak_workload_fd_limit_exits gauge
sockleak_workload_fd_limit_exits{container="",kind="unit",namespace="",pod="",unit="crashy.service",workload="crashy.service"} 1
# HELP sockleak_workload_fd_usage_ratio The highest ratio of open descriptors to the soft open-files limit among the workload's processes, 0-1: the limit is per process (absent when no limit is known).
# TYPE sockleak_workload_fd_usage_ratio gauge
sockleak_workload_fd_usage_ratio{container="",kind="process",namespace="",pod="",unit="",workload="leaky"} 0.15625
sockleak_workload_fd_usage_ratio{container="",kind="process",namespace="",pod="",unit="",workload="sshd"} 0.0068359375
# HELP sockleak_workload_open_fds File descriptors the workload's processes have open, summed.
# TYPE sockleak_workload_open_fds gauge
sockleak_workload_open_fds{container="",kind="process",namespace="",pod="",unit="",workload="cron"} 3
sockleak_workload_open_fds{container="",kind="process",namespace="",pod="",unit="",workload="leaky"} 10
sockleak_workload_open_fds{container="",kind="process",namespace="",pod="",unit="",workload="sshd"} 7
sockleak_workload_open_fds{container="",kind="unit",namespace="",pod="",unit="crashy.service",workload="crashy.service"} 0
# HELP sockleak_workload_processes Processes of the workload that sockleak inspected.
# TYPE sockleak_workload_processes gauge
sockleak_workload_processes{container="",kind="process",namespace="",pod="",unit="",workload="cron"} 1
sockleak_workload_processes{container="",kind="process",namespace="",pod="",unit="",workload="leaky"} 1
sockleak_workload_processes{container="",kind="process",namespace="",pod="",unit="",workload="sshd"} 1
sockleak_workload_processes{container="",kind="unit",namespace="",pod="",unit="crashy.service",workload="crashy.service"} 0
# HELP sockleak_workload_seconds_to_fd_limit Estimated seconds until the first of the workload's processes reaches its soft open-files limit, at its descriptors' growth over the window or the workload's CLOSE_WAIT growth across restarts, whichever is sooner (only while they grow).
# TYPE sockleak_workload_seconds_to_fd_limit gauge
sockleak_workload_seconds_to_fd_limit{container="",kind="process",namespace="",pod="",unit="",workload="leaky"} 270
# HELP sockleak_workload_sockets TCP sockets the workload's processes hold, by state, each socket once (kind="other" sums the workloads beyond the series cap).
# TYPE sockleak_workload_sockets gauge
sockleak_workload_sockets{container="",kind="process",namespace="",pod="",state="close_wait",unit="",workload="cron"} 1
sockleak_workload_sockets{container="",kind="process",namespace="",pod="",state="close_wait",unit="",workload="leaky"} 6
sockleak_workload_sockets{container="",kind="process",namespace="",pod="",state="established",unit="",workload="cron"} 1
sockleak_workload_sockets{container="",kind="process",namespace="",pod="",state="established",unit="",workload="sshd"} 4
# HELP sockleak_workloads_rolled_up Workloads (or processes, with --pid-label) beyond the series cap (--max-workloads), summed under kind="other".
# TYPE sockleak_workloads_rolled_up gauge
sockleak_workloads_rolled_up 0
`,
	},
	{
		name: "one workload of its own, the rest summed as other", max: 1,
		metrics: workloadFamilies,
		expected: `
# HELP sockleak_workload_close_wait_oldest_seconds How long the workload's oldest CLOSE_WAIT socket has been in the state, a lower bound (tcp_info's clock where the kernel tells, otherwise sockleak watch's samples).
# TYPE sockleak_workload_close_wait_oldest_seconds gauge
sockleak_workload_close_wait_oldest_seconds{container="",kind="other",namespace="",pod="",unit="",workload="other"} 30
sockleak_workload_close_wait_oldest_seconds{container="",kind="process",namespace="",pod="",unit="",workload="leaky"} 20
# HELP sockleak_workload_fd_limit_exits Processes of the workload that ended within the last 10 minutes at 80% of their soft open-files limit or more when last sampled (only while there are any): 3 or more, and the workload back, is a crash loop of a leak.
# TYPE sockleak_workload_fd_limit_exits gauge
sockleak_workload_fd_limit_exits{container="",kind="other",namespace="",pod="",unit="",workload="other"} 1
# HELP sockleak_workload_fd_usage_ratio The highest ratio of open descriptors to the soft open-files limit among the workload's processes, 0-1: the limit is per process (absent when no limit is known).
# TYPE sockleak_workload_fd_usage_ratio gauge
sockleak_workload_fd_usage_ratio{container="",kind="other",namespace="",pod="",unit="",workload="other"} 0.0068359375
sockleak_workload_fd_usage_ratio{container="",kind="process",namespace="",pod="",unit="",workload="leaky"} 0.15625
# HELP sockleak_workload_open_fds File descriptors the workload's processes have open, summed.
# TYPE sockleak_workload_open_fds gauge
sockleak_workload_open_fds{container="",kind="other",namespace="",pod="",unit="",workload="other"} 10
sockleak_workload_open_fds{container="",kind="process",namespace="",pod="",unit="",workload="leaky"} 10
# HELP sockleak_workload_processes Processes of the workload that sockleak inspected.
# TYPE sockleak_workload_processes gauge
sockleak_workload_processes{container="",kind="other",namespace="",pod="",unit="",workload="other"} 2
sockleak_workload_processes{container="",kind="process",namespace="",pod="",unit="",workload="leaky"} 1
# HELP sockleak_workload_seconds_to_fd_limit Estimated seconds until the first of the workload's processes reaches its soft open-files limit, at its descriptors' growth over the window or the workload's CLOSE_WAIT growth across restarts, whichever is sooner (only while they grow).
# TYPE sockleak_workload_seconds_to_fd_limit gauge
sockleak_workload_seconds_to_fd_limit{container="",kind="process",namespace="",pod="",unit="",workload="leaky"} 270
# HELP sockleak_workload_sockets TCP sockets the workload's processes hold, by state, each socket once (kind="other" sums the workloads beyond the series cap).
# TYPE sockleak_workload_sockets gauge
sockleak_workload_sockets{container="",kind="other",namespace="",pod="",state="close_wait",unit="",workload="other"} 1
sockleak_workload_sockets{container="",kind="other",namespace="",pod="",state="established",unit="",workload="other"} 5
sockleak_workload_sockets{container="",kind="process",namespace="",pod="",state="close_wait",unit="",workload="leaky"} 6
# HELP sockleak_workloads_rolled_up Workloads (or processes, with --pid-label) beyond the series cap (--max-workloads), summed under kind="other".
# TYPE sockleak_workloads_rolled_up gauge
sockleak_workloads_rolled_up 3
`,
	},
	{
		name: "host and sample metrics", max: 50,
		metrics: []string{metrics.Sockets.Name, metrics.SampleDuration.Name, metrics.SampleErrors.Name, metrics.ProcessesUninspectable.Name, metrics.ProcessesInspected.Name,
			metrics.WatchAlertsFiring.Name, metrics.WatchWorkloads.Name},
		expected: `
# HELP sockleak_processes_inspected Processes whose descriptors sockleak read.
# TYPE sockleak_processes_inspected gauge
sockleak_processes_inspected 3
# HELP sockleak_processes_uninspectable Processes sockleak could not inspect (permission denied): run as root for complete ownership.
# TYPE sockleak_processes_uninspectable gauge
sockleak_processes_uninspectable 2
# HELP sockleak_sample_duration_seconds How long the latest sample took.
# TYPE sockleak_sample_duration_seconds gauge
sockleak_sample_duration_seconds 0.25
# HELP sockleak_sample_errors_total Samples that failed since sockleak watch started.
# TYPE sockleak_sample_errors_total counter
sockleak_sample_errors_total 1
# HELP sockleak_sockets TCP sockets in the scanned view by state; on an unfiltered scan, every socket of every network namespace.
# TYPE sockleak_sockets gauge
sockleak_sockets{state="close"} 0
sockleak_sockets{state="close_wait"} 7
sockleak_sockets{state="closing"} 0
sockleak_sockets{state="established"} 5
sockleak_sockets{state="fin_wait1"} 0
sockleak_sockets{state="fin_wait2"} 0
sockleak_sockets{state="last_ack"} 0
sockleak_sockets{state="listen"} 0
sockleak_sockets{state="new_syn_recv"} 0
sockleak_sockets{state="syn_recv"} 0
sockleak_sockets{state="syn_sent"} 0
sockleak_sockets{state="time_wait"} 0
# HELP sockleak_watch_alerts_firing Workloads for which each of sockleak watch's own alert rules is firing.
# TYPE sockleak_watch_alerts_firing gauge
sockleak_watch_alerts_firing{rule="close_wait"} 1
sockleak_watch_alerts_firing{rule="close_wait_age"} 0
sockleak_watch_alerts_firing{rule="crash_loop"} 0
sockleak_watch_alerts_firing{rule="fd_limit_eta"} 0
sockleak_watch_alerts_firing{rule="fd_usage"} 0
# HELP sockleak_watch_workloads Workloads holding a socket of the view (or with a firing alert) at the latest sample, before the series cap.
# TYPE sockleak_watch_workloads gauge
sockleak_watch_workloads 4
`,
	},
}

func TestExporter(t *testing.T) {
	st := exporterStatus(t)
	for _, tt := range exporterCases {
		t.Run(tt.name, func(t *testing.T) {
			e := NewExporter(tt.max, false)
			e.Update(st)
			reg := prometheus.NewPedanticRegistry()
			if err := reg.Register(e); err != nil {
				t.Fatal(err)
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader(tt.expected), tt.metrics...); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestMetricNames: MetricNames is what a full exporter exports, so the
// alert rules' test can trust it.
func TestMetricNames(t *testing.T) {
	e := NewExporter(1, false)
	e.Update(exporterStatus(t))
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, mf := range mfs {
		got = append(got, mf.GetName())
	}
	want := slices.Sorted(slices.Values(MetricNames))
	want = slices.DeleteFunc(want, func(n string) bool { return n == metrics.ScanTimestamp.Name })
	got = slices.DeleteFunc(got, func(n string) bool { return n == metrics.ScanTimestamp.Name })
	if !slices.Equal(got, want) {
		t.Errorf("exported %v\nMetricNames %v", got, want)
	}
}

// TestExporterSampleErrors: a failed sample counts and keeps the latest
// good metrics; a scrape sees one sample or the other, never half.
func TestExporterSampleErrors(t *testing.T) {
	e := NewExporter(0, false)
	if err := e.Health(t0, time.Minute); err == nil || !strings.Contains(err.Error(), "no sample yet") {
		t.Errorf("health before a sample = %v", err)
	}
	st := exporterStatus(t)
	e.Update(st)
	if err := e.Health(st.Time.Add(time.Second), time.Minute); err != nil {
		t.Errorf("health after a good sample = %v", err)
	}
	if err := e.Health(st.Time.Add(2*time.Minute), time.Minute); err == nil || !strings.Contains(err.Error(), "old") {
		t.Errorf("health of a stale sample = %v", err)
	}
	e.Update(&Status{Seq: 5, Time: st.Time.Add(time.Second), Errors: 2, Err: errors.New("netlink: EPERM")})
	if err := e.Health(st.Time.Add(2*time.Second), time.Minute); err == nil || !strings.Contains(err.Error(), "EPERM") {
		t.Errorf("health after a failed sample = %v", err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP sockleak_sample_errors_total Samples that failed since sockleak watch started.
# TYPE sockleak_sample_errors_total counter
sockleak_sample_errors_total 2
# HELP sockleak_workload_open_fds File descriptors the workload's processes have open, summed.
# TYPE sockleak_workload_open_fds gauge
sockleak_workload_open_fds{container="",kind="process",namespace="",pod="",unit="",workload="cron"} 3
sockleak_workload_open_fds{container="",kind="process",namespace="",pod="",unit="",workload="leaky"} 10
sockleak_workload_open_fds{container="",kind="process",namespace="",pod="",unit="",workload="sshd"} 7
sockleak_workload_open_fds{container="",kind="unit",namespace="",pod="",unit="crashy.service",workload="crashy.service"} 0
`), metrics.SampleErrors.Name, metrics.WorkloadOpenFDs.Name); err != nil {
		t.Error(err)
	}

	// Over HTTP: /healthz says why, /metrics serves.
	srv := httptest.NewServer(Handler(reg, func() error { return e.Health(st.Time.Add(2*time.Second), time.Minute) }))
	defer srv.Close()
	for _, tt := range []struct {
		path, want string
		code       int
	}{
		{"/healthz", "the latest sample failed: netlink: EPERM\n", http.StatusServiceUnavailable},
		{"/metrics", "sockleak_sample_errors_total 2\n", http.StatusOK},
		{"/nope", "404 page not found\n", http.StatusNotFound},
	} {
		resp, err := http.Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.code || !strings.Contains(string(body), tt.want) {
			t.Errorf("GET %s = %d %q, want %d containing %q", tt.path, resp.StatusCode, body, tt.code, tt.want)
		}
	}
	srv.Client().CloseIdleConnections()
}
