package report

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/inspect"
)

type violationKey struct {
	Severity Severity
	Metric   string
	PID      int
	Peer     string
	Value    int
	Limit    float64
}

func violationKeys(vs []Violation) []violationKey {
	out := []violationKey{}
	for _, v := range vs {
		out = append(out, violationKey{v.Severity, v.Metric, v.PID, v.Peer, v.Value, v.Limit})
	}
	return out
}

func cwThreshold(warn, crit int) map[inspect.TCPState]Level {
	return map[inspect.TCPState]Level{inspect.CloseWait: {AtMost(warn), AtMost(crit)}}
}

// cwTo is n CLOSE_WAIT sockets from 10.0.0.7 to remote, held by pids.
func cwTo(n int, remote string, pids ...int) []inspect.Socket {
	return many(n, inspect.CloseWait, ephemeral("10.0.0.7"), fixed(remote), pids...)
}

// shiftInodes moves the inodes of ss by by: those of many() start at 1000
// for every call, and sockets of different calls are different sockets.
func shiftInodes(ss []inspect.Socket, by uint64) []inspect.Socket {
	for i := range ss {
		ss[i].Inode += by
	}
	return ss
}

var checkTests = []struct {
	name       string
	snap       *inspect.Snapshot
	thresholds CheckThresholds
	want       []violationKey
}{
	{
		name:       "healthy: nothing in CLOSE_WAIT",
		snap:       snapshot([]inspect.Process{proc(42, "app", 10, 1024)}, many(5, inspect.Established, ephemeral("10.0.0.7"), fixed("10.0.0.5:7000"), 42)),
		thresholds: CheckThresholds{States: cwThreshold(0, 0), FDUsage: &Level{AtMost(80), AtMost(95)}},
		want:       []violationKey{},
	},
	{
		name:       "default: one CLOSE_WAIT fails, critical",
		snap:       snapshot([]inspect.Process{proc(42, "app", 10, 1024)}, cwTo(1, "10.0.0.5:7000", 42)),
		thresholds: CheckThresholds{States: cwThreshold(0, 0)},
		want:       []violationKey{{Critical, "close_wait", 42, "10.0.0.5:7000", 1, 0}},
	},
	{
		name:       "at the maximum is not over it",
		snap:       snapshot([]inspect.Process{proc(42, "app", 10, 1024)}, cwTo(3, "10.0.0.5:7000", 42)),
		thresholds: CheckThresholds{States: cwThreshold(3, 10)},
		want:       []violationKey{},
	},
	{
		name:       "over warn, under crit: warning with the warning threshold",
		snap:       snapshot([]inspect.Process{proc(42, "app", 10, 1024)}, cwTo(4, "10.0.0.5:7000", 42)),
		thresholds: CheckThresholds{States: cwThreshold(3, 10)},
		want:       []violationKey{{Warning, "close_wait", 42, "10.0.0.5:7000", 4, 3}},
	},
	{
		name:       "over crit: critical with the critical threshold",
		snap:       snapshot([]inspect.Process{proc(42, "app", 20, 1024)}, cwTo(11, "10.0.0.5:7000", 42)),
		thresholds: CheckThresholds{States: cwThreshold(3, 10)},
		want:       []violationKey{{Critical, "close_wait", 42, "10.0.0.5:7000", 11, 10}},
	},
	{
		name: "per process: two under the threshold pass",
		snap: snapshot([]inspect.Process{proc(42, "a", 10, 1024), proc(43, "b", 10, 1024)},
			cwTo(3, "10.0.0.5:7000", 42), shiftInodes(cwTo(3, "10.0.0.6:80", 43), 100)),
		thresholds: CheckThresholds{States: cwThreshold(4, 4)},
		want:       []violationKey{},
	},
	{
		name: "total: the same two over the threshold on the host",
		snap: snapshot([]inspect.Process{proc(42, "a", 10, 1024), proc(43, "b", 10, 1024)},
			cwTo(3, "10.0.0.5:7000", 42), shiftInodes(cwTo(2, "10.0.0.6:80", 43), 100)),
		thresholds: CheckThresholds{States: cwThreshold(4, 4), Total: true},
		want:       []violationKey{{Critical, "close_wait", HostPID, "10.0.0.5:7000", 5, 4}},
	},
	{
		name: "a socket shared after fork counts for each process, once in the total",
		snap: snapshot([]inspect.Process{proc(42, "parent", 10, 1024), proc(43, "child", 10, 1024)},
			cwTo(2, "10.0.0.5:7000", 42, 43)),
		thresholds: CheckThresholds{States: cwThreshold(1, 1)},
		want: []violationKey{
			{Critical, "close_wait", 42, "10.0.0.5:7000", 2, 1},
			{Critical, "close_wait", 43, "10.0.0.5:7000", 2, 1},
		},
	},
	{
		name: "total of the shared sockets",
		snap: snapshot([]inspect.Process{proc(42, "parent", 10, 1024), proc(43, "child", 10, 1024)},
			cwTo(2, "10.0.0.5:7000", 42, 43)),
		thresholds: CheckThresholds{States: cwThreshold(2, 2), Total: true},
		want:       []violationKey{},
	},
	{
		name: "FIN_WAIT2: orphans are the kernel's, owned ones the process's",
		snap: snapshot([]inspect.Process{proc(42, "app", 10, 1024)},
			many(12, inspect.FinWait2, ephemeral("10.0.0.7"), fixed("10.0.0.9:80")),
			shiftInodes(many(2, inspect.FinWait2, ephemeral("10.0.0.7"), fixed("10.0.0.9:80"), 42), 500)),
		thresholds: CheckThresholds{States: map[inspect.TCPState]Level{inspect.FinWait2: {AtMost(10), AtMost(10)}, inspect.CloseWait: {AtMost(0), AtMost(0)}}},
		want:       []violationKey{{Critical, "fin_wait2", KernelPID, "10.0.0.9:80", 12, 10}},
	},
	{
		name: "an unknown owner's sockets are checked too",
		snap: snapshot([]inspect.Process{proc(42, "app", 10, 1024)},
			[]inspect.Socket{ // an inode, and no owner sockleak could read
				sock(inspect.CloseWait, "10.0.0.7:40001", "10.0.0.5:7000", 2001),
				sock(inspect.CloseWait, "10.0.0.7:40002", "10.0.0.5:7000", 2002),
				sock(inspect.CloseWait, "10.0.0.7:40003", "10.0.0.5:7000", 2003),
			}),
		thresholds: CheckThresholds{States: cwThreshold(0, 0)},
		want:       []violationKey{{Critical, "close_wait", UnknownPID, "10.0.0.5:7000", 3, 0}},
	},
	{
		name: "only states with a threshold are checked",
		snap: snapshot([]inspect.Process{proc(42, "app", 10, 1024)},
			many(50, inspect.TimeWait, ephemeral("10.0.0.7"), fixed("10.0.0.5:7000"))),
		thresholds: CheckThresholds{States: cwThreshold(0, 0)},
		want:       []violationKey{},
	},
	{
		name: "fd usage: over 80% warns, over 95% is critical, unknown and unlimited are skipped",
		snap: snapshot([]inspect.Process{
			proc(40, "fine", 80, 100), // exactly 80%: not over
			proc(41, "warm", 85, 100),
			proc(42, "hot", 97, 100),
			proc(43, "nolimit", 5000, inspect.Unlimited),
			proc(44, "unknown", 5000, 0),
		}),
		thresholds: CheckThresholds{FDUsage: &Level{AtMost(80), AtMost(95)}},
		want: []violationKey{
			{Critical, MetricFDUsage, 42, "", 97, 95},
			{Warning, MetricFDUsage, 41, "", 85, 80},
		},
	},
	{
		name: "worst first: critical before warning, states before fd usage, bigger first",
		snap: snapshot([]inspect.Process{proc(41, "small", 90, 100), proc(42, "big", 10, 1024)},
			cwTo(2, "10.0.0.5:7000", 41), shiftInodes(cwTo(9, "10.0.0.6:80", 42), 100)),
		thresholds: CheckThresholds{States: cwThreshold(1, 5), FDUsage: &Level{AtMost(80), AtMost(80)}},
		want: []violationKey{
			{Critical, "close_wait", 42, "10.0.0.6:80", 9, 5},
			{Critical, MetricFDUsage, 41, "", 90, 80},
			{Warning, "close_wait", 41, "10.0.0.5:7000", 2, 1},
		},
	},
}

