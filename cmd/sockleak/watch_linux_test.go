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
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/internal/metrics"
	"github.com/sockleak/sockleak/watch"
)

func TestWatchLeakingChild(t *testing.T) {
	peer := slowPeer(t, 200*time.Millisecond)
	// 60 transactions of 60 ms each: the leak grows for about 4 s.
	l := startLeakyChild(t, "-addr", peer, "-n", "60", "-timeout", "60ms", "-fd-limit", "128")
	pid := strconv.Itoa(l.pid)

	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	code := make(chan int, 1)
	go func() {
		// --state close-wait: the kernel leaves the rest of a busy host's
		// sockets out of the dump, so samples stay quick.
		code <- Main([]string{"watch", "--pid", pid, "--state", "close-wait", "--interval", "100ms", "--count", "80",
			"--window", "30s", "--close-wait", "5", "--eta", "10m", "-o", "json"}, pw, &stderr)
		pw.Close()
	}()

	var (
		maxRate    float64
		eta        *float64
		fired      bool
		resolved   bool
		samples    int
		alertLines []string
	)
	sc := bufio.NewScanner(pr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var head struct{ Type string }
		if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		switch head.Type {
		case "sample":
			samples++
			var s watch.SampleLine
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
				t.Fatal(err)
			}
			for _, p := range s.Processes {
				if p.PID != l.pid {
					continue
				}
				if p.Name != "leaky" || p.FDSoftLimit != 128 || p.StartTime == 0 {
					t.Errorf("process = %+v, want leaky with a soft limit of 128 and a start time", p)
				}
				maxRate = max(maxRate, p.RatesPerMinute["CLOSE_WAIT"])
				if p.SecondsToFDLimit != nil && eta == nil {
					eta = p.SecondsToFDLimit
				}
			}
		case "alert":
			var a watch.AlertLine
			if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
				t.Fatal(err)
			}
			alertLines = append(alertLines, sc.Text())
			if a.PID != l.pid || a.Rule != watch.RuleCloseWait {
				continue
			}
			switch a.Status {
			case "firing":
				if a.Count <= 5 || a.Peer != peer || a.Name != "leaky" {
					t.Errorf("firing alert = %s, want more than 5 sockets to %s", sc.Text(), peer)
				}
				fired = true
				l.fix() // the leak stops: it closes its sockets and lives on
			case "resolved":
				if !fired || a.Exited || a.Count != 0 {
					t.Errorf("resolved = %s; want it after it fired, with the process alive and 0 CLOSE_WAIT", sc.Text())
				}
				resolved = true
			}
		case "error":
			t.Errorf("a sample failed: %s", sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if c := <-code; c != 0 {
		t.Fatalf("watch exited %d: %s", c, stderr.String())
	}
	if eta != nil {
		t.Logf("%d samples; CLOSE_WAIT rate up to %+.0f/min; first time-to-limit estimate %.1f s", samples, maxRate, *eta)
	}
	if samples != 80 {
		t.Errorf("%d samples, want --count 80", samples)
	}
	if maxRate <= 0 {
		t.Errorf("CLOSE_WAIT rate never positive (max %v/min)", maxRate)
	}
	if eta == nil || *eta <= 0 || *eta > 600 {
		t.Errorf("time to the fd limit = %v, want a finite estimate while it leaked", eta)
	}
	if !fired || !resolved {
		t.Errorf("close_wait alert fired %v, resolved %v; alerts:\n%s", fired, resolved, strings.Join(alertLines, "\n"))
	}
}

// scrape fetches and parses /metrics with prometheus/common's parser.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
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

	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	c := newWatchCmd(func(ctx context.Context, o *WatchOptions) error {
		o.listening = func(a net.Addr) { addrc <- a.String() }
		return runWatch(ctx, o)
	})
	var stderr bytes.Buffer
	c.SetArgs([]string{"--pid", strings.Join(pids, ","), "--listen", "127.0.0.1:0", "--max-processes", "2",
		"--interval", "100ms", "-o", "text"})
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

	mfs := scrape(t, addr)
	procSockets := series(mfs[metrics.ProcessSockets.Name])
	want := map[string]float64{
		fmt.Sprintf(`pid=%q,process="leaky",state="close_wait"`, pids[2]): 6,
		fmt.Sprintf(`pid=%q,process="leaky",state="close_wait"`, pids[1]): 4,
		`pid="",process="other",state="close_wait"`:                       2,
	}
	if fmt.Sprint(procSockets) != fmt.Sprint(want) {
		t.Errorf("%s = %v\nwant %v", metrics.ProcessSockets.Name, procSockets, want)
	}
	if got := series(mfs[metrics.Sockets.Name])[`state="close_wait"`]; got != 12 {
		t.Errorf(`%s{state="close_wait"} = %v, want 12`, metrics.Sockets.Name, got)
	}
	fds := series(mfs[metrics.ProcessOpenFDs.Name])
	if len(fds) != 3 || fds[`pid="",process="other"`] < 2 || fds[fmt.Sprintf(`pid=%q,process="leaky"`, pids[2])] < 6 {
		t.Errorf("%s = %v, want the two biggest and other, each with at least its sockets", metrics.ProcessOpenFDs.Name, fds)
	}
	oldest := series(mfs[metrics.CloseWaitOldest.Name])
	if len(oldest) != 3 {
		t.Errorf("%s = %v, want three series", metrics.CloseWaitOldest.Name, oldest)
	}
	if got := series(mfs[metrics.ProcessesInspected.Name])[""]; got != 3 {
		t.Errorf("%s = %v, want 3", metrics.ProcessesInspected.Name, got)
	}
	if got := series(mfs[metrics.SampleErrors.Name])[""]; got != 0 || mfs[metrics.SampleErrors.Name].GetType() != dto.MetricType_COUNTER {
		t.Errorf("%s = %v (%v), want a counter at 0", metrics.SampleErrors.Name, got, mfs[metrics.SampleErrors.Name].GetType())
	}
	for name := range mfs {
		if !strings.HasPrefix(name, "sockleak_") {
			t.Errorf("unexpected family %s: the exporter has its own registry", name)
		}
	}
}

