package report

import (
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sockleak/sockleak/inspect"
)

// parseExposition parses the text format with prometheus/common's parser,
// as node_exporter's textfile collector does, and returns every sample as
// "name{label="value",...}" -> value, labels sorted.
func parseExposition(t *testing.T, r io.Reader) map[string]float64 {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("text exposition does not parse: %v", err)
	}
	out := map[string]float64{}
	for name, mf := range mfs {
		if mf.GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s is a %v, want a gauge", name, mf.GetType())
		}
		if mf.GetHelp() == "" {
			t.Errorf("%s has no help", name)
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				if lp.GetValue() != "" { // an empty label is no label to Prometheus
					labels = append(labels, lp.GetName()+"="+`"`+lp.GetValue()+`"`)
				}
			}
			sort.Strings(labels)
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			if _, dup := out[key]; dup {
				t.Errorf("duplicate series %s", key)
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out
}

func promFixture() (*Report, CheckThresholds, []Violation) {
	p := proc(4242, "openser", 1997, 2048)
	p.Cmdline = "/usr/sbin/openser -P /run/openser.pid --db-password=hunter2"
	snap := snapshot([]inspect.Process{p, proc(7, "sshd", 5, 1024), proc(9, "idle", 950, 1000)},
		many(1987, inspect.CloseWait, ephemeral("10.0.0.7"), fixed("10.0.0.5:7000"), 4242),
		many(3, inspect.Established, ephemeral("10.0.0.7"), fixed("10.0.0.5:22"), 7),
		many(50, inspect.TimeWait, ephemeral("10.0.0.7"), fixed("10.0.0.9:80")))
	snap.Denied = 2
	r := Analyze(snap, DefaultThresholds)
	l := CheckThresholds{States: map[inspect.TCPState]Level{inspect.CloseWait: {AtMost(0), AtMost(100)}}, FDUsage: &Level{AtMost(80), AtMost(95)}}
	return r, l, Check(r, l)
}

func TestPrometheus(t *testing.T) {
	r, l, vs := promFixture()
	var b bytes.Buffer
	if err := Prometheus(&b, r, l, vs); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "hunter2") || strings.Contains(b.String(), "/usr/sbin") {
		t.Errorf("a command line went into the metrics:\n%s", b.String())
	}
	got := parseExposition(t, &b)
	want := map[string]float64{
		`sockleak_sockets{state="close_wait"}`:                                            1987,
		`sockleak_sockets{state="established"}`:                                           3,
		`sockleak_sockets{state="time_wait"}`:                                             50,
		`sockleak_sockets{state="fin_wait2"}`:                                             0,
		`sockleak_kernel_tcp_sockets{state="time_wait"}`:                                  50,
		`sockleak_workload_sockets{kind="process",state="close_wait",workload="openser"}`: 1987,
		`sockleak_workload_sockets{kind="process",state="established",workload="sshd"}`:   3,
		`sockleak_workload_open_fds{kind="process",workload="openser"}`:                   1997,
		`sockleak_workload_fd_usage_ratio{kind="process",workload="openser"}`:             1997.0 / 2048,
		`sockleak_workload_processes{kind="process",workload="openser"}`:                  1,
		`sockleak_workload_open_fds{kind="process",workload="idle"}`:                      950, // no socket, but over --max-fd-usage
		`sockleak_workloads_rolled_up`:                                                    0,
		`sockleak_check_violations{metric="close_wait",severity="critical"}`:              1,
		`sockleak_check_violations{metric="close_wait",severity="warning"}`:               0,
		// openser uses 98% (over the critical 95), idle exactly 95% (a warning).
		`sockleak_check_violations{metric="fd_usage",severity="critical"}`: 1,
		`sockleak_check_violations{metric="fd_usage",severity="warning"}`:  1,
		`sockleak_check_warning_threshold{metric="close_wait"}`:            0,
		`sockleak_check_critical_threshold{metric="close_wait"}`:           100,
		`sockleak_check_warning_threshold{metric="fd_usage"}`:              80,
		`sockleak_check_status`:            2,
		`sockleak_processes_inspected`:     3,
		`sockleak_processes_uninspectable`: 2,
		`sockleak_scan_timestamp_seconds`:  float64(r.Snapshot.Time.Unix()),
	}
	for k, v := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("missing %s", k)
			continue
		}
		if g != v {
			t.Errorf("%s = %v, want %v", k, g, v)
		}
	}
	for _, st := range inspect.States { // every state has a series
		if _, ok := got[`sockleak_sockets{state="`+st.Label()+`"}`]; !ok {
			t.Errorf("no sockleak_sockets series for %s", st.Label())
		}
	}
	if _, ok := got[`sockleak_workload_open_fds{kind="process",workload="sshd"}`]; !ok {
		t.Errorf("sshd holds a socket and has no open_fds series")
	}
	// The textfile says which build wrote it, as watch's /metrics does.
	builds := 0
	for k, v := range got {
		if strings.HasPrefix(k, "sockleak_build_info{") {
			builds++
			if v != 1 || !strings.Contains(k, `goversion="go`) || !strings.Contains(k, `version="`) {
				t.Errorf("%s = %v, want 1 with goversion, revision and version", k, v)
			}
		}
	}
	if builds != 1 {
		t.Errorf("%d sockleak_build_info series, want 1", builds)
	}
}

