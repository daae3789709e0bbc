package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRun(t *testing.T) {
	t.Run("count", func(t *testing.T) {
		tick := make(chan time.Time)
		calls := 0
		sampler := func(context.Context) (Sample, error) {
			calls++
			if calls == 2 {
				return Sample{}, errors.New("proc went away")
			}
			return sample(time.Duration(calls)*time.Second, procSpec{pid: 1, name: "x", est: calls}), nil
		}
		var seqs []string
		done := make(chan error)
		go func() {
			done <- NewMonitor(Config{}).Run(context.Background(), RunConfig{Count: 4, Sample: sampler, Tick: tick},
				func(st *Status) error {
					s := fmt.Sprint(st.Seq)
					if st.Err != nil {
						s += " " + st.Err.Error()
					}
					seqs = append(seqs, s)
					return nil
				})
		}()
		for range 3 {
			tick <- t0
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"1", "2 proc went away", "3", "4"}, seqs); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		err := NewMonitor(Config{}).Run(ctx, RunConfig{Tick: make(chan time.Time),
			Sample: func(context.Context) (Sample, error) { n++; cancel(); return sample(0), nil }},
			func(*Status) error { t.Error("a sample cut short by cancel was emitted"); return nil })
		if err != nil || n != 1 {
			t.Errorf("Run = %v after %d samples; want nil after 1", err, n)
		}
	})
	t.Run("emit fails", func(t *testing.T) {
		broken := errors.New("broken pipe")
		err := NewMonitor(Config{}).Run(context.Background(), RunConfig{Interval: time.Hour,
			Sample: func(context.Context) (Sample, error) { return sample(0), nil }},
			func(*Status) error { return broken })
		if !errors.Is(err, broken) {
			t.Errorf("Run = %v, want %v", err, broken)
		}
	})
}

func TestLoop(t *testing.T) {
	tick := make(chan time.Time)
	done := make(chan struct{})
	var mu sync.Mutex
	n := 0
	sampled := make(chan int)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		Loop(context.Background(), tick, done, func() {
			mu.Lock()
			n++
			c := n
			mu.Unlock()
			sampled <- c
		})
	}()
	if c := <-sampled; c != 1 {
		t.Fatalf("first sample #%d, want one at once", c)
	}
	for want := 2; want <= 4; want++ {
		tick <- t0
		if c := <-sampled; c != want {
			t.Fatalf("sample #%d after a tick, want %d", c, want)
		}
	}
	close(done)
	<-finished
	mu.Lock()
	defer mu.Unlock()
	if n != 4 {
		t.Errorf("%d samples, want 4", n)
	}

	// A cancelled context stops it too.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	Loop(ctx, tick, make(chan struct{}), func() { calls++ })
	if calls != 0 {
		t.Errorf("%d samples after cancel", calls)
	}
}

// TestRunLeakingProcess is sockleak watch -o json on a process that leaks
// a CLOSE_WAIT socket a sample, with a soft limit of 128 descriptors,
// and stops leaking (closes them) once the close_wait alert fires: its
// growth and time to the limit show, and the alert fires and resolves
// with the process alive.
func TestRunLeakingProcess(t *testing.T) {
	const pid, count = 4242, 80
	tick := make(chan time.Time)
	close(tick) // every tick at once
	calls, fixed := 0, false
	sampler := func(context.Context) (Sample, error) {
		calls++
		cw := min(calls, 60)
		if fixed {
			cw = 0
		}
		return sample(time.Duration(calls)*100*time.Millisecond,
			procSpec{pid: pid, start: 9, name: "leaky", cw: cw, fds: 10 + min(calls, 60), limit: 128}), nil
	}
	var b bytes.Buffer
	m := NewMonitor(Config{Window: 30 * time.Second, Thresholds: Thresholds{CloseWait: 5, ETA: 10 * time.Minute}})
	err := m.Run(context.Background(), RunConfig{Count: count, Sample: sampler, Tick: tick}, func(st *Status) error {
		for _, a := range st.Alerts {
			fixed = fixed || (a.Rule == RuleCloseWait && a.Firing)
		}
		return JSONLines(&b, st)
	})
	if err != nil {
		t.Fatal(err)
	}
	var (
		maxRate         float64
		eta             *float64
		samples         int
		fired, resolved bool
	)
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		var s SampleLine
		var a AlertLine
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("not a JSON line: %q: %v", line, err)
		}
		switch s.Type {
		case "sample":
			samples++
			for _, p := range s.Processes {
				if p.PID != pid || p.Name != "leaky" || p.FDSoftLimit != 128 || p.StartTime != "2025-12-02T10:00:00Z" {
					t.Errorf("process = %+v, want leaky with a soft limit of 128 and a start time", p)
				}
				maxRate = max(maxRate, p.RatesPerMinute["CLOSE_WAIT"])
				if p.SecondsToFDLimit != nil && eta == nil {
					eta = p.SecondsToFDLimit
				}
			}
		case "alert":
			if err := json.Unmarshal([]byte(line), &a); err != nil {
				t.Fatal(err)
			}
			if a.Rule != RuleCloseWait {
				continue
			}
			switch {
			case a.Status == "firing" && (a.Count <= 5 || a.Peer != "10.0.0.5:7000" || a.Name != "leaky"):
				t.Errorf("firing alert = %s, want more than 5 sockets to 10.0.0.5:7000", line)
			case a.Status == "resolved" && (!fired || a.Exited || a.Count != 0):
				t.Errorf("resolved = %s; want it after it fired, with the process alive and 0 CLOSE_WAIT", line)
			}
			fired = fired || a.Status == "firing"
			resolved = resolved || a.Status == "resolved"
		default:
			t.Errorf("unexpected line %s", line)
		}
	}
	if samples != count || maxRate <= 0 || eta == nil || *eta <= 0 || *eta > 600 || !fired || !resolved {
		t.Errorf("%d samples (want %d), CLOSE_WAIT rate up to %v/min (want > 0), time to the fd limit %v (want a finite estimate), close_wait fired %v and resolved %v",
			samples, count, maxRate, eta, fired, resolved)
	}
}
