package watch

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/inspect"
)

func inodes(s *inspect.Snapshot) []uint64 {
	out := []uint64{}
	for _, so := range s.Sockets {
		out = append(out, so.Inode)
	}
	return out
}

func TestPersisting(t *testing.T) {
	first := snap(0,
		sock(inspect.CloseWait, "127.0.0.1:40001", "127.0.0.1:7000", 11, 42), // stays: counts
		sock(inspect.CloseWait, "127.0.0.1:40002", "127.0.0.1:7000", 12, 42), // closed by the app: gone
		sock(inspect.Established, "127.0.0.1:40003", "127.0.0.1:7000", 13, 42),
		sock(inspect.FinWait2, "127.0.0.1:40005", "127.0.0.1:80", 0), // an orphan: by addresses
	)
	first.Sockets[2].NetNS = 2
	last := snap(time.Second,
		sock(inspect.CloseWait, "127.0.0.1:40001", "127.0.0.1:7000", 11, 42),
		sock(inspect.CloseWait, "127.0.0.1:40003", "127.0.0.1:7000", 13, 42), // was ESTABLISHED: too new in CLOSE_WAIT
		sock(inspect.CloseWait, "127.0.0.1:40004", "127.0.0.1:7000", 14, 42), // new
		sock(inspect.FinWait2, "127.0.0.1:40005", "127.0.0.1:80", 0),
		sock(inspect.FinWait2, "127.0.0.1:40006", "127.0.0.1:80", 0), // a new orphan
	)
	last.Processes = []inspect.Process{{PID: 42, FDs: 9}}
	got := Persisting(first, last)
	if diff := cmp.Diff([]uint64{11, 0}, inodes(got)); diff != "" {
		t.Errorf("persisting inodes (-want +got):\n%s", diff)
	}
	if got.Sockets[1].Local.Port() != 40005 {
		t.Errorf("kept orphan %v, want the one on port 40005", got.Sockets[1].Local)
	}
	if len(got.Processes) != 1 || got.Processes[0].FDs != 9 || !got.Time.Equal(last.Time) {
		t.Errorf("processes and time must be the last sample's: %+v %v", got.Processes, got.Time)
	}
	if len(last.Sockets) != 5 {
		t.Errorf("Persisting modified its input: %d sockets", len(last.Sockets))
	}
	// Same inode in another namespace is another socket.
	other := snap(0, sock(inspect.CloseWait, "127.0.0.1:40001", "127.0.0.1:7000", 11, 42))
	other.Sockets[0].NetNS = 2
	if n := len(Persisting(other, last).Sockets); n != 0 {
		t.Errorf("a socket from another namespace persisted: %d", n)
	}
}

func TestStable(t *testing.T) {
	samples := []*inspect.Snapshot{
		snap(0, sock(inspect.CloseWait, "127.0.0.1:40001", "127.0.0.1:7000", 11, 42), sock(inspect.CloseWait, "127.0.0.1:40002", "127.0.0.1:7000", 12, 42)),
		snap(2*time.Second, sock(inspect.CloseWait, "127.0.0.1:40001", "127.0.0.1:7000", 11, 42)),
	}
	calls := 0
	sample := func(context.Context) (*inspect.Snapshot, error) {
		s := samples[calls]
		calls++
		return s, nil
	}
	var waited []time.Duration
	fire := func(d time.Duration) <-chan time.Time {
		waited = append(waited, d)
		c := make(chan time.Time, 1)
		c <- t0.Add(d)
		return c
	}
	got, err := Stable(context.Background(), sample, 2*time.Second, fire, nil)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || !cmp.Equal(waited, []time.Duration{2 * time.Second}) || !cmp.Equal(inodes(got), []uint64{11}) {
		t.Errorf("calls %d, waited %v, inodes %v; want 2 samples 2s apart keeping inode 11", calls, waited, inodes(got))
	}

	calls = 0
	got, err = Stable(context.Background(), sample, 0, fire, nil)
	if err != nil || calls != 1 || len(got.Sockets) != 2 {
		t.Errorf("min age 0: %d calls, %v, %v; want one sample as it is", calls, got, err)
	}

	// Cancelled while waiting.
	calls = 0
	ctx, cancel := context.WithCancel(context.Background())
	never := func(time.Duration) <-chan time.Time { cancel(); return nil }
	if _, err := Stable(ctx, sample, time.Minute, never, nil); !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("cancelled: %v after %d calls", err, calls)
	}

	// A failing sample fails.
	boom := errors.New("boom")
	failing := func(context.Context) (*inspect.Snapshot, error) { return nil, boom }
	if _, err := Stable(context.Background(), failing, time.Second, fire, nil); !errors.Is(err, boom) {
		t.Errorf("failing sample: %v", err)
	}
}

// TestStableAgeBound: where the kernel bounds every counted socket's age
// (HasAge), one sample is enough and Stable does not wait; one counted
// socket without the bound takes the two samples; sockets that do not
// count need no bound.
func TestStableAgeBound(t *testing.T) {
	bounded := func(s inspect.Socket) inspect.Socket { s.AgeMs, s.HasAge = 5000, true; return s }
	cw := bounded(sock(inspect.CloseWait, "127.0.0.1:40001", "127.0.0.1:7000", 11, 42))
	est := sock(inspect.Established, "127.0.0.1:40002", "127.0.0.1:7000", 12, 42)
	unbounded := sock(inspect.CloseWait, "127.0.0.1:40003", "127.0.0.1:7000", 13, 42)
	closeWait := func(s *inspect.Socket) bool { return s.State == inspect.CloseWait }
	for _, tt := range []struct {
		name    string
		first   *inspect.Snapshot
		counts  func(*inspect.Socket) bool
		samples int
	}{
		{"every counted socket bounded", snap(0, cw, est), closeWait, 1},
		{"nothing counted", snap(0, est), closeWait, 1},
		{"a counted socket without the bound", snap(0, cw, unbounded), closeWait, 2},
		{"every socket counts (nil)", snap(0, cw, est), nil, 2},
	} {
		calls := 0
		sample := func(context.Context) (*inspect.Snapshot, error) {
			calls++
			return tt.first, nil
		}
		waited := false
		fire := func(time.Duration) <-chan time.Time {
			waited = true
			c := make(chan time.Time, 1)
			c <- t0
			return c
		}
		if _, err := Stable(context.Background(), sample, time.Minute, fire, tt.counts); err != nil {
			t.Fatal(err)
		}
		if calls != tt.samples || waited != (tt.samples == 2) {
			t.Errorf("%s: %d samples, waited %v; want %d", tt.name, calls, waited, tt.samples)
		}
	}
}