func TestWatchFlags(t *testing.T) {
	var got *WatchOptions
	c := newWatchCmd(func(_ context.Context, o *WatchOptions) error { got = o; return nil })
	c.SetArgs([]string{"--name", "openser", "--interval", "5s", "--count", "3", "--window", "10m", "--close-wait", "-1",
		"--max-age", "0", "--fd-usage", "90", "--eta", "2m", "-o", "json", "--listen", "127.0.0.1:9816", "--max-processes", "7"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Scan.Name != "openser" || got.Interval != 5*time.Second || got.Count != 3 || got.Window != 10*time.Minute ||
		got.CloseWait != -1 || got.MaxAge != 0 || got.FDUsage != 90 || got.ETA != 2*time.Minute || got.Output != "json" ||
		got.Listen != "127.0.0.1:9816" || got.MaxProcesses != 7 {
		t.Errorf("options = %+v", got)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", "yaml"}, `invalid -o "yaml"`},
		{[]string{"--interval", "0s"}, "invalid --interval"},
		{[]string{"--interval", "10s", "--window", "5s"}, "invalid --window"},
		{[]string{"--fd-usage", "120"}, "invalid --fd-usage"},
		{[]string{"--max-processes", "0"}, "invalid --max-processes"},
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
	var stdout, stderr bytes.Buffer
	code := Main([]string{"watch", "--pid", strconv.Itoa(os.Getpid()), "--interval", "10ms", "--count", "3"}, &stdout, &stderr)
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
	for _, noColor := range []bool{false, true} {
		t.Run(fmt.Sprintf("NO_COLOR=%v", noColor), func(t *testing.T) {
			cmd := helperSockleak("watch", "--pid", strconv.Itoa(os.Getpid()), "--interval", "50ms")
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

// TestWatchSIGTERM: as a service, watch ends on SIGTERM with exit status 0,
// its last line whole.
func TestWatchSIGTERM(t *testing.T) {
	cmd := helperSockleak("watch", "--pid", strconv.Itoa(os.Getpid()), "--interval", "20ms", "-o", "json")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	r := bufio.NewReader(stdout)
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
