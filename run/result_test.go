package run

import (
	"net/netip"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/watch"
)

// A tool that hunts leaks checks its own goroutines.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// held is a socket of leaky (pid 8372) to 127.0.0.1:7000 from local port
// 40000+n, inode 10+n.
func held(state inspect.TCPState, n uint64) inspect.Socket {
	return inspect.Socket{Proto: inspect.TCP, State: state, Local: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(40000+n)),
		Remote: netip.MustParseAddrPort("127.0.0.1:7000"), Inode: 10 + n, NetNS: 1, PIDs: []int{8372}}
}

// leakingResult is what a run of "sleep 2 | leaky" saw: one CLOSE_WAIT
// socket held 2 s, another closed after one sample.
func leakingResult(t *testing.T) *Result {
	t.Helper()
	tr := watch.NewTracker([]inspect.TCPState{inspect.CloseWait})
	procs := []inspect.Process{{PID: 8372, Name: "leaky", Cmdline: "/tmp/leaky -addr 127.0.0.1:7000 -n 2"}}
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	tr.Observe(&inspect.Snapshot{Time: t0, Processes: procs,
		Sockets: []inspect.Socket{held(inspect.CloseWait, 1), held(inspect.CloseWait, 2)}})
	tr.Observe(&inspect.Snapshot{Time: t0.Add(2 * time.Second), Processes: procs,
		Sockets: []inspect.Socket{held(inspect.CloseWait, 1), held(inspect.Established, 9)}})
	tr.Observe(&inspect.Snapshot{Time: t0.Add(2250 * time.Millisecond)}) // the command exited
	return &Result{
		Command: []string{"sh", "-c", "sleep 2 | leaky"}, ExitCode: 0, Duration: 2300 * time.Millisecond,
		Samples: tr.Samples(), MaxProcesses: tr.MaxProcesses(), Interval: 250 * time.Millisecond, Grace: time.Second,
		LeakStates: []inspect.TCPState{inspect.CloseWait}, Leaks: tr.Leaks(time.Second), Peak: tr.Peak(),
	}
}
