package report

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/inspect"
)

// findingOf returns the first finding of a kind, failing without one.
func findingOf(t *testing.T, r *Report, kind string) Finding {
	t.Helper()
	i := slices.IndexFunc(r.Findings, func(f Finding) bool { return f.Kind == kind })
	if i < 0 {
		t.Fatalf("no %s finding in %+v", kind, r.Findings)
	}
	return r.Findings[i]
}

// TestProcessStateInFindings: a process's own state says what its sockets
// are; a stopped one's CLOSE_WAIT is not put down to its error paths.
func TestProcessStateInFindings(t *testing.T) {
	for _, tt := range []struct {
		state       byte
		message     string
		hint, nhint string
	}{
		{'T', "pid 42 (app) is stopped (SIGSTOP or a debugger), so it cannot close sockets its peer closed: 3 in CLOSE_WAIT",
			"kill -CONT 42", "error path that"},
		{'t', "pid 42 (app) is stopped (SIGSTOP or a debugger)", "TracerPid in /proc/42/status", "error path that"},
		{'Z', "; it is a zombie: it has exited and its parent has not reaped it", "error path that", "kill -CONT"},
		{'D', "; it is in uninterruptible sleep (D)", "error path that", "kill -CONT"},
		{'S', "pid 42 (app) is not closing sockets its peer closed: 3 in CLOSE_WAIT to 10.0.0.5:7000; 40/1024 fds (4%)", "error path that", "kill -CONT"},
	} {
		t.Run(string(tt.state), func(t *testing.T) {
			p := proc(42, "app", 40, 1024)
			p.State = tt.state
			socks := cwTo(3, "10.0.0.5:7000", 42)
			for i := range socks {
				socks[i].RxQueue = 200 // a reply never read
			}
			f := findingOf(t, Analyze(snapshot([]inspect.Process{p}, socks), DefaultThresholds), KindCloseWait)
			if !strings.Contains(f.Message, tt.message) {
				t.Errorf("message %q lacks %q", f.Message, tt.message)
			}
			if !strings.Contains(f.Hint, tt.hint) || strings.Contains(f.Hint, tt.nhint) {
				t.Errorf("hint %q: want %q, not %q", f.Hint, tt.hint, tt.nhint)
			}
		})
	}
}

// TestAtTheLimit: at or over the soft limit the findings and the check say
// so, and predict nothing.
func TestAtTheLimit(t *testing.T) {
	for _, fds := range []int{1024, 1030} {
		r := Analyze(snapshot([]inspect.Process{proc(42, "app", fds, 1024)}, cwTo(600, "10.0.0.5:7000", 42)), DefaultThresholds)
		for _, kind := range []string{KindCloseWait, KindFDPressure} {
			f := findingOf(t, r, kind)
			if !strings.Contains(f.Message, atLimitNow) || strings.Contains(f.Message, "will fail") || f.Severity != Critical {
				t.Errorf("%d fds: %s %s %q", fds, f.Severity, kind, f.Message)
			}
		}
		vs := Check(r, CheckThresholds{States: cwThreshold(0, 0), FDUsage: &Level{AtMost(80), AtMost(95)}})
		if len(vs) != 2 {
			t.Fatalf("violations %+v", vs)
		}
		for _, v := range vs {
			if !strings.HasSuffix(v.Message(), atLimitNow) {
				t.Errorf("violation %q does not end saying it is at its limit", v.Message())
			}
		}
	}
	// Under it, the prediction stays.
	r := Analyze(snapshot([]inspect.Process{proc(42, "app", 1000, 1024)}, cwTo(600, "10.0.0.5:7000", 42)), DefaultThresholds)
	if f := findingOf(t, r, KindCloseWait); !strings.HasSuffix(f.Message, "it will fail with EMFILE (too many open files) at 1024") {
		t.Errorf("under the limit: %q", f.Message)
	}
}

// TestFiltersNarrowFDPressure: with --state, --port or --peer a process
// holding no socket of the view is not shown, not checked, not ranked.
func TestFiltersNarrowFDPressure(t *testing.T) {
	build := func(filtered bool) *Report {
		snap := snapshot([]inspect.Process{proc(7, "hog", 1020, 1024), proc(42, "app", 40, 1024)}, cwTo(1, "10.0.0.5:7000", 42))
		snap.Filtered = filtered
		return Analyze(snap, DefaultThresholds)
	}
	limits := CheckThresholds{States: cwThreshold(5, 5), FDUsage: &Level{AtMost(80), AtMost(95)}}
	var pids []int
	for _, p := range build(false).Processes {
		pids = append(pids, p.PID)
	}
	if diff := cmp.Diff([]int{7, 42}, pids); diff != "" {
		t.Errorf("unfiltered processes (-want +got):\n%s", diff)
	}
	if vs := Check(build(false), limits); len(vs) != 1 || vs[0].PID != 7 {
		t.Errorf("unfiltered violations %+v, want the hog's fd usage", vs)
	}
	r := build(true)
	if len(r.Processes) != 1 || r.Processes[0].PID != 42 {
		t.Errorf("filtered processes %+v, want only pid 42", r.Processes)
	}
	if slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.PID == 7 }) {
		t.Errorf("a finding for a process outside the view: %+v", r.Findings)
	}
	if vs := Check(r, limits); len(vs) != 0 {
		t.Errorf("filtered violations %+v, want none", vs)
	}
	// Selected and filtered (--pid with --port): the filter narrows too.
	sel := snapshot([]inspect.Process{proc(7, "hog", 10, 1024), proc(42, "app", 40, 1024)}, cwTo(1, "10.0.0.5:7000", 42))
	sel.Selected, sel.Filtered = true, true
	if ps := Analyze(sel, DefaultThresholds).Processes; len(ps) != 1 || ps[0].PID != 42 {
		t.Errorf("selected and filtered processes %+v, want only pid 42", ps)
	}
	sel.Filtered = false
	if ps := Analyze(sel, DefaultThresholds).Processes; len(ps) != 2 {
		t.Errorf("selected processes %+v, want both", ps)
	}
	for _, m := range Measure(r, limits) {
		if m.Metric == MetricFDUsage && m.Value != 4 {
			t.Errorf("filtered worst fd usage %d%%, want app's 4%%", m.Value)
		}
	}
}

