//go:build linux

package watch

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/hostiletest"
	"github.com/sockleak/sockleak/internal/livetest"
	"github.com/sockleak/sockleak/report"
)

// hostileChildEnv makes the test binary TestHostileChild's process: it
// renames itself hostileName, connects to the address in the variable,
// says "ready" and holds its socket until its stdin closes.
const hostileChildEnv = "SOCKLEAK_HOSTILE_CHILD"

// TestHostileChild is the child of TestHostileLive, and nothing when run
// as a test.
func TestHostileChild(t *testing.T) {
	addr := os.Getenv(hostileChildEnv)
	if addr == "" {
		t.Skip("the child of TestHostileLive")
	}
	// The thread group leader's name, as prctl(PR_SET_NAME) on the main
	// thread sets it: what PID/status and ps show.
	if err := os.WriteFile("/proc/self/comm", []byte(hostileName), 0); err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("ready\n")
	_, _ = io.Copy(io.Discard, os.Stdin)
	c.Close()
	os.Exit(0)
}

// TestHostileLive is issue 12's acceptance run on loopback: a process that
// renamed itself "\xff\xfebad\x1b[31m" holds a CLOSE_WAIT socket; the
// real scan reads its name, and the exporter keeps serving parseable
// metrics, the textfile is valid UTF-8, and no ESC reaches inspect's
// table, the Nagios line, /metrics or watch's lines.
func TestHostileLive(t *testing.T) {
	livetest.Skip(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	child := exec.Command(os.Args[0], "-test.run=^TestHostileChild$")
	child.Env = append(os.Environ(), hostileChildEnv+"="+ln.Addr().String())
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close() // the child exits; kill it should it not
		done := make(chan struct{})
		go func() { _ = child.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = child.Process.Kill()
			<-done
		}
	}()
	if l, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || l != "ready\n" {
		t.Fatalf("child said %q, %v", l, err)
	}
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.Close() // the child's end goes to CLOSE_WAIT

	fsys, err := inspect.NewFS(inspect.DefaultRoot)
	if err != nil {
		t.Skip(err)
	}
	opts := inspect.Options{PIDs: []int{child.Process.Pid}, States: []inspect.TCPState{inspect.CloseWait}}
	var snap *inspect.Snapshot
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if snap, err = inspect.Scan(context.Background(), fsys, opts); err != nil {
			t.Fatal(err)
		}
		if len(snap.Sockets) == 1 || time.Now().After(deadline) {
			break
		}
	}
	if len(snap.Processes) != 1 || snap.Processes[0].Name != hostileName || len(snap.Sockets) != 1 {
		t.Fatalf("scan: processes %+v, %d sockets; want the child named %q with its CLOSE_WAIT socket",
			snap.Processes, len(snap.Sockets), hostileName)
	}

	r := report.Analyze(snap, report.Thresholds{})
	l := report.CheckThresholds{States: map[inspect.TCPState]report.Level{inspect.CloseWait: {Warn: report.AtMost(0), Crit: report.AtMost(0)}}}
	vs := report.Check(r, l)
	var out bytes.Buffer
	if err := report.Table(&out, r, report.TableOptions{Sockets: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := report.Nagios(&out, r, l, vs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sockleak.prom")
	if err := report.WriteTextfile(path, r, l, vs); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out.Write(file)

	st := NewMonitor(Config{Window: time.Minute, Thresholds: Thresholds{CloseWait: 0}}).Observe(Sample{Snap: snap})
	if err := TextLines(&out, st); err != nil {
		t.Fatal(err)
	}
	e := NewExporter(0, false)
	e.Update(st)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	srv := httptest.NewServer(Handler(reg, func() error { return nil }))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d, %v", resp.StatusCode, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := parser.TextToMetricFamilies(bytes.NewReader(metricsBody)); err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	out.Write(metricsBody)
	hostiletest.AssertPrintable(t, out.Bytes(), 0)
	if n := strings.Count(out.String(), `\xff\xfebad\x1b[31m`); n < 6 {
		t.Errorf("the name escaped %d times, want it in the table, the Nagios line, the textfile, the lines and /metrics:\n%s", n, out.String())
	}
}
