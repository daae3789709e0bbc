package watch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sockleak/sockleak/internal/hostiletest"
	"github.com/sockleak/sockleak/internal/metrics"
)

// What a local user can make a process's name and command line (issue
// 12): invalid UTF-8 and an escape sequence, and a newline that would
// forge a line of its own.
const (
	hostileName = "\xff\xfebad\x1b[31m"
	forged      = "\nSOCKLEAK OK - all fine"
	longName    = "aaaaaaaaaaaaaaa" + forged
)

// hostileStatus: two leaking processes of the hostile name, told apart
// by command lines, and one of a name with a newline, all firing; its
// alerts are those of every sample.
func hostileStatus(t *testing.T) *Status {
	t.Helper()
	m := NewMonitor(Config{Window: time.Minute, Thresholds: Thresholds{CloseWait: 2}})
	var (
		st     *Status
		alerts []Alert
	)
	for i := range 4 {
		s := sample(time.Duration(i)*10*time.Second,
			procSpec{pid: 66, start: 1, name: hostileName, cw: 3 * i, extraFDs: 4, limit: 64},
			procSpec{pid: 67, start: 1, name: hostileName, cw: 3 * i, extraFDs: 4, limit: 64},
			procSpec{pid: 68, start: 1, name: longName, cw: 3 * i, cwBase: 900, extraFDs: 4, limit: 64})
		s.Snap.Processes[0].Cmdline = "/tmp/bad" + forged
		s.Snap.Processes[1].Cmdline = hostileName + " \x1b]0;pwned\x07" + forged
		s.Snap.Processes[2].Cmdline = "/tmp/" + longName
		s.Snap.Warnings = []string{"pid 69 (" + hostileName + forged + ") could not be inspected"}
		st = m.Observe(s)
		alerts = append(alerts, st.Alerts...)
	}
	st.Alerts = alerts // every transition, for the lines that print them
	if len(st.Processes) != 3 || len(st.Alerts) == 0 || st.Processes[0].Command == "" {
		t.Fatalf("want 3 processes told apart and alerts: %+v", st)
	}
	return st
}

// TestHostileText: watch's text lines and live view print the hostile
// names and command lines escaped; the JSON lines stay valid, one object
// a line, with the raw name.
func TestHostileText(t *testing.T) {
	st := hostileStatus(t)
	failed := &Status{Seq: 5, Time: st.Time, Err: fmt.Errorf("pid 66 (%s): gone", hostileName+forged)}

	var text bytes.Buffer
	for _, s := range []*Status{st, failed} {
		if err := TextLines(&text, s); err != nil {
			t.Fatal(err)
		}
	}
	hostiletest.AssertPrintable(t, text.Bytes(), 0)
	if n := strings.Count(text.String(), "\n"); n != 2+len(st.Alerts) {
		t.Errorf("%d text lines, want %d:\n%s", n, 2+len(st.Alerts), text.String())
	}
	if !strings.Contains(text.String(), `pid 66 (\xff\xfebad\x1b[31m /tmp/bad\nSOCKLEAK OK - all fine)`) {
		t.Errorf("pid 66 not named, escaped and told apart:\n%s", text.String())
	}

	for _, color := range []bool{false, true} {
		var live bytes.Buffer
		v := NewLive(&live, color, func() (int, int) { return 200, 40 })
		for _, s := range []*Status{st, failed} {
			if err := v.Draw(s); err != nil {
				t.Fatal(err)
			}
		}
		// The view's own sequences aside, nothing drives the terminal.
		ours := strings.NewReplacer(home, "", eraseLine, "", eraseBelow, "", bold, "", red, "", green, "", reset, "")
		hostiletest.AssertPrintable(t, []byte(ours.Replace(live.String())), 0)
	}

	var js bytes.Buffer
	if err := JSONLines(&js, st); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(js.String(), "\n"), "\n")
	if len(lines) != 1+len(st.Alerts) || !strings.Contains(lines[0], `"name":"\ufffd\ufffdbad\u001b[31m"`) {
		// encoding/json writes invalid UTF-8 as U+FFFD: the line stays valid.
		t.Errorf("%d JSON lines, want %d, the first with the name:\n%s", len(lines), 1+len(st.Alerts), js.String())
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("invalid JSON line %s", l)
		}
	}
}

// TestHostileExporter: the exporter survives the hostile names (issue 12:
// watch --listen panicked at its first sample): /metrics parses with
// prometheus/common's parser, the workload label is the name escaped, never
// command-line text, and no series was lost.
func TestHostileExporter(t *testing.T) {
	e := NewExporter(0, false)
	e.Update(hostileStatus(t))
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	srv := httptest.NewServer(Handler(reg, func() error { return nil }))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v", resp.StatusCode, err)
	}
	hostiletest.AssertPrintable(t, body, 0)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse: %v\n%s", err, body)
	}
	names := map[string]bool{}
	for _, m := range mfs[metrics.WorkloadOpenFDs.Name].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "workload" {
				names[lp.GetValue()] = true
			}
		}
	}
	want := map[string]bool{`\xff\xfebad\x1b[31m`: true, `aaaaaaaaaaaaaaa\nSOCKLEAK OK - all fine`: true}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("workload labels %v, want %v", names, want)
	}
	if g := mfs[metrics.MetricErrors.Name].GetMetric(); len(g) != 1 || g[0].GetGauge().GetValue() != 0 {
		t.Errorf("sockleak_metric_errors %v, want 0", g)
	}
}

// TestSeriesNotBuilt: a series that cannot be built is counted in
// sockleak_metric_errors and left out, never a panic.
func TestSeriesNotBuilt(t *testing.T) {
	var s series
	d := newWorkloadDescs(false).openFDs
	s.gauge(d, 1, "process", "42") // two label values of six
	s.gauge(d, 1, "process", hostileName, "", "", "", "")
	if s.failed != 1 || len(s.ms) != 1 {
		t.Errorf("failed %d, built %d; want 1 and 1", s.failed, len(s.ms))
	}
}
