//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sockleak/sockleak/internal/livetest"
	"github.com/sockleak/sockleak/report"
	"github.com/sockleak/sockleak/watch"
)

// The kernel's bound of a socket's age (tcp_info, over netlink) end to
// end: check judges --min-age by it in one pass, and watch starts its ages
// from it.

// TestCheckMinAgeByKernelClock: on netlink the kernel bounds each
// CLOSE_WAIT socket's age, so check judges --min-age in one pass: a leak
// younger than the default 3 s passes (with a note), the same leak fails
// the first check once older, --min-age 0 counts it at once, and a longer
// --min-age given does not wait for a second sample when the bound
// already says the sockets are that old.
func TestCheckMinAgeByKernelClock(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes and sockets of its own
	peer := slowPeer(t, 100*time.Millisecond)
	pid := startLeaky(t, "-addr", peer, "-n", "2", "-timeout", "10ms")
	d := waitCloseWait(t, pid, 2)
	born := time.Now()
	p := strconv.Itoa(pid)
	for _, s := range d.Sockets {
		if s.State == "CLOSE_WAIT" && (s.AgeMs == nil || *s.AgeMs > 2000) {
			t.Fatalf("a fresh CLOSE_WAIT socket's age bound = %v, want a small one (netlink reads it)", s.AgeMs)
		}
	}

	code, stdout, stderr := runMain("check", "--pid", p)
	young := time.Since(born) < 2500*time.Millisecond
	if young && (code != 0 || !strings.HasPrefix(stdout, "OK: ")) {
		t.Errorf("a leak younger than the default min age: exit %d, want 0\n%s%s", code, stdout, stderr)
	}
	// inspect's findings judge by the same default: the young sockets
	// are listed, with a note, and have no finding; --min-age 0 has it.
	closeWaitFindings := func(d report.Document) int {
		n := 0
		for _, f := range d.Findings {
			if f.Kind == report.KindCloseWait && f.PID == pid {
				n++
			}
		}
		return n
	}
	if d := inspectJSON(t, "--pid", p); young && (closeWaitFindings(d) != 0 || len(d.Notes) == 0 || d.Processes[0].States["CLOSE_WAIT"] != 2) {
		t.Errorf("inspect of a young leak: %d close_wait findings, notes %q, states %v; want none, a note, and the 2 sockets listed",
			closeWaitFindings(d), d.Notes, d.Processes[0].States)
	}
	if d := inspectJSON(t, "--pid", p, "--min-age", "0"); closeWaitFindings(d) != 1 {
		t.Errorf("inspect --min-age 0: %d close_wait findings, want 1: %+v", closeWaitFindings(d), d.Findings)
	}
	code, stdout, _ = runMain("check", "--pid", p, "--min-age", "0")
	if code != 1 || !strings.Contains(stdout, fmt.Sprintf("pid %d (leaky) 2 CLOSE_WAIT", pid)) {
		t.Errorf("--min-age 0: exit %d, want 1\n%s", code, stdout)
	}

	time.Sleep(time.Until(born.Add(3200 * time.Millisecond)))
	for _, args := range [][]string{{}, {"--min-age", "3s"}} {
		start := time.Now()
		code, stdout, stderr = runMain(append([]string{"check", "--pid", p}, args...)...)
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("check %v took %v: a second sample, where the kernel's bound was enough", args, took)
		}
		if code != 1 || !strings.Contains(stdout, fmt.Sprintf("pid %d (leaky) 2 CLOSE_WAIT", pid)) {
			t.Errorf("check %v of a leak older than 3s: exit %d, want 1 on the first check\n%s%s", args, code, stdout, stderr)
		}
	}
}

// TestWatchFirstSampleAge: watch started next to a CLOSE_WAIT leak a few
// seconds old reports the leak's age on its first sample, from the
// kernel's bound, not the 0 s of a socket it has just met.
func TestWatchFirstSampleAge(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes and sockets of its own
	pid, _ := leakingClient(t, 2, 50*time.Millisecond)
	// The sockets were in CLOSE_WAIT by now; let them age.
	const aged = 2500 * time.Millisecond
	time.Sleep(aged)
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"watch", "--pid", strconv.Itoa(pid), "--count", "1", "-o", "json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("watch: exit %d: %s", code, stderr.String())
	}
	var s watch.SampleLine
	if err := json.Unmarshal([]byte(strings.SplitN(stdout.String(), "\n", 2)[0]), &s); err != nil || s.Type != "sample" || s.Seq != 1 {
		t.Fatalf("first line: %v\n%s", err, stdout.String())
	}
	if len(s.Processes) != 1 || s.Processes[0].PID != pid {
		t.Fatalf("first sample's processes = %+v, want pid %d", s.Processes, pid)
	}
	p := s.Processes[0]
	if oldest := time.Duration(p.CloseWaitOldest * float64(time.Second)); oldest < aged || p.OldestSeconds["CLOSE_WAIT"] != p.CloseWaitOldest {
		t.Errorf("first sample: oldest CLOSE_WAIT %v (oldest_seconds %v), want at least %v", oldest, p.OldestSeconds, aged)
	}
}
