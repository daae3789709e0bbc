package watch

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sockleak/sockleak/inspect"
)

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

// TestTrackerAgeBound: a socket the kernel says is already old (AgeMs, a
// lower bound of its time in the state) is that old from the first
// sample that sees it; one without the bound starts at that sample; a
// bound that arrives later moves Since back, never forward.
func TestTrackerAgeBound(t *testing.T) {
	aged := func(inode uint64, ageMs uint32, has bool) inspect.Socket {
		s := sock(inspect.CloseWait, "127.0.0.1:"+strconv.Itoa(40000+int(inode)), "127.0.0.1:7000", inode, 42)
		s.AgeMs, s.HasAge = ageMs, has
		return s
	}
	tr := NewTracker([]inspect.TCPState{inspect.CloseWait})
	for _, s := range []*inspect.Snapshot{
		// 11: 40 s old at the first sample; 12: no bound (proc backend);
		// 13: a bound of 0 (its FIN just came); 14: the bound only from
		// the second sample on, older than the first sample.
		snap(0, aged(11, 40000, true), aged(12, 0, false), aged(13, 0, true), aged(14, 0, false)),
		snap(2*time.Second, aged(11, 42000, true), aged(12, 0, false), aged(13, 2000, true), aged(14, 5000, true)),
	} {
		tr.Observe(s)
	}
	held := map[uint64]time.Duration{}
	for _, l := range tr.Leaks(0) {
		held[l.Inode] = l.Held()
	}
	want := map[uint64]time.Duration{11: 42 * time.Second, 12: 2 * time.Second, 13: 2 * time.Second, 14: 5 * time.Second}
	if diff := cmp.Diff(want, held); diff != "" {
		t.Errorf("held by inode (-want +got):\n%s", diff)
	}
	if ls := tr.Leaks(30 * time.Second); len(ls) != 1 || ls[0].Inode != 11 {
		t.Errorf("Leaks(30s) = %+v, want the 40-second-old socket alone", ls)
	}
}
