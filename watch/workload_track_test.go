package watch

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// life is one process of leaky.service: it starts at sample from with
// extra descriptors and leaks perSample CLOSE_WAIT sockets a sample.
type life struct {
	pid, from, to int // samples [from, to)
	perSample     int
	limit         int64
}

// lives returns sample i of a service whose processes live one after the
// other, 10 s apart.
func lives(i int, ls ...life) Sample {
	var ps []procSpec
	for _, l := range ls {
		if i >= l.from && i < l.to {
			ps = append(ps, procSpec{pid: l.pid, start: uint64(l.from + 1), name: "leaky", cw: (i - l.from) * l.perSample,
				extraFDs: 10, limit: l.limit, unit: "leaky.service"})
		}
	}
	// A bystander, so that no sample is empty.
	ps = append(ps, procSpec{pid: 7, start: 1, name: "sshd", est: 1, extraFDs: 3, limit: 1024})
	return sample(time.Duration(i)*10*time.Second, ps...)
}

func workload(st *Status, name string) *WorkloadStatus {
	for i := range st.Workloads {
		if st.Workloads[i].Name == name {
			return &st.Workloads[i]
		}
	}
	return nil
}

// TestWorkloadAcrossRestart: a unit that leaks 6 CLOSE_WAIT sockets a
// minute (1 a sample) and restarts keeps its leak rate and its time to
// the limit on the new pid's first sample, and its fd_limit_eta alert
// fires once and goes on firing across the restart: no resolution, no
// second notification.
func TestWorkloadAcrossRestart(t *testing.T) {
	m := NewMonitor(Config{Window: 5 * time.Minute, Thresholds: Thresholds{CloseWait: -1, ETA: time.Hour}})
	ls := []life{{pid: 100, from: 0, to: 30, perSample: 1, limit: 256}, {pid: 200, from: 30, to: 60, perSample: 1, limit: 256}}
	var fired []Alert
	for i := range 60 {
		st := m.Observe(lives(i, ls...))
		fired = append(fired, st.Alerts...)
		w := workload(st, "leaky.service")
		if i < 3 {
			continue
		}
		// Leaked sockets 30 s old or more carry on: at the restart 26
		// of pid 100's 29, and pid 200 starts with none.
		if w == nil || !w.RateKnown || w.Rate < 4.5 || w.Rate > 6.1 {
			t.Fatalf("sample %d: workload %+v, want leaky.service growing 6/min across pids", i, w)
		}
		if i >= 5 && w.ETA < 0 { // 5 sockets grown: enough to extrapolate
			t.Errorf("sample %d (pid %d): no time to the limit, want one from the workload's growth", i, w.Lead.PID)
		}
	}
	if len(fired) != 1 || fired[0].Rule != RuleFDLimitETA || !fired[0].Firing || fired[0].WorkloadName != "leaky.service" {
		t.Errorf("alerts %+v, want fd_limit_eta firing once for leaky.service, and never resolving at the restart", fired)
	}
	if msg := fired[0].Message(); !strings.HasPrefix(msg, "leaky.service (pid 100, leaky): ") {
		t.Errorf("message %q, want it led by the unit and its pid", msg)
	}
}

