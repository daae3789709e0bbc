package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sockleak/sockleak/internal/livetest"
	"github.com/sockleak/sockleak/report"
)

// TestInspectGopsutilJSON: inspect --backend gopsutil -o json lists the
// live sockets of a leaking client, with their owner, its fd limit (read
// from /proc on Linux) and the close_wait finding, and says once what the
// backend cannot give; over the whole host too.
func TestInspectGopsutilJSON(t *testing.T) {
	livetest.Skip(t)
	t.Parallel()
	peer := slowPeer(t, 150*time.Millisecond)
	pid := startLeaky(t, "-addr", peer, "-n", "3", "-timeout", "10ms", "-fd-limit", "64")
	waitCloseWait(t, pid, 3) // netlink: the leak is there

	d := inspectJSON(t, "--backend", "gopsutil", "--pid", strconv.Itoa(pid), "--min-age", "0")
	if d.Backend != "gopsutil" || len(d.Processes) != 1 {
		t.Fatalf("backend %q, processes %+v; want gopsutil and the client", d.Backend, d.Processes)
	}
	if p := d.Processes[0]; p.PID != pid || p.States["CLOSE_WAIT"] != 3 || p.FDSoftLimit != 64 || p.FDsOpen < 3 {
		t.Errorf("process = %+v; want pid %d with 3 CLOSE_WAIT sockets, %d fds of 64", p, pid, p.FDsOpen)
	}
	n := 0
	for _, s := range d.Sockets {
		if s.State == "CLOSE_WAIT" && s.Remote == peer && slices.Equal(s.PIDs, []int{pid}) {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d CLOSE_WAIT sockets to %s owned by %d, want 3: %+v", n, peer, pid, d.Sockets)
	}
	if !slices.ContainsFunc(d.Findings, func(f report.FindingDoc) bool { return f.Kind == report.KindCloseWait && f.PID == pid && f.Count == 3 }) {
		t.Errorf("findings = %+v, want close_wait for pid %d", d.Findings, pid)
	}
	gaps := 0
	for _, w := range d.Warnings {
		if strings.HasPrefix(w, "the gopsutil backend gives") {
			gaps++
		}
	}
	if gaps != 1 {
		t.Errorf("warnings = %q, want the backend's gaps once", d.Warnings)
	}

	all := inspectJSON(t, "--backend", "gopsutil", "--min-age", "0")
	i := slices.IndexFunc(all.Processes, func(p report.ProcessDoc) bool { return p.PID == pid })
	if i < 0 || all.Processes[i].States["CLOSE_WAIT"] != 3 {
		t.Errorf("whole host: client %d not listed with its 3 CLOSE_WAIT sockets", pid)
	}
}
