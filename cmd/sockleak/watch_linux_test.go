//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/internal/livetest"
	"github.com/sockleak/sockleak/internal/metrics"
	"github.com/sockleak/sockleak/watch"
)

// TestWatchLeakingChild watches a real leaking process end to end: the
// scan names it with its start time and soft limit, and the close_wait
// alert fires on its sockets and resolves once it closes them. Package
// watch tests the trends and alerts over many samples
// (TestRunLeakingProcess).
func TestWatchLeakingChild(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes and sockets of its own
	peer := slowPeer(t, 100*time.Millisecond)
	l := startLeakyChild(t, "-addr", peer, "-n", "8", "-timeout", "30ms", "-fd-limit", "128")
	<-l.ready
	waitCloseWait(t, l.pid, 8)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(30*time.Second, cancel) // the scan below ends with watch
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	c := newWatchCmd(nil)
	// --state close-wait: the kernel leaves the rest of a busy host's
	// sockets out of the dump, so samples stay quick.
	c.SetArgs([]string{"--pid", strconv.Itoa(l.pid), "--state", "close-wait", "--interval", "100ms",
		"--max-close-wait", "5", "-o", "json"})
	c.SetOut(pw)
	c.SetErr(&stderr)
	done := make(chan error, 1)
	go func() {
		done <- c.ExecuteContext(ctx)
		pw.Close()
	}()

	var fired, resolved, named bool
	var last time.Time // the scans' own times, which the trends are computed over
	sc := bufio.NewScanner(pr)
	sc.Buffer(nil, 1<<20)
	for !resolved && sc.Scan() {
		var s watch.SampleLine
		var a watch.AlertLine
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		schemaCheck(t, "watch-line", sc.Bytes())
		switch s.Type {
		case "sample":
			// To the second (jq's fromdateiso8601 reads no fraction): at
			// --interval 100ms, samples share a second.
			at, err := time.Parse("2006-01-02T15:04:05Z", s.Time)
			if err != nil || at.Before(last) || time.Since(at) > time.Minute {
				t.Errorf("sample %d at %q (%v): before the one before, %v, or not now", s.Seq, s.Time, err, last)
			}
			last = at
			for _, p := range s.Processes {
				started, err := time.Parse("2006-01-02T15:04:05Z", p.StartTime)
				if p.PID == l.pid && (p.Name != "leaky" || p.FDSoftLimit != 128 || err != nil || time.Since(started) > time.Minute) {
					t.Errorf("process = %+v, want leaky with a soft limit of 128 and a start time this minute", p)
				}
				named = named || p.PID == l.pid
			}
		case "alert":
			if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
				t.Fatal(err)
			}
			switch {
			case a.PID != l.pid || a.Rule != watch.RuleCloseWait:
			case a.Status == "firing":
				if a.Count != 8 || a.Peer != peer || a.Name != "leaky" {
					t.Errorf("firing alert = %s, want 8 sockets to %s", sc.Text(), peer)
				}
				fired = true
				l.fix() // the leak stops: it closes its sockets and lives on
			case a.Status == "resolved":
				if !fired || a.Exited || a.Count != 0 {
					t.Errorf("resolved = %s; want it after it fired, with the process alive and 0 CLOSE_WAIT", sc.Text())
				}
				resolved = true
			}
		case "error":
			t.Errorf("a sample failed: %s", sc.Text())
		}
	}
	cancel()
	go func() { _, _ = io.Copy(io.Discard, pr) }() // the last line, if any
	if err := <-done; err != nil {
		t.Fatalf("watch: %v\n%s", err, stderr.String())
	}
	if !named || !fired || !resolved {
		t.Errorf("leaky in a sample %v; close_wait alert fired %v, resolved %v\n%s", named, fired, resolved, stderr.String())
	}
}

