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
		st = m.Observe(sample(time.Duration(i)*10*time.Second,
			procSpec{pid: 42, start: 1, name: "leaky", cw: 2 * i, extraFDs: 4, limit: 64},
			procSpec{pid: 7, start: 1, name: "sshd", est: 4, extraFDs: 3, limit: 1024},
			procSpec{pid: 9, start: 1, name: "cron", cw: 1, cwBase: 900, est: 1, extraFDs: 1, limit: -1},
		))
	}
	st.Took = 250 * time.Millisecond
	st.Denied, st.Errors = 2, 1
	return st
}

// processFamilies are the families of each process's series.
var processFamilies = []string{metrics.ProcessSockets.Name, metrics.ProcessOpenFDs.Name, metrics.ProcessFDLimit.Name,
	metrics.CloseWaitOldest.Name, metrics.ProcessSecondsToFDLimit.Name}

// exporterCases are the exposition of exporterStatus's families with
// series for max processes.
var exporterCases = []struct {
	name     string
	max      int
	metrics  []string
	expected string
}{
	{
		name: "every process", max: 50,
		metrics: processFamilies,
		expected: `
# HELP sockleak_close_wait_oldest_seconds How long the process's oldest CLOSE_WAIT socket has been in the state, a lower bound, from the kernel's clock (tcp_info) where it tells, otherwise from watch's samples; process="other": the oldest of the rest.
# TYPE sockleak_close_wait_oldest_seconds gauge
sockleak_close_wait_oldest_seconds{pid="9",process="cron"} 30
sockleak_close_wait_oldest_seconds{pid="42",process="leaky"} 20
# HELP sockleak_process_fd_limit A process's soft limit on open files (absent when unlimited or unknown).
# TYPE sockleak_process_fd_limit gauge
sockleak_process_fd_limit{pid="42",process="leaky"} 64
sockleak_process_fd_limit{pid="7",process="sshd"} 1024
# HELP sockleak_process_open_fds File descriptors a process has open; process="other" sums the processes beyond --max-processes (sockleak watch's and check's).
# TYPE sockleak_process_open_fds gauge
sockleak_process_open_fds{pid="9",process="cron"} 3
sockleak_process_open_fds{pid="42",process="leaky"} 10
sockleak_process_open_fds{pid="7",process="sshd"} 7
# HELP sockleak_process_seconds_to_fd_limit Estimated seconds until the process's open descriptors reach its soft limit, at their growth over the window (only while they grow); process="other": the soonest of the rest.
# TYPE sockleak_process_seconds_to_fd_limit gauge
sockleak_process_seconds_to_fd_limit{pid="42",process="leaky"} 270
# HELP sockleak_process_sockets TCP sockets a process holds, by state (a socket shared after fork counts for each holder); process="other" sums the processes beyond --max-processes (sockleak watch's and check's).
# TYPE sockleak_process_sockets gauge
sockleak_process_sockets{pid="9",process="cron",state="close_wait"} 1
sockleak_process_sockets{pid="9",process="cron",state="established"} 1
sockleak_process_sockets{pid="42",process="leaky",state="close_wait"} 6
sockleak_process_sockets{pid="7",process="sshd",state="established"} 4
`,
	},
	{
		name: "one process of its own, the rest summed as other", max: 1,
		metrics: processFamilies,
		expected: `
# HELP sockleak_close_wait_oldest_seconds How long the process's oldest CLOSE_WAIT socket has been in the state, a lower bound, from the kernel's clock (tcp_info) where it tells, otherwise from watch's samples; process="other": the oldest of the rest.
# TYPE sockleak_close_wait_oldest_seconds gauge
sockleak_close_wait_oldest_seconds{pid="42",process="leaky"} 20
sockleak_close_wait_oldest_seconds{pid="",process="other"} 30
# HELP sockleak_process_fd_limit A process's soft limit on open files (absent when unlimited or unknown).
# TYPE sockleak_process_fd_limit gauge
sockleak_process_fd_limit{pid="42",process="leaky"} 64
# HELP sockleak_process_open_fds File descriptors a process has open; process="other" sums the processes beyond --max-processes (sockleak watch's and check's).
# TYPE sockleak_process_open_fds gauge
sockleak_process_open_fds{pid="42",process="leaky"} 10
sockleak_process_open_fds{pid="",process="other"} 10
# HELP sockleak_process_seconds_to_fd_limit Estimated seconds until the process's open descriptors reach its soft limit, at their growth over the window (only while they grow); process="other": the soonest of the rest.
# TYPE sockleak_process_seconds_to_fd_limit gauge
sockleak_process_seconds_to_fd_limit{pid="42",process="leaky"} 270
# HELP sockleak_process_sockets TCP sockets a process holds, by state (a socket shared after fork counts for each holder); process="other" sums the processes beyond --max-processes (sockleak watch's and check's).
# TYPE sockleak_process_sockets gauge
sockleak_process_sockets{pid="42",process="leaky",state="close_wait"} 6
sockleak_process_sockets{pid="",process="other",state="close_wait"} 1
sockleak_process_sockets{pid="",process="other",state="established"} 5
`,
	},
	{
		name: "host and sample metrics", max: 50,
		metrics: []string{metrics.Sockets.Name, metrics.SampleDuration.Name, metrics.SampleErrors.Name, metrics.ProcessesUninspectable.Name, metrics.ProcessesInspected.Name,
			metrics.WatchAlertsFiring.Name, metrics.WatchProcesses.Name},
		expected: `
# HELP sockleak_processes_uninspectable Processes sockleak could not inspect (permission denied): run as root for complete ownership.
# TYPE sockleak_processes_uninspectable gauge
sockleak_processes_uninspectable 2
# HELP sockleak_processes_inspected Processes whose descriptors sockleak read.
# TYPE sockleak_processes_inspected gauge
sockleak_processes_inspected 3
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
# HELP sockleak_watch_alerts_firing Processes for which each of sockleak watch's own alert rules is firing.
# TYPE sockleak_watch_alerts_firing gauge
sockleak_watch_alerts_firing{rule="close_wait"} 1
sockleak_watch_alerts_firing{rule="close_wait_age"} 0
sockleak_watch_alerts_firing{rule="fd_limit_eta"} 0
sockleak_watch_alerts_firing{rule="fd_usage"} 0
# HELP sockleak_watch_processes Processes holding a socket of the view (or with a firing alert) at the latest sample, before the --max-processes roll-up.
# TYPE sockleak_watch_processes gauge
sockleak_watch_processes 3
`,
	},
}