func TestCheck(t *testing.T) {
	for _, tt := range checkTests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(tt.snap, DefaultThresholds)
			got := violationKeys(Check(r, tt.thresholds))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
		})
	}
}

func TestViolationMessages(t *testing.T) {
	snap := snapshot([]inspect.Process{proc(4242, "openser", 1997, 2048)},
		many(1987, inspect.CloseWait, ephemeral("10.0.0.7"), fixed("10.0.0.5:7000"), 4242),
		many(3, inspect.FinWait2, ephemeral("10.0.0.7"), fixed("10.0.0.9:80")))
	r := Analyze(snap, DefaultThresholds)
	th := CheckThresholds{States: map[inspect.TCPState]Level{inspect.CloseWait: {AtMost(0), AtMost(0)}, inspect.FinWait2: {AtMost(1), AtMost(1)}}, FDUsage: &Level{AtMost(80), AtMost(90)}}
	var got []string
	for _, v := range Check(r, th) {
		got = append(got, v.Summary(), v.Message())
	}
	want := []string{
		"pid 4242 (openser) 1987 CLOSE_WAIT to 10.0.0.5:7000",
		"pid 4242 (openser) 1987 CLOSE_WAIT to 10.0.0.5:7000, over the maximum 0; 1997/2048 fds (98%)",
		"the kernel 3 FIN_WAIT2 to 10.0.0.9:80",
		"the kernel 3 FIN_WAIT2 to 10.0.0.9:80, over the maximum 1",
		"pid 4242 (openser) uses 1997/2048 fds (98%)",
		"pid 4242 (openser) uses 1997/2048 fds (98%), over the maximum 90%; 0 are sockets",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}

	counted := proc(7, "java", 990, 1000)
	counted.SocketFDs = -1 // the scan only counted its descriptors: say nothing of sockets
	vs := Check(Analyze(snapshot([]inspect.Process{counted}), DefaultThresholds), CheckThresholds{FDUsage: &Level{AtMost(80), AtMost(95)}})
	if len(vs) != 1 || vs[0].Message() != "pid 7 (java) uses 990/1000 fds (99%), over the maximum 95%" {
		t.Errorf("counted-only fds: %+v", vs)
	}

	total := Check(r, CheckThresholds{States: cwThreshold(100, 100), Total: true})
	if len(total) != 1 || total[0].Message() != "the host 1987 CLOSE_WAIT to 10.0.0.5:7000, over the maximum 100" {
		t.Errorf("total violations = %+v", total)
	}
}