// scrape fetches and parses /metrics with prometheus/common's parser.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := scrapeQuiet(addr)
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// series returns a family's samples as `label="value",...` -> value,
// labels in the exposition's (sorted) order.
func series(mf *dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	if mf == nil {
		return out
	}
	for _, m := range mf.GetMetric() {
		var ls []string
		for _, lp := range m.GetLabel() {
			ls = append(ls, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
		}
		v := m.GetGauge().GetValue()
		if m.Counter != nil {
			v = m.GetCounter().GetValue()
		}
		out[strings.Join(ls, ",")] = v
	}
	return out
}

func TestWatchExporter(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes and sockets of its own
	peer := slowPeer(t, 100*time.Millisecond)
	// Three leaking processes, 2, 4 and 6 sockets in CLOSE_WAIT; two get
	// series of their own.
	var pids []string
	for _, n := range []int{2, 4, 6} {
		l := startLeakyChild(t, "-addr", peer, "-n", strconv.Itoa(n), "-timeout", "30ms")
		<-l.ready
		waitCloseWait(t, l.pid, n)
		pids = append(pids, strconv.Itoa(l.pid))
	}

	addr := startWatchExporter(t, "--pid", strings.Join(pids, ","), "--listen", "127.0.0.1:0", "--max-workloads", "2", "--pid-label",
		"--interval", "100ms", "-o", "text")
	checkExporterMetrics(t, scrape(t, addr), pids)
}

// seriesBy is series keyed by the values of these labels alone.
func seriesBy(mf *dto.MetricFamily, labels ...string) map[string]float64 {
	out := map[string]float64{}
	for _, m := range mf.GetMetric() {
		ls := make([]string, len(labels))
		for _, lp := range m.GetLabel() {
			if i := slices.Index(labels, lp.GetName()); i >= 0 {
				ls[i] = fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue())
			}
		}
		out[strings.Join(ls, ",")] += m.GetGauge().GetValue()
	}
	return out
}

// checkExporterMetrics checks the metrics of three leaking processes,
// 2, 4 and 6 sockets in CLOSE_WAIT, with --max-workloads 2 --pid-label:
// series per process, the two worst of their own.
func checkExporterMetrics(t *testing.T, mfs map[string]*dto.MetricFamily, pids []string) {
	t.Helper()
	procSockets := seriesBy(mfs[metrics.WorkloadSockets.Name], "pid", "process", "state")
	want := map[string]float64{
		fmt.Sprintf(`pid=%q,process="leaky",state="close_wait"`, pids[2]): 6,
		fmt.Sprintf(`pid=%q,process="leaky",state="close_wait"`, pids[1]): 4,
		`pid="",process="",state="close_wait"`:                            2,
	}
	if fmt.Sprint(procSockets) != fmt.Sprint(want) {
		t.Errorf("%s = %v\nwant %v", metrics.WorkloadSockets.Name, procSockets, want)
	}
	// The three run in one cgroup (the test's), so in one workload.
	kinds := seriesBy(mfs[metrics.WorkloadProcesses.Name], "kind", "workload")
	if len(kinds) != 2 || kinds[`kind="other",workload="other"`] != 1 {
		t.Errorf("%s by workload = %v, want the leaky ones' workload (2 processes) and other (1)", metrics.WorkloadProcesses.Name, kinds)
	}
	if got := series(mfs[metrics.Sockets.Name])[`state="close_wait"`]; got != 12 {
		t.Errorf(`%s{state="close_wait"} = %v, want 12`, metrics.Sockets.Name, got)
	}
	fds := seriesBy(mfs[metrics.WorkloadOpenFDs.Name], "pid", "process")
	if len(fds) != 3 || fds[`pid="",process=""`] < 2 || fds[fmt.Sprintf(`pid=%q,process="leaky"`, pids[2])] < 6 {
		t.Errorf("%s = %v, want the two biggest and other, each with at least its sockets", metrics.WorkloadOpenFDs.Name, fds)
	}
	oldest := seriesBy(mfs[metrics.WorkloadCloseWaitOldest.Name], "pid", "process")
	if len(oldest) != 3 {
		t.Errorf("%s = %v, want three series", metrics.WorkloadCloseWaitOldest.Name, oldest)
	}
	if got := series(mfs[metrics.WorkloadsRolledUp.Name])[""]; got != 1 {
		t.Errorf("%s = %v, want 1", metrics.WorkloadsRolledUp.Name, got)
	}
	if got := series(mfs[metrics.ProcessesInspected.Name])[""]; got != 3 {
		t.Errorf("%s = %v, want 3", metrics.ProcessesInspected.Name, got)
	}
	if got := series(mfs[metrics.SampleErrors.Name])[""]; got != 0 || mfs[metrics.SampleErrors.Name].GetType() != dto.MetricType_COUNTER {
		t.Errorf("%s = %v (%v), want a counter at 0", metrics.SampleErrors.Name, got, mfs[metrics.SampleErrors.Name].GetType())
	}
	// Its own registry: sockleak's families, the Go runtime's and the
	// process's, nothing registered globally.
	for name := range mfs {
		if !strings.HasPrefix(name, "sockleak_") && !strings.HasPrefix(name, "go_") && !strings.HasPrefix(name, "process_") {
			t.Errorf("unexpected family %s: the exporter has its own registry", name)
		}
	}
	if got := series(mfs[metrics.BuildInfo.Name]); len(got) != 1 {
		t.Errorf("%s = %v, want one series", metrics.BuildInfo.Name, got)
	}
}

