//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockleak/sockleak/client"
	"github.com/sockleak/sockleak/internal/livetest"
	"github.com/sockleak/sockleak/report"
)

// slowPeer is the incident's peer, client.Slow: it answers each request
// later than the client waits, then closes. It returns its address.
func slowPeer(t *testing.T, delay time.Duration) string {
	t.Helper()
	livetest.Skip(t)
	p, err := client.StartPeer(client.PeerOptions{Behaviour: client.Slow, Delay: delay, Reply: []byte("late reply\n")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p.Addr().String()
}

// leakingClient starts testdata/leaky against a slow peer (its reply
// comes delay after a request, after leaky's 10ms timeout) for n
// transactions, and waits until it holds their n sockets in CLOSE_WAIT.
func leakingClient(t *testing.T, n int, delay time.Duration) (pid int, peer string) {
	t.Helper()
	peer = slowPeer(t, delay)
	pid = startLeaky(t, "-addr", peer, "-n", strconv.Itoa(n), "-timeout", "10ms")
	waitCloseWait(t, pid, n)
	return pid, peer
}

// built is one program buildOnce built, or the error that stopped it.
type built struct {
	once sync.Once
	bin  string
	err  error
}

var builds sync.Map // package directory -> *built

// buildOnce builds the main package in the directory pkg (relative to
// this package's) into binDir, once per test binary, and returns the
// program. A test that calls it is live: it skips under -short.
func buildOnce(t *testing.T, pkg string) string {
	t.Helper()
	livetest.Skip(t)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go toolchain not in PATH: cannot build %s", pkg)
	}
	v, _ := builds.LoadOrStore(pkg, &built{})
	b := v.(*built)
	b.once.Do(func() {
		dir, err := filepath.Abs(pkg)
		if err != nil {
			b.err = err
			return
		}
		out := filepath.Join(binDir, filepath.Base(dir))
		cmd := exec.Command(goBin, "build", "-o", out, ".")
		cmd.Dir = dir
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, msg)
			return
		}
		b.bin = out
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

// buildLeaky builds testdata/leaky, the leaking client, once per test
// binary.
func buildLeaky(t *testing.T) string {
	t.Helper()
	return buildOnce(t, filepath.Join("..", "..", "testdata", "leaky"))
}

// startLeaky runs the leaking (or, with -close, the correct) client until
// it has done its transactions, and stops it at cleanup.
func startLeaky(t *testing.T, args ...string) int {
	t.Helper()
	pid, _ := stoppableLeaky(t, args...)
	return pid
}

// stoppableLeaky runs testdata/leaky like startLeaky, and returns a stop
// function that ends it mid-test: it closes every socket (the leaked ones
// too) and exits before stop returns. Cleanup stops it if the test did not.
func stoppableLeaky(t *testing.T, args ...string) (pid int, stop func()) {
	t.Helper()
	l := startLeakyChild(t, args...)
	select {
	case <-l.ready:
	case <-l.done:
		t.Fatalf("leaky exited before it got ready: %v\n%s", l.err, l.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("leaky did not get ready in 30 s")
	}
	return l.pid, l.stop
}

// leakyChild is testdata/leaky started without waiting for it: its leak
// grows while a test samples it.
type leakyChild struct {
	pid    int
	stdin  io.WriteCloser
	ready  chan struct{} // closed once it printed "ready"
	done   chan struct{} // closed once it exited, with err and stderr set
	err    error
	stderr bytes.Buffer
	once   sync.Once
}

// fix tells it to stop leaking: it closes its leaked sockets and makes no
// more requests, but stays alive.
func (l *leakyChild) fix() {
	_, _ = io.WriteString(l.stdin, "close\n")
}

// stop closes its stdin (it closes its leaked sockets and exits) and waits
// for it to exit.
func (l *leakyChild) stop() {
	l.once.Do(func() { l.stdin.Close() })
	<-l.done
}

func startLeakyChild(t *testing.T, args ...string) *leakyChild {
	t.Helper()
	l := &leakyChild{ready: make(chan struct{}), done: make(chan struct{})}
	cmd := exec.Command(buildLeaky(t), args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &l.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l.pid, l.stdin = cmd.Process.Pid, stdin
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		if strings.TrimSpace(line) == "ready" {
			close(l.ready)
		}
		_, _ = io.Copy(io.Discard, stdout)
		l.err = cmd.Wait() // after the last read: Wait closes the pipe
		close(l.done)
	}()
	t.Cleanup(func() {
		l.stop()
		if l.err != nil {
			t.Errorf("leaky: %v\n%s", l.err, l.stderr.String())
		}
	})
	return l
}

func inspectJSON(t *testing.T, args ...string) report.Document {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := Main(append([]string{"inspect", "-o", "json"}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("inspect exited %d: %s", code, stderr.String())
	}
	schemaCheck(t, "inspect", stdout.Bytes())
	var d report.Document
	if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
		t.Fatalf("inspect -o json: %v\n%s", err, stdout.String())
	}
	return d
}

// waitCloseWait polls until pid holds want CLOSE_WAIT sockets: the peer
// closes a moment after its late reply.
func waitCloseWait(t *testing.T, pid, want int) report.Document {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		// --min-age 0: fresh sockets have their findings too, as callers
		// expect of a leak they just made.
		d := inspectJSON(t, "--pid", strconv.Itoa(pid), "--min-age", "0")
		got := 0
		if len(d.Processes) == 1 {
			got = d.Processes[0].States["CLOSE_WAIT"]
		}
		if got == want || time.Now().After(deadline) {
			if got != want {
				t.Fatalf("pid %d: %d CLOSE_WAIT sockets, want %d", pid, got, want)
			}
			return d
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestInspectNamesLeakingProcess(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes and sockets of its own
	for _, tc := range []struct {
		name     string
		n        int
		severity string
	}{
		{"few leaks: warning", 3, "warning"},
		{"near the fd limit: critical", 40, "critical"}, // 40 CLOSE_WAIT >= 50% of 64
	} {
		t.Run(tc.name, func(t *testing.T) {
			peer := slowPeer(t, 150*time.Millisecond)
			pid := startLeaky(t, "-addr", peer, "-n", strconv.Itoa(tc.n), "-timeout", "10ms", "-fd-limit", "64")
			d := waitCloseWait(t, pid, tc.n)

			p := d.Processes[0]
			if p.PID != pid || p.Name != "leaky" || p.FDSoftLimit != 64 || p.FDsOpen < tc.n {
				t.Errorf("process = %+v, want pid %d named leaky, soft limit 64, at least %d fds", p, pid, tc.n)
			}
			var cw []report.FindingDoc
			for _, f := range d.Findings {
				if f.Kind == report.KindCloseWait {
					cw = append(cw, f)
				}
			}
			if len(cw) != 1 {
				t.Fatalf("close_wait findings = %+v, want 1", cw)
			}
			f := cw[0]
			if f.PID != pid || f.Count != tc.n || f.Peer != peer || f.Severity != tc.severity ||
				f.FDsOpen != p.FDsOpen || f.FDSoftLimit != 64 || f.State != "CLOSE_WAIT" {
				t.Errorf("finding = %+v, want pid %d, %d sockets to %s, %s, fds %d/64", f, pid, tc.n, peer, tc.severity, p.FDsOpen)
			}
			n := 0
			for _, s := range d.Sockets {
				if s.State == "CLOSE_WAIT" && s.Remote == peer && len(s.PIDs) == 1 && s.PIDs[0] == pid && s.RxQueue > 0 {
					n++ // the late reply is still unread in its receive queue
				}
			}
			if n != tc.n {
				t.Errorf("%d CLOSE_WAIT sockets to %s with unread data owned by %d, want %d", n, peer, pid, tc.n)
			}

			var table, stderr bytes.Buffer
			if code := Main([]string{"inspect", "--pid", strconv.Itoa(pid), "--min-age", "0"}, &table, &stderr); code != 0 {
				t.Fatalf("inspect exited %d: %s", code, stderr.String())
			}
			want := fmt.Sprintf("pid %d (leaky) is not closing sockets its peer closed: %d in CLOSE_WAIT to %s; %d/64 fds",
				pid, tc.n, peer, p.FDsOpen)
			if !strings.Contains(strings.Join(strings.Fields(table.String()), " "), want) {
				t.Errorf("table lacks %q:\n%s", want, table.String())
			}
		})
	}
}

func TestInspectCorrectClientLeavesNothing(t *testing.T) {
	livetest.Skip(t)
	peer := slowPeer(t, 100*time.Millisecond)
	pid := startLeaky(t, "-addr", peer, "-n", "10", "-timeout", "10ms", "-close")
	d := inspectJSON(t, "--pid", strconv.Itoa(pid))
	if len(d.Processes) != 1 || d.Processes[0].States["CLOSE_WAIT"] != 0 || len(d.Processes[0].States) != 0 {
		t.Errorf("processes = %+v, want the client with no TCP sockets", d.Processes)
	}
	for _, f := range d.Findings {
		if f.PID == pid {
			t.Errorf("unexpected finding for the correct client: %+v", f)
		}
	}
}