func TestMeasure(t *testing.T) {
	snap := snapshot([]inspect.Process{proc(41, "a", 50, 100), proc(42, "b", 10, 1024)},
		many(2, inspect.CloseWait, ephemeral("10.0.0.7"), fixed("10.0.0.5:7000"), 41),
		many(3, inspect.Established, ephemeral("10.0.0.7"), fixed("10.0.0.5:7000"), 42))
	r := Analyze(snap, DefaultThresholds)
	th := CheckThresholds{States: map[inspect.TCPState]Level{inspect.FinWait2: {AtMost(5), AtMost(9)}, inspect.CloseWait: {AtMost(0), AtMost(0)}}, FDUsage: &Level{AtMost(80), AtMost(90)}}
	want := []Measurement{
		{"fin_wait2", inspect.FinWait2, 0, Level{AtMost(5), AtMost(9)}},
		{"close_wait", inspect.CloseWait, 2, Level{AtMost(0), AtMost(0)}},
		{MetricFDUsage, 0, 50, Level{AtMost(80), AtMost(90)}},
	}
	if diff := cmp.Diff(want, Measure(r, th)); diff != "" {
		t.Errorf("Measure (-want +got):\n%s", diff)
	}
}

func TestCheckTextAndJSON(t *testing.T) {
	snap := snapshot([]inspect.Process{proc(4242, "openser", 1997, 2048), proc(7, "sshd", 5, 1024)},
		many(1987, inspect.CloseWait, ephemeral("10.0.0.7"), fixed("10.0.0.5:7000"), 4242))
	snap.Warnings = []string{"1 process could not be inspected (permission denied); run as root for complete ownership"}
	r := Analyze(snap, DefaultThresholds)
	th := CheckThresholds{States: cwThreshold(0, 0), FDUsage: &Level{AtMost(80), AtMost(95)}}
	vs := Check(r, th)

	var text bytes.Buffer
	if err := CheckText(&text, r, th, vs); err != nil {
		t.Fatal(err)
	}
	want := `CRITICAL  pid 4242 (openser) 1987 CLOSE_WAIT to 10.0.0.5:7000, over the maximum 0; 1997/2048 fds (98%)
CRITICAL  pid 4242 (openser) uses 1997/2048 fds (98%), over the maximum 95%; 0 are sockets
FAIL: 2 thresholds exceeded by 1 owner (max CLOSE_WAIT 0, fd usage 80%); 2 processes inspected
`
	if diff := cmp.Diff(want, text.String()); diff != "" {
		t.Errorf("CheckText (-want +got):\n%s", diff)
	}
	var diag bytes.Buffer
	if err := Warnings(&diag, snap.Warnings); err != nil {
		t.Fatal(err)
	}
	if got := diag.String(); got != "sockleak: warning: 1 process could not be inspected (permission denied); run as root for complete ownership\n" {
		t.Errorf("Warnings = %q", got)
	}

	text.Reset()
	healthy := Analyze(snapshot([]inspect.Process{proc(7, "sshd", 5, 1024)}), DefaultThresholds)
	if err := CheckText(&text, healthy, th, nil); err != nil {
		t.Fatal(err)
	}
	if got := text.String(); got != "OK: no threshold exceeded (max CLOSE_WAIT 0, fd usage 80%); 1 process inspected\n" {
		t.Errorf("CheckText healthy = %q", got)
	}

	var js bytes.Buffer
	if err := CheckJSON(&js, r, th, vs); err != nil {
		t.Fatal(err)
	}
	var d CheckDocument
	if err := json.Unmarshal(js.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	if d.SchemaVersion != SchemaVersion || d.Status != "critical" || len(d.Violations) != 2 || len(d.Findings) == 0 || len(d.Processes) != 1 {
		t.Errorf("check document: status %q, %d violations, %d findings, %d processes", d.Status, len(d.Violations), len(d.Findings), len(d.Processes))
	}
	wantV := ViolationDoc{Severity: "critical", Metric: "close_wait", State: "CLOSE_WAIT", PID: 4242, Name: "openser",
		Peer: "10.0.0.5:7000", Value: 1987, Limit: 0, Range: "0", FDsOpen: 1997, FDSoftLimit: 2048, Message: vs[0].Message()}
	if len(d.Violations) > 0 {
		if diff := cmp.Diff(wantV, d.Violations[0]); diff != "" {
			t.Errorf("violation doc (-want +got):\n%s", diff)
		}
	}
	wantL := []ThresholdDoc{{"close_wait", 0, 0, "0", "0", 1987}, {"fd_usage", 80, 95, "80", "95", 98}}
	if diff := cmp.Diff(wantL, d.Thresholds); diff != "" {
		t.Errorf("thresholds (-want +got):\n%s", diff)
	}
	// The inspect document's fields are at the top level, not nested.
	if !strings.Contains(js.String(), "\n  \"schema_version\": 1,") || !strings.Contains(js.String(), "\n  \"violations\": [") {
		t.Errorf("check JSON is not flat:\n%.300s", js.String())
	}
}

// TestCheckJSONRanges: check's JSON gives each level in the range syntax,
// and the plain maximum (-1 for a range that is none); a violation its
// range and the bound it crossed.
func TestCheckJSONRanges(t *testing.T) {
	r, l, _ := promFixture()
	l.States[inspect.CloseWait] = Level{Warn: Range{Start: math.Inf(-1), End: 20}, Crit: Range{Start: 10, End: math.Inf(1), Inside: true}}
	var b bytes.Buffer
	if err := CheckJSON(&b, r, l, Check(r, l)); err != nil {
		t.Fatal(err)
	}
	var d CheckDocument
	if err := json.Unmarshal(b.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	want := ThresholdDoc{Metric: "close_wait", Warn: 20, Crit: -1, WarnRange: "~:20", CritRange: "@10:", Worst: 1987}
	if len(d.Thresholds) == 0 || d.Thresholds[0] != want {
		t.Errorf("limits = %+v, want %+v first", d.Thresholds, want)
	}
	if len(d.Violations) == 0 || d.Violations[0].Range != "@10:" || d.Violations[0].Limit != 10 ||
		!strings.HasSuffix(strings.SplitN(d.Violations[0].Message, ";", 2)[0], "1987 CLOSE_WAIT to 10.0.0.5:7000, in the alert range @10:") {
		t.Errorf("violations = %+v", d.Violations)
	}
}