func TestExporter(t *testing.T) {
	st := exporterStatus(t)
	for _, tt := range exporterCases {
		t.Run(tt.name, func(t *testing.T) {
			e := NewExporter(tt.max)
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
	e := NewExporter(1)
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
	e := NewExporter(0)
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
# HELP sockleak_process_open_fds File descriptors a process has open; process="other" sums the processes beyond --max-processes (sockleak watch's and check's).
# TYPE sockleak_process_open_fds gauge
sockleak_process_open_fds{pid="9",process="cron"} 3
sockleak_process_open_fds{pid="42",process="leaky"} 10
sockleak_process_open_fds{pid="7",process="sshd"} 7
`), metrics.SampleErrors.Name, metrics.ProcessOpenFDs.Name); err != nil {
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

// TestExporterOtherETA: the roll-up keeps the soonest limit and the
// oldest CLOSE_WAIT of the processes it sums.
func TestExporterOtherETA(t *testing.T) {
	m := NewMonitor(Config{Window: time.Minute})
	var st *Status
	for i := range 4 {
		st = m.Observe(sample(time.Duration(i)*10*time.Second,
			procSpec{pid: 7, start: 1, name: "big", est: 20, extraFDs: 3, limit: 1024},
			procSpec{pid: 42, start: 1, name: "leaky", cw: 2 * i, extraFDs: 4, limit: 64},
			procSpec{pid: 43, start: 1, name: "leaky", cw: 1, cwBase: 5000, extraFDs: 4, limit: 64},
		))
	}
	e := NewExporter(1)
	e.Update(st)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP sockleak_close_wait_oldest_seconds How long the process's oldest CLOSE_WAIT socket has been in the state, a lower bound, from the kernel's clock (tcp_info) where it tells, otherwise from watch's samples; process="other": the oldest of the rest.
# TYPE sockleak_close_wait_oldest_seconds gauge
sockleak_close_wait_oldest_seconds{pid="",process="other"} 30
# HELP sockleak_process_seconds_to_fd_limit Estimated seconds until the process's open descriptors reach its soft limit, at their growth over the window (only while they grow); process="other": the soonest of the rest.
# TYPE sockleak_process_seconds_to_fd_limit gauge
sockleak_process_seconds_to_fd_limit{pid="",process="other"} 270
# HELP sockleak_process_sockets TCP sockets a process holds, by state (a socket shared after fork counts for each holder); process="other" sums the processes beyond --max-processes (sockleak watch's and check's).
# TYPE sockleak_process_sockets gauge
sockleak_process_sockets{pid="7",process="big",state="established"} 20
sockleak_process_sockets{pid="",process="other",state="close_wait"} 7
`), metrics.CloseWaitOldest.Name, metrics.ProcessSecondsToFDLimit.Name, metrics.ProcessSockets.Name); err != nil {
		t.Error(err)
	}
}