// TestCloseWaitHintFromRxQueue: only the FIN unread means the replies were
// read and the socket kept; more means a reply abandoned.
func TestCloseWaitHintFromRxQueue(t *testing.T) {
	for _, tt := range []struct {
		name string
		rx   []uint64
		want []string
		not  string
	}{
		{"only the FIN", []uint64{0, 1, 1}, []string{"Only the FIN is unread", "client object made per call"}, "abandoned"},
		{"replies unread", []uint64{15, 300}, []string{"Data is unread before the FIN: the reply was abandoned unread on a timeout or error path"}, "Only the FIN"},
		{"both", []uint64{1, 1, 40}, []string{"2 hold only the FIN: the replies were read", "1 holds data before it: the reply was abandoned"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			socks := cwTo(len(tt.rx), "10.0.0.5:7000", 42)
			for i, rx := range tt.rx {
				socks[i].RxQueue = rx
			}
			f := findingOf(t, Analyze(snapshot([]inspect.Process{proc(42, "app", 40, 1024)}, socks), DefaultThresholds), KindCloseWait)
			for _, w := range tt.want {
				if !strings.Contains(f.Hint, w) {
					t.Errorf("hint %q lacks %q", f.Hint, w)
				}
			}
			if tt.not != "" && strings.Contains(f.Hint, tt.not) {
				t.Errorf("hint %q has %q", f.Hint, tt.not)
			}
		})
	}
}

// TestSameHostPeersLinked: a FIN_WAIT2 end whose other end is a CLOSE_WAIT
// socket on this host names its holder instead of sending the reader to
// run sockleak there; inbound orphans name their local port.
func TestSameHostPeersLinked(t *testing.T) {
	// pid 10 dialled pid 20's :6379 and half-closed; pid 20 never closed.
	client := many(3, inspect.FinWait2, ephemeral("127.0.0.1"), fixed("127.0.0.1:6379"), 10)
	server := shiftInodes(many(3, inspect.CloseWait, fixed("127.0.0.1:6379"), ephemeral("127.0.0.1"), 20), 100)
	orphans := many(12, inspect.FinWait2, func(i int) string { return "127.0.0.1:" + itoa(40100+i) }, fixed("127.0.0.1:6379"))
	held := shiftInodes(many(12, inspect.CloseWait, fixed("127.0.0.1:6379"), func(i int) string { return "127.0.0.1:" + itoa(40100+i) }, 20), 200)
	inbound := many(4, inspect.FinWait2, fixed("10.0.0.7:8080"), ephemeral("192.0.2.9"))
	snap := snapshot([]inspect.Process{proc(10, "poller", 20, 1024), proc(20, "cache", 40, 1024)},
		[]inspect.Socket{sock(inspect.Listen, "0.0.0.0:6379", "0.0.0.0:0", 5, 20), sock(inspect.Listen, "0.0.0.0:8080", "0.0.0.0:0", 6, 20)},
		client, server, orphans, held, inbound)
	r := Analyze(snap, DefaultThresholds)
	var owned, linked, in Finding
	for _, f := range r.Findings {
		switch {
		case f.Kind == KindFinWait2 && f.PID == 10:
			owned = f
		case f.Kind == KindFinWait2 && f.PID == KernelPID && f.Count == 12:
			linked = f
		case f.Kind == KindFinWait2 && f.PID == KernelPID:
			in = f
		}
	}
	const other = "the other end is pid 20 (cache) in CLOSE_WAIT: it is not closing"
	if !strings.Contains(owned.Hint, other) || strings.Contains(owned.Hint, "run sockleak inspect on") {
		t.Errorf("owned FIN_WAIT2 hint %q", owned.Hint)
	}
	if !strings.Contains(linked.Message, other) || strings.Contains(linked.Hint, "run sockleak inspect on") {
		t.Errorf("orphan finding %q, hint %q", linked.Message, linked.Hint)
	}
	if !strings.Contains(in.Message, "4 orphaned FIN_WAIT2 sockets to 192.0.2.9 from local port 8080:") ||
		!strings.Contains(in.Hint, "run sockleak inspect on 192.0.2.9") {
		t.Errorf("inbound orphans %q, hint %q", in.Message, in.Hint)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
