package inspect

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sys/unix"
)

// tcpKey is a socket's identity in a table.
type tcpKey struct {
	proto         Proto
	local, remote netip.AddrPort
}

// TestBPFTCPIterMatchesDump compares the tcp iterator's records with a
// sock_diag dump with tcp_info (what the netlink backend reads) on
// nlLandscape's sockets: every state it builds, IPv4 and IPv6, orphans
// and TIME_WAIT. Times (the age bound, timers) may differ by the time
// between the two reads.
func TestBPFTCPIterMatchesDump(t *testing.T) {
	bpfLive(t)
	port := nlLandscape(t)
	it, err := newTCPIter()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { it.Close() })
	c, err := newDiagConn()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	read := func(f func(fn func(*Socket)) error) map[tcpKey]Socket {
		m := map[tcpKey]Socket{}
		if err := f(func(s *Socket) {
			if s.Local.Port() == port || s.Remote.Port() == port {
				m[tcpKey{s.Proto, s.Local, s.Remote}] = *s
			}
		}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	near := cmp.Comparer(func(a, b uint32) bool { return max(a, b)-min(a, b) <= 1000 })
	fsys, err := NewFS(DefaultRoot)
	if err != nil {
		t.Fatal(err)
	}
	hostNS, err := fsys.readNetNS(fsys.path("self", "ns", "net"))
	if err != nil {
		t.Fatal(err)
	}
	dump := read(func(fn func(*Socket)) error { return c.dump(unix.AF_UNSPEC, allStates, true, fn) })
	iter := read(func(fn func(*Socket)) error { return it.run(allStates, fn) })
	if len(dump) < 14 {
		t.Fatalf("%d sockets of the landscape in the dump", len(dump))
	}
	states := map[TCPState]int{}
	for k, s := range iter {
		states[s.State]++
		if s.NetNS != hostNS {
			t.Errorf("%v: netns %d, want %d", k, s.NetNS, hostNS)
		}
		if d, ok := dump[k]; ok && max(s.TimerTicks, d.TimerTicks)-min(s.TimerTicks, d.TimerTicks) > 100 {
			t.Errorf("%v: timer %d ticks, the dump's %d", k, s.TimerTicks, d.TimerTicks)
		}
		s.NetNS = 0
		s.TimerTicks = 0
		iter[k] = s
	}
	for k, s := range dump {
		s.TimerTicks = 0
		dump[k] = s
	}
	if diff := cmp.Diff(dump, iter, near, cmpopts.EquateComparable(netip.AddrPort{})); diff != "" {
		t.Errorf("sockets differ (-dump +iter):\n%s", diff)
	}
	t.Logf("states: %v", states)
}
