package watch

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/inspect"
)

// TestLinesShowWorkload: a process of a unit is led by the unit in the
// text line, escaped (a unit is named by whoever started it), and carries
// it in the JSON line; a plain process reads as before.
func TestLinesShowWorkload(t *testing.T) {
	unit := inspect.Workload{Kind: inspect.KindUnit, Unit: "leaky\x1b[31m.service", Slice: "system.slice"}
	st := &Status{Seq: 1, Time: time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC), States: map[inspect.TCPState]int{},
		Processes: []ProcStatus{
			{ProcKey: ProcKey{PID: 4242}, Name: "python3", States: map[inspect.TCPState]int{inspect.CloseWait: 7},
				FDs: 20, FDLimit: 64, ETA: -1, Workload: unit, WorkloadName: unit.Name("python3")},
			{ProcKey: ProcKey{PID: 7}, Name: "sshd", FDs: 5, FDLimit: 1024, ETA: -1},
		}}
	lead := st.Processes[0].Headline()
	if !strings.HasPrefix(lead, `leaky\x1b[31m.service (pid 4242, python3): CLOSE_WAIT 7`) {
		t.Errorf("headline %q: want it led by the escaped unit", lead)
	}
	if plain := st.Processes[1].Headline(); !strings.HasPrefix(plain, "pid 7 (sshd): ") {
		t.Errorf("headline %q: a plain process as before", plain)
	}
	var b bytes.Buffer
	if err := JSONLines(&b, st); err != nil {
		t.Fatal(err)
	}
	var line struct {
		Processes []struct {
			PID      int `json:"pid"`
			Workload *struct {
				Name string `json:"name"`
				Kind string `json:"kind"`
				Unit string `json:"unit"`
			} `json:"workload"`
		} `json:"processes"`
	}
	if err := json.Unmarshal(bytes.SplitN(b.Bytes(), []byte("\n"), 2)[0], &line); err != nil {
		t.Fatalf("%v in %s", err, b.String())
	}
	if len(line.Processes) != 2 {
		t.Fatalf("%d processes in the line, want 2: %s", len(line.Processes), b.String())
	}
	for _, p := range line.Processes {
		switch {
		case p.PID == 4242 && (p.Workload == nil || p.Workload.Kind != "unit" || p.Workload.Name != unit.Unit):
			t.Errorf("pid 4242's workload = %+v, want the unit", p.Workload)
		case p.PID == 7 && p.Workload != nil:
			t.Errorf("pid 7 has no cgroup read, yet a workload %+v", p.Workload)
		}
	}
}

// TestExitLines: a process that ended near its limit is written with its
// start and end as the lines write every time, RFC 3339 in UTC to the
// second; without a boot time, no start.
func TestExitLines(t *testing.T) {
	at := time.Date(2026, 12, 2, 11, 0, 0, 123456789, time.FixedZone("CET", 3600))
	e := Exit{ProcKey: ProcKey{PID: 7, Start: 6000}, At: at, FDs: 99, FDLimit: 100}
	got := exitLines([]Exit{e}, testBootTime)
	want := []ExitLine{{PID: 7, StartTime: "2025-12-02T10:01:00Z", Time: "2026-12-02T10:00:00Z", FDsOpen: 99, FDSoftLimit: 100}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("exitLines (-want +got):\n%s", diff)
	}
	if got := exitLines([]Exit{e}, 0); got[0].StartTime != "" {
		t.Errorf("no boot time, start %q", got[0].StartTime)
	}
}
