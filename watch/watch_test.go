package watch

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/sockleak/sockleak/inspect"
)

// A tool that hunts leaks checks its own goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func sock(state inspect.TCPState, local, remote string, inode uint64, pids ...int) inspect.Socket {
	return inspect.Socket{Proto: inspect.TCP, State: state, Local: netip.MustParseAddrPort(local),
		Remote: netip.MustParseAddrPort(remote), Inode: inode, NetNS: 1, PIDs: pids}
}

func snap(at time.Duration, socks ...inspect.Socket) *inspect.Snapshot {
	return &inspect.Snapshot{Time: t0.Add(at), Sockets: socks}
}

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
	got, err := Stable(context.Background(), sample, 2*time.Second, fire)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || !cmp.Equal(waited, []time.Duration{2 * time.Second}) || !cmp.Equal(inodes(got), []uint64{11}) {
		t.Errorf("calls %d, waited %v, inodes %v; want 2 samples 2s apart keeping inode 11", calls, waited, inodes(got))
	}

	calls = 0
	got, err = Stable(context.Background(), sample, 0, fire)
	if err != nil || calls != 1 || len(got.Sockets) != 2 {
		t.Errorf("min age 0: %d calls, %v, %v; want one sample as it is", calls, got, err)
	}

	// Cancelled while waiting.
	calls = 0
	ctx, cancel := context.WithCancel(context.Background())
	never := func(time.Duration) <-chan time.Time { cancel(); return nil }
	if _, err := Stable(ctx, sample, time.Minute, never); !errors.Is(err, context.Canceled) || calls != 1 {
		t.Errorf("cancelled: %v after %d calls", err, calls)
	}

	// A failing sample fails.
	boom := errors.New("boom")
	failing := func(context.Context) (*inspect.Snapshot, error) { return nil, boom }
	if _, err := Stable(context.Background(), failing, time.Second, fire); !errors.Is(err, boom) {
		t.Errorf("failing sample: %v", err)
	}
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

func TestTracker(t *testing.T) {
	tr := NewTracker([]inspect.TCPState{inspect.CloseWait})
	cw := func(port int, inode uint64) inspect.Socket {
		return sock(inspect.CloseWait, "127.0.0.1:"+strconv.Itoa(port), "127.0.0.1:7000", inode, 42)
	}
	procs := []inspect.Process{{PID: 42, Name: "leaky", Cmdline: "leaky -n 3"}}
	steps := []*inspect.Snapshot{
		snap(0, sock(inspect.Established, "127.0.0.1:40001", "127.0.0.1:7000", 11, 42)),
		snap(250*time.Millisecond, cw(40001, 11), cw(40002, 12)),
		snap(500*time.Millisecond, cw(40001, 11), cw(40002, 12), cw(40003, 13)),
		snap(1250*time.Millisecond, cw(40001, 11), cw(40003, 13)), // 12 closed after 250ms
		snap(1500*time.Millisecond, cw(40001, 11)),                // 13 closed after 750ms
	}
	for _, s := range steps {
		s.Processes = procs
		tr.Observe(s)
	}
	type row struct {
		Inode uint64
		Held  time.Duration
		Open  bool
		Name  string
	}
	rows := func(ls []Leak) []row {
		out := []row{}
		for _, l := range ls {
			out = append(out, row{l.Inode, l.Held(), l.Open, l.Name})
		}
		return out
	}
	if diff := cmp.Diff([]row{{11, 1250 * time.Millisecond, true, "leaky"}}, rows(tr.Leaks(time.Second))); diff != "" {
		t.Errorf("Leaks(1s) (-want +got):\n%s", diff)
	}
	want := []row{
		{11, 1250 * time.Millisecond, true, "leaky"},
		{13, 750 * time.Millisecond, false, "leaky"},
		{12, 250 * time.Millisecond, false, "leaky"},
	}
	if diff := cmp.Diff(want, rows(tr.Leaks(0))); diff != "" {
		t.Errorf("Leaks(0) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[inspect.TCPState]int{inspect.CloseWait: 3, inspect.Established: 1}, tr.Peak()); diff != "" {
		t.Errorf("Peak (-want +got):\n%s", diff)
	}
	if tr.Samples() != 5 || tr.MaxProcesses() != 1 {
		t.Errorf("samples %d, max processes %d", tr.Samples(), tr.MaxProcesses())
	}
}

func TestTrackerPeer(t *testing.T) {
	// A server's CLOSE_WAIT sockets from one client's many ports are one
	// peer: the client's IP.
	tr := NewTracker([]inspect.TCPState{inspect.CloseWait})
	s := snap(0,
		sock(inspect.Listen, "0.0.0.0:8080", "0.0.0.0:0", 10, 7),
		sock(inspect.CloseWait, "127.0.0.1:8080", "127.0.0.1:50001", 11, 7),
		sock(inspect.CloseWait, "127.0.0.1:45000", "127.0.0.1:9000", 12, 7))
	s.Listeners = []inspect.Listener{{NetNS: 1, Addr: netip.MustParseAddrPort("0.0.0.0:8080")}}
	tr.Observe(s)
	var peers []string
	for _, l := range tr.Leaks(0) {
		peers = append(peers, l.Peer)
	}
	if diff := cmp.Diff([]string{"127.0.0.1:9000", "127.0.0.1"}, peers); diff != "" {
		t.Errorf("peers (-want +got):\n%s", diff)
	}
}

// A process last seen exiting (a zombie has no command line) keeps the
// command line it had in the report.
func TestTrackerKeepsCmdlineOfExitingProcess(t *testing.T) {
	tr := NewTracker([]inspect.TCPState{inspect.CloseWait})
	s1 := snap(0, sock(inspect.CloseWait, "127.0.0.1:40001", "127.0.0.1:7000", 11, 42))
	s1.Processes = []inspect.Process{{PID: 42, Name: "leaky", Cmdline: "leaky -n 3"}}
	s2 := snap(time.Second, sock(inspect.CloseWait, "127.0.0.1:40001", "127.0.0.1:7000", 11, 42))
	s2.Processes = []inspect.Process{{PID: 42, Name: "leaky"}}
	tr.Observe(s1)
	tr.Observe(s2)
	if ls := tr.Leaks(0); len(ls) != 1 || ls[0].Cmdline != "leaky -n 3" {
		t.Errorf("leaks = %+v, want one with the command line leaky -n 3", ls)
	}
}
