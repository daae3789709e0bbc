package watch

import (
	"context"
	"errors"
	"fmt"
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
