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

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func sock(state inspect.TCPState, local, remote string, inode uint64, pids ...int) inspect.Socket {
	return inspect.Socket{Proto: inspect.TCP, State: state, Local: netip.MustParseAddrPort(local),
		Remote: netip.MustParseAddrPort(remote), Inode: inode, NetNS: 1, PIDs: pids}
}

func snap(at time.Duration, socks ...inspect.Socket) *inspect.Snapshot {
	return &inspect.Snapshot{Time: t0.Add(at), Sockets: socks}
}

// leakingResult is what a run of "sleep 2 | leaky" saw: one CLOSE_WAIT
// socket held 2 s, another closed after one sample.
func leakingResult(t *testing.T) *Result {
	t.Helper()
	tr := watch.NewTracker([]inspect.TCPState{inspect.CloseWait})
	procs := []inspect.Process{{PID: 8372, Name: "leaky", Cmdline: "/tmp/leaky -addr 127.0.0.1:7000 -n 2"}}
	for i, at := range []time.Duration{0, 2 * time.Second} {
		s := snap(at,
			sock(inspect.CloseWait, "127.0.0.1:40001", "127.0.0.1:7000", 11, 8372),
			sock(inspect.CloseWait, "127.0.0.1:40002", "127.0.0.1:7000", 12, 8372))
		if i == 1 {
			s.Sockets = s.Sockets[:1]
			s.Sockets = append(s.Sockets, sock(inspect.Established, "127.0.0.1:40009", "127.0.0.1:7000", 19, 8372))
		}
		s.Processes = procs
		tr.Observe(s)
	}
	tr.Observe(&inspect.Snapshot{Time: t0.Add(2250 * time.Millisecond)}) // the command exited
	return &Result{
		Command: []string{"sh", "-c", "sleep 2 | leaky"}, ExitCode: 0, Duration: 2300 * time.Millisecond,
		Samples: tr.Samples(), MaxProcesses: tr.MaxProcesses(), Interval: 250 * time.Millisecond, Grace: time.Second,
		LeakStates: []inspect.TCPState{inspect.CloseWait}, Leaks: tr.Leaks(time.Second), Peak: tr.Peak(),
	}
}