// TestCrashLoop: leaky.service's processes die at their fd limit one
// after the other. The third death with the service back fires crash_loop
// (not the second), and it resolves once the deaths leave the window.
func TestCrashLoop(t *testing.T) {
	m := NewMonitor(Config{Window: time.Minute, Thresholds: Thresholds{CloseWait: -1, CrashLoop: 3}})
	// Each life: 10 fds, +12 a sample, last seen at 58/64 or 46/64
	// (72%: not at the limit), then gone.
	ls := []life{
		{pid: 100, from: 0, to: 5, perSample: 12, limit: 64},  // 58/64: at the limit
		{pid: 200, from: 5, to: 9, perSample: 12, limit: 64},  // 46/64: below
		{pid: 300, from: 9, to: 14, perSample: 12, limit: 64}, // 58
		{pid: 400, from: 14, to: 19, perSample: 12, limit: 64},
		{pid: 500, from: 19, to: 100, perSample: 0, limit: 64}, // fixed: stays
	}
	var transitions []Alert
	firstFiring := -1
	for i := range 100 { // 100 samples: 16m30s
		st := m.Observe(lives(i, ls...))
		for _, a := range st.Alerts {
			if a.Rule == RuleCrashLoop {
				transitions = append(transitions, a)
				if a.Firing {
					firstFiring = i
				}
			}
		}
		if i == 17 { // pid 400's third sample: the growth of the lives before carries on
			if w := workload(st, "leaky.service"); w == nil || !w.RateKnown || w.Rate < 50 {
				t.Errorf("sample 17: %+v, want leaky.service's growth across lives (72/min)", w)
			}
		}
		if i == 19 {
			w := workload(st, "leaky.service")
			if w == nil || len(w.LimitExits()) != 3 || len(w.Exits) != 4 || !slices.Contains(w.Firing, RuleCrashLoop) {
				t.Fatalf("sample 19: %+v, want 3 exits at the limit of 4, crash_loop firing", w)
			}
		}
	}
	if firstFiring != 19 || len(transitions) != 2 || transitions[1].Firing {
		t.Fatalf("crash_loop transitions %+v (first firing at sample %d), want firing at 19 (pid 500 back after the third death), then resolved", transitions, firstFiring)
	}
	msg := transitions[0].Message()
	for _, want := range []string{"leaky.service (pid 500, leaky): ", "restarted 3 times in 10m, each time at 91% of its fd limit", "[3 ends at 80%+"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	// Resolved when the first death (seen at sample 5, 50 s) leaves the
	// 10 m window: at 660 s, sample 66.
	if got := transitions[1].Time.Sub(transitions[0].Time); got != (66-19)*10*time.Second {
		t.Errorf("resolved %v after firing, want when the first death leaves the window (470s)", got)
	}
}

// TestBusyHostNoFalseAlarm: 40 backends of one name (no unit, no command
// line to tell them apart) come and go every few samples, each holding a
// CLOSE_WAIT socket now and then and a steady set of descriptors. Their
// workload's growth stays flat and nothing fires: churn is not a leak.
func TestBusyHostNoFalseAlarm(t *testing.T) {
	m := NewMonitor(Config{Window: 5 * time.Minute, Thresholds: Thresholds{CloseWait: 100, MaxAge: 5 * time.Minute, FDUsage: 80, ETA: 10 * time.Minute, CrashLoop: 3}})
	for i := range 200 {
		var ps []procSpec
		for j := range 40 {
			gen := (i + j) / 3 // each backend lives 3 samples
			pid := 10000 + j*1000 + gen
			ps = append(ps, procSpec{pid: pid, start: uint64(gen + 1), name: "postgres", cw: (i + j) % 3 / 2, cwBase: uint64(pid) * 10,
				est: 2, extraFDs: 12, limit: 1024})
		}
		st := m.Observe(sample(time.Duration(i)*2*time.Second, ps...))
		if len(st.Alerts) > 0 {
			t.Fatalf("sample %d: alerts %+v on a healthy busy host", i, st.Alerts)
		}
		if w := workload(st, "postgres"); w != nil && (w.ETA >= 0 || len(w.LimitExits()) > 0) {
			t.Fatalf("sample %d: postgres %+v: an fd limit ahead or deaths at it, from churn", i, w)
		}
	}
	if len(m.workloads) != 1 {
		t.Errorf("%d workload tracks, want postgres's alone", len(m.workloads))
	}
	for _, tr := range m.workloads {
		if len(tr.exits) > maxExits || len(tr.alive) != 40 {
			t.Errorf("%s: %d exits remembered (at most %d), %d alive (want 40)", tr.name, len(tr.exits), maxExits, len(tr.alive))
		}
	}
}

// TestWorkloadGone: a unit's alerts stay firing while it waits to be
// restarted, and resolve as exited once it has been gone for the window;
// a plain process's resolve at once.
func TestWorkloadGone(t *testing.T) {
	m := NewMonitor(Config{Window: time.Minute, Thresholds: Thresholds{CloseWait: 2}})
	at := func(i int, withUnit, withPlain bool) Sample {
		var ps []procSpec
		if withUnit {
			ps = append(ps, procSpec{pid: 100, start: 1, name: "leaky", cw: 5, limit: 64, unit: "leaky.service"})
		}
		if withPlain {
			ps = append(ps, procSpec{pid: 200, start: 1, name: "script", cw: 5, limit: 64})
		}
		ps = append(ps, procSpec{pid: 7, start: 1, name: "sshd", est: 1, extraFDs: 3, limit: 1024})
		return sample(time.Duration(i)*10*time.Second, ps...)
	}
	st := m.Observe(at(0, true, true))
	if len(st.Alerts) != 2 {
		t.Fatalf("alerts %+v, want close_wait firing for both", st.Alerts)
	}
	st = m.Observe(at(1, false, false))
	if len(st.Alerts) != 1 || st.Alerts[0].Name != "script" || !st.Alerts[0].Exited {
		t.Fatalf("both gone: alerts %+v, want only the plain process's resolved as exited", st.Alerts)
	}
	if w := workload(st, "leaky.service"); w == nil || w.Processes != 0 || !slices.Contains(w.Firing, RuleCloseWait) {
		t.Fatalf("leaky.service gone: %+v, want it listed, no process, still firing", w)
	}
	for i := 2; i < 6; i++ { // last seen at 0 s: gone for the window at sample 6
		if st = m.Observe(at(i, false, false)); len(st.Alerts) != 0 {
			t.Fatalf("sample %d: alerts %+v while the unit is gone for less than the window", i, st.Alerts)
		}
	}
	st = m.Observe(at(6, false, false))
	if len(st.Alerts) != 1 || !st.Alerts[0].Exited || st.Alerts[0].Firing || st.Alerts[0].WorkloadName != "leaky.service" {
		t.Fatalf("gone a window: alerts %+v, want leaky.service's resolved as exited", st.Alerts)
	}
	if got := st.Alerts[0].Message(); !strings.HasPrefix(got, "leaky.service (pid 100, leaky) exited") {
		t.Errorf("message %q", got)
	}
}