func TestWatchFlags(t *testing.T) {
	var got *WatchOptions
	c := newWatchCmd(func(_ context.Context, o *WatchOptions) error { got = o; return nil })
	c.SetArgs([]string{"--name", "openser", "--interval", "5s", "--count", "3", "--window", "10m", "--max-close-wait", "-1",
		"--max-close-wait-age", "0", "--max-fd-usage", "90", "--eta", "2m", "-o", "json", "--listen", "127.0.0.1:9816", "--max-workloads", "7", "--pid-label"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Scan.Name != "openser" || got.Interval != 5*time.Second || got.Count != 3 || got.Window != 10*time.Minute ||
		got.CloseWait != -1 || got.MaxAge != 0 || got.FDUsage != 90 || got.ETA != 2*time.Minute || got.Output != "json" ||
		got.Listen != "127.0.0.1:9816" || got.MaxWorkloads != 7 || !got.PIDLabel {
		t.Errorf("options = %+v", got)
	}
	// The old names of the alert rules set the same rules (docs/flags.md),
	// --fd-usage's 0 being --max-fd-usage's -1 (off), and say they are old.
	for _, pair := range [][2][]string{
		{{"--close-wait", "7", "--max-age", "1m", "--fd-usage", "0"}, {"--max-close-wait", "7", "--max-close-wait-age", "1m", "--max-fd-usage", "-1"}},
		{{"--fd-usage", "85.5"}, {"--max-fd-usage", "85.5"}},
		{{"--fd-usage", "85", "--max-fd-usage", "85"}, {"--max-fd-usage", "85"}},
	} {
		var ths [2]watch.Thresholds
		var notices [2]string
		for i, args := range pair {
			// Main says which flags are old, on stderr; -o yaml ends it
			// there, after the flags are parsed.
			var stderr bytes.Buffer
			code := Main(append([]string{"watch", "-o", "yaml"}, args...), io.Discard, &stderr)
			c := newWatchCmd(func(_ context.Context, o *WatchOptions) error { got = o; return nil })
			c.SetArgs(args)
			c.SetOut(io.Discard)
			c.SetErr(io.Discard)
			err := c.Execute()
			if err == nil {
				ths[i], err = got.thresholds()
			}
			if code != exitError || err != nil {
				t.Errorf("watch %v: exit %d, %v\n%s", args, code, err, stderr.String())
			}
			notices[i] = stderr.String()
		}
		if ths[0] != ths[1] || !strings.Contains(notices[0], "has been deprecated, use --max-") || strings.Contains(notices[1], "deprecated") {
			t.Errorf("watch %v: %+v, watch %v: %+v; stderr %q and %q", pair[0], ths[0], pair[1], ths[1], notices[0], notices[1])
		}
	}

	// --max-processes is a deprecated alias: it sets --max-workloads, and
	// says so.
	var stderr bytes.Buffer
	c = newWatchCmd(func(_ context.Context, o *WatchOptions) error { got = o; return nil })
	c.Flags().SetOutput(&stderr) // pflag's deprecation notice
	c.SetArgs([]string{"--max-processes", "9"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.MaxWorkloads != 9 || got.PIDLabel || !strings.Contains(stderr.String(), "--max-workloads") {
		t.Errorf("--max-processes 9: max workloads %d, pid label %v, stderr %q", got.MaxWorkloads, got.PIDLabel, stderr.String())
	}
	// The help states the series cap, as MaxSeries computes it.
	help := c.Flags().Lookup("max-workloads").Usage
	if want := fmt.Sprintf("(%d for %d)", watch.MaxSeries(watch.DefaultMaxWorkloads), watch.DefaultMaxWorkloads); !strings.Contains(help, want) {
		t.Errorf("--max-workloads help %q does not state the cap %s", help, want)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", "yaml"}, `invalid -o "yaml"`},
		{[]string{"--interval", "0s"}, "invalid --interval"},
		{[]string{"--interval", "1ns", "--count", "1"}, "invalid --interval 1ns: want 100ms or more"},
		{[]string{"--close-wait", "-2", "--count", "1"}, "invalid --max-close-wait -2"},
		{[]string{"--fd-usage", "NaN", "--count", "1"}, "invalid --max-fd-usage NaN"},
		{[]string{"--max-fd-usage", "0", "--count", "1"}, "invalid --max-fd-usage 0: want a percentage, more than 0 and at most 100, or -1 for off"},
		{[]string{"--fd-usage", "70", "--max-fd-usage", "80"}, "--fd-usage 70 and --max-fd-usage 80 disagree"},
		{[]string{"--name", "", "--count", "1"}, `invalid --name ""`},
		{[]string{"--peer", "", "--count", "1"}, `invalid --peer ""`},
		{[]string{"--interval", "10s", "--window", "5s"}, "invalid --window"},
		{[]string{"--fd-usage", "120"}, "invalid --max-fd-usage 120"},
		{[]string{"--max-workloads", "0"}, "invalid --max-workloads"},
		{[]string{"--max-processes", "0"}, "invalid --max-workloads"},
		{[]string{"--state", "nope"}, "invalid --state"},
		{[]string{"--proc-root", "/nonexistent"}, "could not read proc root"},
		{[]string{"--listen", "256.0.0.1:1", "--count", "1"}, "--listen"},
	} {
		var stdout, stderr bytes.Buffer
		if code := Main(append([]string{"watch"}, tt.args...), &stdout, &stderr); code != exitError || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("watch %v: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr.String(), tt.want)
		}
	}
}

// TestWatchText runs watch twice on this process as a script would: a
// summary line per sample, and nothing on a pipe to redraw.
func TestWatchText(t *testing.T) {
	livetest.Skip(t)
	var stdout, stderr bytes.Buffer
	code := Main([]string{"watch", "--pid", strconv.Itoa(os.Getpid()), "--interval", "100ms", "--count", "3"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 3 || strings.Contains(stdout.String(), "\x1b[") {
		t.Fatalf("want 3 plain lines:\n%s", stdout.String())
	}
	for i, l := range lines {
		if !strings.Contains(l, fmt.Sprintf(" sample %d (", i+1)) {
			t.Errorf("line %d = %q", i+1, l)
		}
	}
}

// TestWatchTerminal runs watch on a terminal as a user would: it draws the
// live view on the alternate screen, and ^C ends it with the screen given
// back and exit status 0.
func TestWatchTerminal(t *testing.T) {
	livetest.Skip(t)
	for _, noColor := range []bool{false, true} {
		t.Run(fmt.Sprintf("NO_COLOR=%v", noColor), func(t *testing.T) {
			cmd := helperSockleak("watch", "--pid", strconv.Itoa(os.Getpid()), "--interval", "100ms")
			cmd.Env = append(cmd.Env, "NO_COLOR=")
			if noColor {
				cmd.Env = append(cmd.Env, "NO_COLOR=1")
			}
			p := startOnPTY(t, cmd, &unix.Winsize{Row: 20, Col: 100})
			if !p.read(" · sample 2 (") {
				t.Fatalf("no live view:\n%q", p.out.String())
			}
			p.ctrlC()
			if !p.read("\x1b[?1049l") {
				t.Fatalf("the screen was not given back after ^C:\n%q", p.out.String())
			}
			if exited, err := p.wait(10 * time.Second); !exited {
				t.Fatal("watch did not exit after ^C")
			} else if err != nil {
				t.Fatalf("watch after ^C: %v", err)
			}
			p.read("\x00") // drain what is left
			s := p.out.String()
			if !strings.HasPrefix(s, "\x1b[?1049h\x1b[?25l") || !strings.HasSuffix(s, "\x1b[?25h\x1b[?1049l") {
				t.Errorf("want the alternate screen entered first and left last, cursor shown:\n%q", s)
			}
			if colored := strings.Contains(s, "\x1b[1m"); colored == noColor {
				t.Errorf("NO_COLOR set %v, bold and colour used %v", noColor, colored)
			}
			if !strings.Contains(s, "PID PROCESS      CLOSE_WAIT FDS") {
				t.Errorf("no process table:\n%q", s)
			}
		})
	}
}

// TestWatchTerminalCount: a live view that ends on its own after --count
// gives the screen back and leaves its last frame on it, on an 80-column
// terminal as on a wider one.
func TestWatchTerminalCount(t *testing.T) {
	livetest.Skip(t)
	for _, cols := range []uint16{80, 120} {
		cmd := helperSockleak("watch", "--pid", strconv.Itoa(os.Getpid()), "--interval", "100ms", "--count", "2")
		p := startOnPTY(t, cmd, &unix.Winsize{Row: 20, Col: cols})
		if exited, err := p.wait(10 * time.Second); !exited || err != nil {
			t.Fatalf("%d columns: watch --count 2: exited %v, %v", cols, exited, err)
		}
		p.read("\x00") // drain what is left
		s := p.out.String()
		i := strings.LastIndex(s, "\x1b[?1049l")
		if i < 0 {
			t.Fatalf("%d columns: the screen was not given back:\n%q", cols, s)
		}
		frame := s[i+len("\x1b[?1049l"):]
		if !strings.Contains(frame, " · sample 2 (") || !strings.Contains(frame, "PID PROCESS") || !strings.Contains(frame, "ALERTS") {
			t.Errorf("%d columns: the last frame is not left on the terminal; after the screen was given back: %q", cols, frame)
		}
	}
}

// TestWatchSIGTERM: as a service, watch ends on SIGTERM with exit status 0,
// its last line whole.
func TestWatchSIGTERM(t *testing.T) {
	livetest.Skip(t)
	cmd, r, stderr := startSockleak(t, "watch", "--pid", strconv.Itoa(os.Getpid()), "--interval", "100ms", "-o", "json")
	for range 3 {
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatalf("reading watch's lines: %v\n%s", err, stderr.String())
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch after SIGTERM: %v\n%s", err, stderr.String())
	}
	if len(rest) > 0 && rest[len(rest)-1] != '\n' {
		t.Errorf("last line cut short: %q", rest)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(rest)), "\n") {
		if l != "" && !json.Valid([]byte(l)) {
			t.Errorf("not a JSON line: %q", l)
		}
	}
}

// startWatchExporter runs sockleak watch with these arguments (a
// --listen 127.0.0.1:0 among them) until the test ends, and returns the
// exporter's address once /healthz says its first sample is in. Cleanup
// stops it and checks that the port is closed again.
func startWatchExporter(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	c := newWatchCmd(func(ctx context.Context, o *WatchOptions) error {
		o.listening = func(a net.Addr) { addrc <- a.String() }
		return runWatch(ctx, o)
	})
	var stderr bytes.Buffer
	c.SetArgs(args)
	c.SetOut(io.Discard)
	c.SetErr(&stderr)
	done := make(chan error, 1)
	go func() { done <- c.ExecuteContext(ctx) }()
	var addr string
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch: %v\n%s", err, stderr.String())
		}
		// Stopped: the port is closed again.
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			t.Errorf("the exporter still listens after watch stopped")
		}
	})
	select {
	case addr = <-addrc:
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("watch stopped: %v\n%s", err, stderr.String())
	}

	// The first sample may not be in yet: poll /healthz.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && string(body) == "ok\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz = %s %q after 10 s", resp.Status, body)
		}
		time.Sleep(20 * time.Millisecond)
	}

	return addr
}
