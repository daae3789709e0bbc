//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/internal/livetest"
	"github.com/sockleak/sockleak/report"
)

func TestCheckLeakingClient(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes and sockets of its own
	pid, peer := leakingClient(t, 3, 150*time.Millisecond)
	p := strconv.Itoa(pid)

	// --min-age 0: the sockets are fresh, and every one counts.
	code, stdout, stderr := runMain("check", "--pid", p, "--min-age", "0")
	// 3: over the default warning level (0), under the critical (100).
	want := fmt.Sprintf("WARNING   pid %d (leaky) 3 CLOSE_WAIT to %s, over the maximum 0; ", pid, peer)
	if code != 1 || !strings.HasPrefix(stdout, want) || !strings.Contains(stdout, "\nFAIL: 1 threshold exceeded by 1 owner") {
		t.Errorf("check --pid %d: exit %d, want 1 and a line %q\nstdout:\n%s\nstderr:\n%s", pid, code, want, stdout, stderr)
	}

	code, stdout, stderr = runMain("check", "--pid", p, "-o", "json", "--min-age", "0")
	var d report.CheckDocument
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("exit %d: %v\n%s%s", code, err, stdout, stderr)
	}
	if code != 1 || d.Status != "warning" || len(d.Violations) != 1 {
		t.Fatalf("check -o json: exit %d, document %+v", code, d)
	}
	v := d.Violations[0]
	if v.PID != pid || v.Name != "leaky" || v.State != "CLOSE_WAIT" || v.Peer != peer || v.Value != 3 || v.Limit != 0 || v.FDsOpen < 3 {
		t.Errorf("violation = %+v, want pid %d (leaky), 3 CLOSE_WAIT to %s over 0", v, pid, peer)
	}

	code, stdout, _ = runMain("check", "--pid", p, "-o", "nagios", "--min-age", "0")
	wantN := fmt.Sprintf("SOCKLEAK WARNING - pid %d (leaky) 3 CLOSE_WAIT to %s | close_wait=3;0;100;0; fd_usage=", pid, peer)
	if code != report.NagiosWarning || !strings.HasPrefix(stdout, wantN) {
		t.Errorf("nagios: exit %d, output %q, want 1 and %q", code, stdout, wantN)
	}

	// A limit above the count passes: the count is what check compares.
	code, stdout, _ = runMain("check", "--pid", p, "--max-close-wait", "3", "--min-age", "0")
	if code != 0 || !strings.HasPrefix(stdout, "OK: no threshold exceeded (max CLOSE_WAIT 3") {
		t.Errorf("--max-close-wait 3: exit %d\n%s", code, stdout)
	}
	code, _, _ = runMain("check", "--pid", p, "--max-close-wait", "2", "--min-age", "0")
	if code != 1 {
		t.Errorf("--max-close-wait 2: exit %d, want 1", code)
	}
}

func TestCheckCorrectClient(t *testing.T) {
	livetest.Skip(t)
	peer := slowPeer(t, 100*time.Millisecond)
	pid := startLeaky(t, "-addr", peer, "-n", "10", "-timeout", "10ms", "-close")
	code, stdout, stderr := runMain("check", "--pid", strconv.Itoa(pid))
	if code != 0 || !strings.HasPrefix(stdout, "OK: no threshold exceeded") {
		t.Errorf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// TestCheckMinAgeKeepsPersistentLeaks: without the kernel's age bound
// (the proc backend), sockets still in CLOSE_WAIT at the second sample,
// --min-age after the first, count.
func TestCheckMinAgeKeepsPersistentLeaks(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes and sockets of its own
	peer := slowPeer(t, 150*time.Millisecond)
	pid := startLeaky(t, "-addr", peer, "-n", "2", "-timeout", "10ms")
	waitCloseWait(t, pid, 2)
	start := time.Now()
	code, stdout, stderr := runMain("check", "--pid", strconv.Itoa(pid), "--min-age", "400ms", "--backend", "proc")
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Errorf("check --min-age 400ms returned after %v", took)
	}
	want := fmt.Sprintf("pid %d (leaky) 2 CLOSE_WAIT to %s", pid, peer)
	if code != 1 || !strings.Contains(stdout, want) {
		t.Errorf("exit %d, want 1 and %q\nstdout:\n%s\nstderr:\n%s", code, want, stdout, stderr)
	}
}

// TestCheckMinAgeIgnoresClosedSockets: sockets in CLOSE_WAIT at the first
// sample that the application closes before the second do not count. The
// test drives check's clock: the wait ends once the client has closed.
func TestCheckMinAgeIgnoresClosedSockets(t *testing.T) {
	livetest.Skip(t)
	peer := slowPeer(t, 150*time.Millisecond)
	pid, stop := stoppableLeaky(t, "-addr", peer, "-n", "2", "-timeout", "10ms")
	waitCloseWait(t, pid, 2)

	// By peer, not pid: the client exits when it closes. (Not by port: a
	// socket elsewhere on the host may use the same number as a local
	// port.) Other processes are not the test's business: no fd limit.
	args := []string{"--peer", peer, "--max-fd-usage", "-1"}
	code, stdout, _ := runMain(append([]string{"check", "--min-age", "0"}, args...)...)
	if code != 1 || !strings.Contains(stdout, fmt.Sprintf("pid %d (leaky) 2 CLOSE_WAIT", pid)) {
		t.Fatalf("without --min-age: exit %d, want 1 naming pid %d\n%s", code, pid, stdout)
	}

	var waited time.Duration
	args = append(args, "--backend", "proc") // no age bound: two samples
	c := newCheckCmd(func(ctx context.Context, o *CheckOptions) error {
		o.after = instantAfter(func(d time.Duration) {
			waited = d
			stop() // the first sample is taken: the client closes its sockets and exits
		})
		return runCheck(ctx, o)
	})
	var out bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&out)
	c.SetArgs(append(args, "--min-age", "10m"))
	if err := c.Execute(); err != nil {
		t.Fatalf("check --min-age with the sockets closed in the window: %v\n%s", err, out.String())
	}
	if waited != 10*time.Minute || !strings.HasPrefix(out.String(), "OK: no threshold exceeded") {
		t.Errorf("waited %v, output:\n%s", waited, out.String())
	}
}

