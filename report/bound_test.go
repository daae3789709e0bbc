package report

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/sockleak/sockleak/inspect"
)

// boundFixture is a host of 2000 processes, each holding 1 to 7
// ESTABLISHED sockets, three of them (with few sockets) one in
// CLOSE_WAIT each, and 286 listeners with connections waiting, one of
// them (the emptiest) at its backlog, an accept_queue violation, and
// owned by a process holding little else.
func boundFixture() (*Report, CheckThresholds, []Violation) {
	var procs []inspect.Process
	var socks []inspect.Socket
	inode := uint64(1000)
	add := func(st inspect.TCPState, local, remote string, pid int) *inspect.Socket {
		inode++
		socks = append(socks, sock(st, local, remote, inode, pid))
		return &socks[len(socks)-1]
	}
	for i := range 2000 {
		pid := 100 + i
		procs = append(procs, proc(pid, "worker"+strconv.Itoa(i), 20+i%13, 1<<16))
		for j := range 1 + i%7 {
			add(inspect.Established, fmt.Sprintf("10.0.%d.%d:%d", i/250, i%250, 40000+j), "10.1.0.1:443", pid)
		}
		if i == 7 || i == 14 || i == 21 { // 1 + i%7 == 1: among the fewest sockets
			add(inspect.CloseWait, fmt.Sprintf("10.0.%d.%d:39999", i/250, i%250), "10.1.0.2:5432", pid)
		}
		if i%7 == 0 {
			l := add(inspect.Listen, fmt.Sprintf("10.2.%d.%d:8080", i/250, i%250), "0.0.0.0:0", pid)
			l.RxQueue, l.TxQueue = uint64(50+i%5), 1000
			if i == 35 {
				l.RxQueue, l.TxQueue = 10, 10 // the emptiest queue, yet full
			}
		}
	}
	r := Analyze(snapshot(procs, socks), DefaultThresholds)
	l := CheckThresholds{States: map[inspect.TCPState]Level{inspect.CloseWait: {AtMost(0), AtMost(0)}}, FDUsage: &Level{AtMost(80), AtMost(95)}, AcceptQueue: true}
	return r, l, Check(r, l)
}

