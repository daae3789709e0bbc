package inspect

import (
	"fmt"
	"net/netip"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	gnet "github.com/shirou/gopsutil/v4/net"
)

// conn4 is a gopsutil IPv4 TCP connection as the systems spell it.
func conn4(laddr string, lport uint32, raddr string, rport uint32, status string, pid int32) gnet.ConnectionStat {
	return gnet.ConnectionStat{Family: syscall.AF_INET, Type: syscall.SOCK_STREAM,
		Laddr: gnet.Addr{IP: laddr, Port: lport}, Raddr: gnet.Addr{IP: raddr, Port: rport}, Status: status, Pid: pid}
}

// TestFromConnections converts the connections of Linux, lsof (macOS and
// FreeBSD) and Windows: states in each spelling, wildcards,
// IPv6 and mapped addresses, and owners: a pid's, the kernel's (closed
// states), a queued connection's (no pid, on a listening port) and an
// unknown one (no pid, a state only a descriptor holds).
func TestFromConnections(t *testing.T) {
	v6 := gnet.ConnectionStat{Family: syscall.AF_INET6, Laddr: gnet.Addr{IP: "::ffff:127.0.0.1", Port: 80},
		Raddr: gnet.Addr{IP: "::1", Port: 5000}, Status: "FIN_WAIT_1", Pid: 9}
	conns := []gnet.ConnectionStat{
		conn4("*", 7000, "*", 0, "LISTEN", 42),                         // lsof's wildcard
		conn4("127.0.0.1", 7000, "127.0.0.1", 50000, "ESTABLISHED", 0), // queued on 7000
		conn4("127.0.0.1", 50001, "127.0.0.1", 8080, "CLOSE_WAIT", 0),  // an owner gopsutil could not name
		conn4("127.0.0.1", 50002, "127.0.0.1", 8080, "TIME_WAIT", 0),   // the kernel's
		conn4("127.0.0.1", 50003, "127.0.0.1", 8080, "SYN_RECEIVED", 7),
		conn4("127.0.0.1", 50004, "127.0.0.1", 8080, "DELETE_TCB", 7),
		conn4("", 0, "", 0, "CLOSED", 0),
		v6,
		conn4("127.0.0.1", 70000, "127.0.0.1", 1, "ESTABLISHED", 1), // port out of range
		conn4("1.2.3", 1, "127.0.0.1", 1, "ESTABLISHED", 1),         // not an address
		conn4("127.0.0.1", 1, "127.0.0.1", 2, "BOUND", 1),           // no TCP state
	}
	socks, owned, skipped := fromConnections(conns, 77)
	if skipped != 3 {
		t.Errorf("skipped = %d, want 3", skipped)
	}
	type view struct {
		Proto         Proto
		Local, Remote string
		State         TCPState
		Keyed         bool // has a key standing for its inode
	}
	var got []view
	for _, s := range socks {
		if s.NetNS != 77 || len(s.PIDs) != 0 {
			t.Errorf("%v: NetNS %d, PIDs %v; want 77 and none (the join sets them)", s.Local, s.NetNS, s.PIDs)
		}
		got = append(got, view{s.Proto, s.Local.String(), s.Remote.String(), s.State, s.Inode != 0})
	}
	want := []view{
		{TCP, "0.0.0.0:7000", "0.0.0.0:0", Listen, true},
		{TCP, "127.0.0.1:7000", "127.0.0.1:50000", Established, false},
		{TCP, "127.0.0.1:50001", "127.0.0.1:8080", CloseWait, true},
		{TCP, "127.0.0.1:50002", "127.0.0.1:8080", TimeWait, false},
		{TCP, "127.0.0.1:50003", "127.0.0.1:8080", SynRecv, true},
		{TCP, "127.0.0.1:50004", "127.0.0.1:8080", Close, true},
		{TCP, "0.0.0.0:0", "0.0.0.0:0", Close, true},
		{TCP6, "127.0.0.1:80", "[::1]:5000", FinWait1, true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sockets mismatch (-want +got):\n%s", diff)
	}
	wantOwned := map[int][]uint64{42: {socks[0].Inode}, 7: {socks[4].Inode, socks[5].Inode}, 9: {socks[7].Inode}}
	if diff := cmp.Diff(wantOwned, owned); diff != "" {
		t.Errorf("owned mismatch (-want +got):\n%s", diff)
	}
}

// TestConnKey: the key stands for an inode that gopsutil does not give:
// never a real one (top bit), the same for the same socket in every scan
// and whatever its state, different for another socket.
func TestConnKey(t *testing.T) {
	s := Socket{Proto: TCP, Local: netip.MustParseAddrPort("127.0.0.1:5000"), Remote: netip.MustParseAddrPort("127.0.0.1:80"), State: Established}
	k := connKey(&s)
	if k&(1<<63) == 0 {
		t.Errorf("connKey = %#x, want the top bit set", k)
	}
	later := s
	later.State = CloseWait
	if connKey(&later) != k {
		t.Errorf("the key changed with the state")
	}
	for _, other := range []Socket{
		{Proto: TCP6, Local: s.Local, Remote: s.Remote},
		{Proto: TCP, Local: s.Remote, Remote: s.Local},
		{Proto: TCP, Local: netip.MustParseAddrPort("127.0.0.1:5001"), Remote: s.Remote},
	} {
		if connKey(&other) == k {
			t.Errorf("%s %v→%v has the key of %v→%v", other.Proto, other.Local, other.Remote, s.Local, s.Remote)
		}
	}
}

// FuzzFromConnection: whatever a system's tool prints (gopsutil parses
// lsof's output, and addresses and states come through as text), a
// connection converts to a valid socket or is left out, without a panic.
func FuzzFromConnection(f *testing.F) {
	f.Add("127.0.0.1", uint32(80), "*", uint32(0), "LISTEN", true)
	f.Add("fe80::1%lo0", uint32(5000), "::1", uint32(80), "FIN_WAIT_2", false)
	f.Add("", uint32(70000), "1.2.3", uint32(1), "SYN_RECEIVED", true)
	f.Fuzz(func(t *testing.T, laddr string, lport uint32, raddr string, rport uint32, status string, v6 bool) {
		c := conn4(laddr, lport, raddr, rport, status, 1)
		if v6 {
			c.Family = syscall.AF_INET6
		}
		s, ok := fromConnection(c)
		if !ok {
			return
		}
		if !s.State.Valid() || !s.Local.IsValid() || !s.Remote.IsValid() || s.Local.Addr().Is4In6() {
			t.Errorf("fromConnection(%+v) = %+v: want a valid state and unmapped addresses", c, s)
		}
		if k := connKey(&s); k&(1<<63) == 0 {
			t.Errorf("connKey = %#x", k)
		}
		_ = fmt.Sprint(s.Local, s.Remote)
	})
}