// TestPrometheusAcceptQueue: a listener with a queue has its queue and
// backlog, and the accept_queue violations their series, zero or not.
func TestPrometheusAcceptQueue(t *testing.T) {
	snap := snapshot([]inspect.Process{proc(77, "redis-server", 30, 10032)},
		[]inspect.Socket{listener("0.0.0.0:6379", 129, 128, 77), listener("127.0.0.1:8080", 0, 128, 77)})
	r := Analyze(snap, DefaultThresholds)
	l := CheckThresholds{States: cwThreshold(0, 0), AcceptQueue: true}
	var b bytes.Buffer
	if err := Prometheus(&b, r, l, Check(r, l)); err != nil {
		t.Fatal(err)
	}
	got := parseExposition(t, &b)
	for k, v := range map[string]float64{
		`sockleak_workload_listen_queue_connections{kind="process",local="0.0.0.0:6379",workload="redis-server"}`: 129,
		`sockleak_workload_listen_backlog{kind="process",local="0.0.0.0:6379",workload="redis-server"}`:           128,
		`sockleak_check_violations{metric="accept_queue",severity="critical"}`:                                    1,
		`sockleak_check_violations{metric="accept_queue",severity="warning"}`:                                     0,
		`sockleak_check_status`: 2,
	} {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if _, ok := got[`sockleak_workload_listen_queue_connections{kind="process",local="127.0.0.1:8080",workload="redis-server"}`]; ok {
		t.Errorf("a series for an empty queue")
	}
}

// TestPrometheusByWorkload: two processes of one unit give one set of
// series, a shared socket counted once; a restart (the same unit, a new
// pid) gives the same series; --pid-label keys them by process.
func TestPrometheusByWorkload(t *testing.T) {
	series := func(snap *inspect.Snapshot, byPID bool) map[string]float64 {
		r := Analyze(snap, DefaultThresholds)
		l := CheckThresholds{States: cwThreshold(0, 0), PIDLabel: byPID}
		var b bytes.Buffer
		if err := Prometheus(&b, r, l, Check(r, l)); err != nil {
			t.Fatal(err)
		}
		return parseExposition(t, &b)
	}
	const unit = `kind="unit",unit="leaky.service",workload="leaky.service"`
	got := series(workloadSnapshot(), false)
	for k, v := range map[string]float64{
		`sockleak_workload_sockets{kind="unit",state="close_wait",unit="leaky.service",workload="leaky.service"}`:                               4,
		`sockleak_workload_processes{` + unit + `}`:                                                                                             2,
		`sockleak_workload_open_fds{` + unit + `}`:                                                                                              2020,
		`sockleak_workload_fd_usage_ratio{` + unit + `}`:                                                                                        1990.0 / 2048,
		`sockleak_workload_sockets{container="app",kind="pod",namespace="shop",pod="api-7d9f",state="close_wait",workload="shop/api-7d9f/app"}`: 2,
	} {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	restarted := workloadSnapshot()
	for i := range restarted.Processes {
		restarted.Processes[i].PID += 10000
	}
	for i := range restarted.Sockets {
		pids := slices.Clone(restarted.Sockets[i].PIDs) // sockets of one fixture call share a slice
		for j := range pids {
			pids[j] += 10000
		}
		restarted.Sockets[i].PIDs = pids
	}
	again := series(restarted, false)
	for k := range got {
		if _, ok := again[k]; !ok && !strings.HasPrefix(k, "sockleak_scan_timestamp") {
			t.Errorf("after the restart %s is gone", k)
		}
	}
	byPID := series(workloadSnapshot(), true)
	if v := byPID[`sockleak_workload_open_fds{kind="unit",pid="4243",process="python3",unit="leaky.service",workload="leaky.service"}`]; v != 30 {
		t.Errorf("--pid-label: pid 4243's open fds = %v, want 30 (series %v)", v, byPID)
	}
}

func TestPrometheusPedantic(t *testing.T) {
	r, l, vs := promFixture()
	reg := prometheus.NewPedanticRegistry()
	if err := registerMetrics(reg, r, l, vs); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Errorf("pedantic registry: %v", err)
	}
}

// readWhole reads path over and over until stop is set, and counts the
// reads that saw a whole file: the old one, or a textfile that parses. It
// keeps the first bad read's reason.
func readWhole(path string, stop *atomic.Bool, reads, bad *atomic.Int64, firstBad *atomic.Value) {
	// A file byte for byte the same as one that parsed parses again: parse
	// each content once, not each read.
	parsed := map[string]bool{}
	for ; !stop.Load(); runtime.Gosched() { // leave the writer its share of the cores
		b, err := os.ReadFile(path)
		if err != nil {
			bad.Add(1)
			firstBad.CompareAndSwap(nil, "read: "+err.Error())
			continue
		}
		reads.Add(1)
		s := string(b)
		// A whole file ends with the last series of the last family
		// (families and series are sorted); a partial one is cut short,
		// or fails to parse.
		if s != "# an old file\nold_metric 1\n" &&
			!strings.HasSuffix(s, "\nsockleak_workloads_rolled_up 0\n") {
			bad.Add(1)
			firstBad.CompareAndSwap(nil, "partial: "+s[max(0, len(s)-80):])
			continue
		}
		if parsed[s] {
			continue
		}
		p := expfmt.NewTextParser(model.UTF8Validation)
		if _, err := p.TextToMetricFamilies(strings.NewReader(s)); err != nil {
			bad.Add(1)
			firstBad.CompareAndSwap(nil, "parse: "+err.Error())
			continue
		}
		parsed[s] = true
	}
}

// TestWriteTextfileAtomic writes the textfile over and over while readers
// read it as fast as they can: every read must be a whole file that
// parses, and the old file must be replaced each time.
func TestWriteTextfileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sockleak.prom")
	if err := os.WriteFile(path, []byte("# an old file\nold_metric 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	r, l, vs := promFixture()
	healthyR := Analyze(snapshot([]inspect.Process{proc(7, "sshd", 5, 1024)}), DefaultThresholds)

	var stop atomic.Bool
	var reads, bad atomic.Int64
	var firstBad atomic.Value
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { readWhole(path, &stop, &reads, &bad, &firstBad) })
	}
	const writes = 100
	for i := range writes {
		rr, vv := r, vs
		if i%2 == 1 {
			rr, vv = healthyR, nil
		}
		if err := WriteTextfile(path, rr, l, vv); err != nil {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("write %d: %v", i, err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() > 0 {
		t.Errorf("%d of %d reads saw a missing or partial file; first: %v", bad.Load(), reads.Load()+bad.Load(), firstBad.Load())
	}
	t.Logf("%d reads during %d writes", reads.Load(), writes)
	if reads.Load() < writes/10 {
		t.Logf("only %d reads during %d writes", reads.Load(), writes)
	}
	checkLastTextfile(t, dir, path)
}

// checkLastTextfile checks that the last write (healthy) replaced the old
// file entirely, readable by all, and left no temporary file behind.
func checkLastTextfile(t *testing.T, dir, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := parseExposition(t, f)
	if _, ok := got["old_metric"]; ok {
		t.Error("old_metric survived: the file was not replaced")
	}
	if got["sockleak_check_status"] != 0 || got[`sockleak_sockets{state="close_wait"}`] != 0 {
		t.Errorf("last write not visible: status %v, close_wait %v", got["sockleak_check_status"], got[`sockleak_sockets{state="close_wait"}`])
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("textfile mode %v, want 0644 so node_exporter's user can read it", fi.Mode().Perm())
	}
	// No temporary files are left behind in the collector's directory.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only sockleak.prom", names)
	}
}

func TestWriteTextfileFails(t *testing.T) {
	r, l, vs := promFixture()
	err := WriteTextfile(filepath.Join(t.TempDir(), "missing", "sockleak.prom"), r, l, vs)
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("WriteTextfile into a missing directory: %v, want an error naming it", err)
	}
}

// TestPrometheusRangeThresholds: a threshold gauge is a plain maximum; a
// level that is none (a minimum, an inside range) has no series, where a
// number would say the opposite of what alerts.
func TestPrometheusRangeThresholds(t *testing.T) {
	r, l, _ := promFixture()
	l.States[inspect.CloseWait] = Level{Warn: Range{Start: math.Inf(-1), End: 20}, Crit: Range{Start: 10, End: math.Inf(1), Inside: true}}
	l.FDUsage = &Level{Warn: Range{Start: 5, End: 80}, Crit: AtMost(95)}
	var b bytes.Buffer
	if err := Prometheus(&b, r, l, Check(r, l)); err != nil {
		t.Fatal(err)
	}
	got := parseExposition(t, &b)
	for series, want := range map[string]float64{
		`sockleak_check_warning_threshold{metric="close_wait"}`:              20, // ~:20 is a maximum
		`sockleak_check_critical_threshold{metric="fd_usage"}`:               95,
		`sockleak_check_violations{metric="close_wait",severity="critical"}`: 1, // 1987 is inside @10:
	} {
		if v, ok := got[series]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
		}
	}
	for _, series := range []string{`sockleak_check_critical_threshold{metric="close_wait"}`, `sockleak_check_warning_threshold{metric="fd_usage"}`} {
		if v, ok := got[series]; ok {
			t.Errorf("%s = %v, want no series: its range is no maximum", series, v)
		}
	}
}