// TestPrometheusBounded: 2000 processes, each a workload of its own,
// gave 2016 series before; now the workload families hold the
// DefaultMaxWorkloads worst, those with a violation and one "other"
// roll-up summing the rest, under the documented cap (SeriesCap).
func TestPrometheusBounded(t *testing.T) {
	r, l, vs := boundFixture()
	violating := map[string]bool{} // workload names
	for _, v := range vs {
		if v.PID > 0 {
			violating["worker"+strconv.Itoa(v.PID-100)] = true
		}
	}
	if len(violating) != 4 {
		t.Fatalf("fixture: %d processes with a violation, want 4 (3 CLOSE_WAIT, 1 accept queue): %v", len(violating), vs)
	}
	for _, max := range []int{0, 10} {
		l.MaxWorkloads = max
		bound := max
		if bound == 0 {
			bound = DefaultMaxWorkloads
		}
		var b bytes.Buffer
		if err := Prometheus(&b, r, l, vs); err != nil {
			t.Fatal(err)
		}
		samples := parseExposition(t, &b)
		// The violations beyond the bound have series of their own too.
		if limit := SeriesCap(bound) + len(violating)*SeriesPerWorkload; len(samples) > limit {
			t.Errorf("max %d: %d series (%d bytes), want at most %d", max, len(samples), b.Len(), limit)
		}
		owners := map[string]map[string]bool{} // family -> workloads
		sums := map[string]float64{}           // family{state} -> sum over series
		for key, v := range samples {
			name, labels, _ := strings.Cut(key, "{")
			if !strings.HasPrefix(name, "sockleak_workload_") || name == "sockleak_workloads_rolled_up" {
				continue
			}
			w := labelValue(labels, "workload")
			if owners[name] == nil {
				owners[name] = map[string]bool{}
			}
			owners[name][w+"/"+labelValue(labels, "local")] = true
			sums[name+"{"+labelValue(labels, "state")+"}"] += v
			if w == "other" && (labelValue(labels, "kind") != "other" || name == "sockleak_workload_fd_usage_ratio" || name == "sockleak_workload_listen_backlog") {
				t.Errorf("max %d: %s: a roll-up where none belongs", max, key)
			}
		}
		want := bound + len(violating) + 1 // the roll-up
		for name, ws := range owners {
			if len(ws) > want {
				t.Errorf("max %d: %s has %d series owners, want at most %d", max, name, len(ws), want)
			}
		}
		for w := range violating {
			if samples[fmt.Sprintf(`sockleak_workload_open_fds{kind="process",workload=%q}`, w)] == 0 {
				t.Errorf("max %d: %s has a violation but no series of its own", max, w)
			}
		}
		if samples[`sockleak_workload_listen_queue_connections{kind="process",local="10.2.0.35:8080",workload="worker35"}`] != 10 {
			t.Errorf("max %d: the listener that is not accepting has no series of its own", max)
		}
		if got, rolled := samples["sockleak_workloads_rolled_up"], len(r.Processes)-want+1; int(got) < rolled-len(violating) {
			t.Errorf("max %d: sockleak_workloads_rolled_up %v, want about %d", max, got, rolled)
		}
		// The roll-up makes the sums the totals.
		var fds, listenQ float64
		for _, p := range r.Snapshot.Processes {
			fds += float64(p.FDs)
		}
		states := map[string]float64{}
		for _, s := range r.Snapshot.Sockets {
			states[s.State.Label()]++
			if s.State == inspect.Listen {
				listenQ += float64(s.RxQueue)
			}
		}
		if got := sums["sockleak_workload_open_fds{}"]; got != fds {
			t.Errorf("max %d: open fds sum to %v, want %v", max, got, fds)
		}
		for st, n := range states {
			if got := sums["sockleak_workload_sockets{"+st+"}"]; got != n {
				t.Errorf("max %d: %s sockets sum to %v, want %v", max, st, got, n)
			}
		}
		if got := sums["sockleak_workload_listen_queue_connections{}"]; got != listenQ {
			t.Errorf("max %d: accept queues sum to %v, want %v", max, got, listenQ)
		}
	}
}

func labelValue(labels, name string) string {
	for _, l := range strings.Split(strings.TrimSuffix(labels, "}"), ",") {
		if v, ok := strings.CutPrefix(l, name+"="); ok {
			s, _ := strconv.Unquote(v)
			return s
		}
	}
	return ""
}

// TestNagiosBounded: the long output lists NagiosMaxViolations, worst
// first, then how many more; 2000 violations gave 2009 lines before.
func TestNagiosBounded(t *testing.T) {
	r, l, _ := boundFixture()
	l.States[inspect.Established] = Level{AtMost(0), AtMost(0)} // every process violates
	vs := Check(r, l)
	if len(vs) < 2000 {
		t.Fatalf("fixture: %d violations, want 2000 or more", len(vs))
	}
	var b bytes.Buffer
	if _, err := Nagios(&b, r, l, vs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 1+NagiosMaxViolations+1 {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), 1+NagiosMaxViolations+1, b.String())
	}
	for i, v := range vs[:NagiosMaxViolations] {
		if want := strings.ToUpper(v.Severity.String()) + ": " + nagiosText(v.Message()); lines[1+i] != want {
			t.Errorf("line %d = %q, want %q", 1+i, lines[1+i], want)
		}
	}
	if want := fmt.Sprintf("... and %d more violations", len(vs)-NagiosMaxViolations); lines[len(lines)-1] != want {
		t.Errorf("last line = %q, want %q", lines[len(lines)-1], want)
	}
	if perf := strings.Count(lines[0], "="); perf != 3 {
		t.Errorf("status line has %d perfdata items, want 3 (one per metric): %s", perf, lines[0])
	}
}