// TestCheckTimeout: a scan that hangs (a socket table that is a FIFO no
// one writes: the read never returns, whatever the context says) ends
// at -t as a plugin must: UNKNOWN, exit 3, on time.
func TestCheckTimeout(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(healthyRoot)); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(root, "net", "tcp")
	if err := os.Remove(fifo); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Unblock the abandoned reader: a writer that comes and goes
		// gives it an end of file.
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
	})
	start := time.Now()
	code, stdout, stderr := runMain("check", "-o", "nagios", "--proc-root", root, "--backend", "proc", "-t", "300ms")
	took := time.Since(start)
	if code != report.NagiosUnknown || stdout != "SOCKLEAK UNKNOWN - the check did not finish within --timeout 300ms\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 3 and UNKNOWN", code, stdout, stderr)
	}
	if took < 300*time.Millisecond || took > 5*time.Second {
		t.Errorf("returned after %v, want 300ms and a little", took)
	}
	code, _, stderr = runMain("check", "--proc-root", root, "--backend", "proc", "--timeout=300ms")
	if code != exitError || stderr != "sockleak: the check did not finish within --timeout 300ms\n" {
		t.Errorf("text: exit %d, stderr %q; want 2 and the timeout", code, stderr)
	}
}

// TestCheckNagiosRanges is issue 17's acceptance on real sockets: a
// client holding 12 CLOSE_WAIT sockets on loopback, against -w and -c in
// the plugin range syntax; the perfdata carries warn;crit as given.
func TestCheckNagiosRanges(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes and sockets of its own
	pid, _ := leakingClient(t, 12, 150*time.Millisecond)
	base := []string{"check", "-o", "nagios", "--pid", strconv.Itoa(pid), "--min-age", "0"}
	for _, tt := range []struct {
		args []string
		code int
		perf string // close_wait's perfdata
	}{
		{[]string{"-w", "close-wait=5", "-c", "close-wait=20"}, report.NagiosWarning, "close_wait=12;5;20;0;"},
		{[]string{"-w", "close-wait=~:20", "-c", "close-wait=30"}, report.NagiosOK, "close_wait=12;~:20;30;0;"},
		{[]string{"-w", "close-wait=~:20", "-c", "close-wait=30", "-t", "5"}, report.NagiosOK, "close_wait=12;~:20;30;0;"},
		// 10: alerts BELOW 10 (the guidelines: outside 10..∞): 12 is
		// no critical there, and the default warning (above 0) stays.
		{[]string{"-c", "close-wait=10:"}, report.NagiosWarning, "close_wait=12;0;10:;0;"},
		// @10: alerts inside 10..∞: 12 is critical.
		{[]string{"-c", "close-wait=@10:"}, report.NagiosCritical, "close_wait=12;0;@10:;0;"},
		{[]string{"-w", "close-wait=13:", "-c", "close-wait=12:"}, report.NagiosWarning, "close_wait=12;13:;12:;0;"},
		{nil, report.NagiosWarning, "close_wait=12;0;100;0;"}, // the defaults: a warning
	} {
		code, stdout, stderr := runMain(append(base, tt.args...)...)
		if code != tt.code || !strings.Contains(stdout, " | "+tt.perf+" ") {
			t.Errorf("%v: exit %d, want %d and perfdata %q\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.code, tt.perf, stdout, stderr)
		}
	}
}
