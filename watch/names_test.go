package watch

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/sockleak/sockleak/inspect"
)

// TestTellApart: two leaking python3 processes are told apart by their
// command lines in every line watch writes; a process whose name is its
// own is named alone.
func TestTellApart(t *testing.T) {
	m := NewMonitor(Config{Thresholds: Thresholds{CloseWait: 0}})
	s := snap(0,
		sock(inspect.CloseWait, "127.0.0.1:40001", "127.0.0.1:7000", 1, 10),
		sock(inspect.CloseWait, "127.0.0.1:40002", "127.0.0.1:7000", 2, 11),
		sock(inspect.Established, "127.0.0.1:40003", "127.0.0.1:5432", 3, 12))
	s.Processes = []inspect.Process{
		{PID: 10, Name: "python3", Cmdline: "/usr/bin/python3 billing.py --queue a", FDs: 5},
		{PID: 11, Name: "python3", Cmdline: "/usr/bin/python3 mailer.py", FDs: 5},
		{PID: 12, Name: "postgres", Cmdline: "postgres: app db [local] idle", FDs: 5},
	}
	st := m.Observe(Sample{Snap: s})
	heads := map[int]string{}
	for i := range st.Processes {
		heads[st.Processes[i].PID] = st.Processes[i].Headline()
	}
	for pid, want := range map[int]string{10: "pid 10 (python3 billing.py --queue a):", 11: "pid 11 (python3 mailer.py):", 12: "pid 12 (postgres):"} {
		if !strings.HasPrefix(heads[pid], want) {
			t.Errorf("pid %d's headline %q, want it to start %q", pid, heads[pid], want)
		}
	}
	if len(st.Alerts) != 2 {
		t.Fatalf("%d alerts, want close_wait for pids 10 and 11", len(st.Alerts))
	}
	for _, a := range st.Alerts {
		if !strings.Contains(a.Message(), "(python3 ") {
			t.Errorf("alert message %q does not tell its python3 apart", a.Message())
		}
	}
	var b bytes.Buffer
	if err := JSONLines(&b, st); err != nil {
		t.Fatal(err)
	}
	commands := 0
	for line := range strings.Lines(b.String()) {
		var l struct {
			Processes []ProcessLine `json:"processes"`
			Command   string        `json:"command"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		for _, p := range l.Processes {
			if (p.Command != "") != (p.Name == "python3") {
				t.Errorf("process line %+v: command %q", p, p.Command)
			}
			if p.Command != "" {
				commands++
			}
		}
		if l.Command != "" {
			commands++
		}
	}
	if commands != 4 { // two processes, two alerts
		t.Errorf("%d lines name a command, want 4:\n%s", commands, b.String())
	}
}
