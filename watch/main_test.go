package watch

import (
	"net/netip"
	"testing"
	"time"

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
