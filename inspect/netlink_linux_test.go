//go:build linux

package inspect

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/internal/livetest"
)

// nlParityKey is what both backends must agree on for a socket.
type nlParityKey struct {
	Proto            Proto
	Local, Remote    string
	State            TCPState
	Inode            uint64
	UID              uint32
	TxQueue, RxQueue uint64
}

func nlParityKeyOf(s *Socket) nlParityKey {
	k := nlParityKey{s.Proto, s.Local.String(), s.Remote.String(), s.State, s.Inode, s.UID, s.TxQueue, s.RxQueue}
	if s.State == Listen {
		// A listener's TxQueue is its backlog over netlink
		// (idiag_wqueue); /proc/net/tcp prints 0 there.
		k.TxQueue = 0
	}
	return k
}

// nlDumpAll dumps every TCP socket of this namespace as Scan does: in one
// request for both families, or with byFamily in one per family.
func nlDumpAll(t testing.TB, withInfo, byFamily bool) []Socket {
	t.Helper()
	if err := netlinkAvailable(); err != nil {
		t.Skipf("sock_diag unavailable: %v", err)
	}
	r := &netlinkReader{mask: allStates, withInfo: withInfo, idle: withInfo, byFamily: byFamily}
	var out []Socket
	if err := r.read(nil, 0, &out); err != nil {
		t.Fatal(err)
	}
	if !byFamily && r.byFamily {
		t.Log("this kernel refused the dump of both families in one request")
	}
	return out
}

func nlProcAll(t testing.TB) []Socket {
	t.Helper()
	s4, err := ReadNetTCP("/proc/net/tcp", TCP)
	if err != nil {
		t.Fatal(err)
	}
	s6, err := ReadNetTCP("/proc/net/tcp6", TCP6)
	if err != nil {
		t.Fatal(err)
	}
	return append(s4, s6...)
}

// nlLandscape opens sockets in several states on 127.0.0.1 and
// returns once the kernel shows them; everything is closed at cleanup.
func nlLandscape(t *testing.T) (port uint16) {
	t.Helper()
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	d := net.Dialer{KeepAlive: -1}
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	// connect returns both ends of a new connection to ln.
	connect := func(ln net.Listener) (c, a net.Conn) {
		c, err := d.Dial(ln.Addr().Network(), ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if a, err = ln.Accept(); err != nil {
			t.Fatal(err)
		}
		return c, a
	}
	for i := 0; i < 6; i++ {
		c, a := connect(ln)
		conns = append(conns, c)
		switch i {
		case 0, 1: // ESTABLISHED both ends
			conns = append(conns, a)
		case 2, 3: // server closes: client CLOSE_WAIT, server an orphaned FIN_WAIT2
			a.Close()
		case 4: // client half-closes: client FIN_WAIT2 (owned), server CLOSE_WAIT
			c.(*net.TCPConn).CloseWrite()
			conns = append(conns, a)
		case 5: // client closes first, then server: client TIME_WAIT
			c.Close()
			a.Close()
		}
	}
	// An IPv6 connection on the same port, where the host has ::1.
	if ln6, err := lc.Listen(context.Background(), "tcp6", net.JoinHostPort("::1", fmt.Sprint(ln.Addr().(*net.TCPAddr).Port))); err == nil {
		t.Cleanup(func() { ln6.Close() })
		c, a := connect(ln6)
		conns = append(conns, c, a)
	} else {
		t.Logf("no IPv6 connection in the landscape: %v", err)
	}
	port = ln.Addr().(*net.TCPAddr).AddrPort().Port()
	nlSettle(t, port)
	return port
}

// nlSettle waits until the FIN/ACK exchanges of nlLandscape's sockets on
// port have settled: the kernel shows every state the landscape was built
// for, and none on the way to one.
func nlSettle(t *testing.T, port uint16) {
	t.Helper()
	want := map[TCPState]int{Listen: 1, Established: 4, CloseWait: 3, FinWait2: 3, TimeWait: 1}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := map[TCPState]int{}
		for _, s := range nlProcAll(t) {
			if s.Local.Port() == port || s.Remote.Port() == port {
				got[s.State]++
			}
		}
		settled := got[FinWait1]+got[LastAck]+got[Closing] == 0
		for st, n := range want {
			settled = settled && got[st] >= n
		}
		if settled {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the landscape's sockets did not settle: %v, want at least %v", got, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestNetlinkMatchesProc is the backend parity test: on real loopback
// sockets, a sock_diag dump and /proc/net/tcp{,6} list the same sockets,
// with both requests a dump can be made of.
func TestNetlinkMatchesProc(t *testing.T) {
	livetest.Skip(t)
	port := nlLandscape(t)
	for _, byFamily := range []bool{false, true} {
		t.Run(fmt.Sprintf("byFamily=%v", byFamily), func(t *testing.T) { testNetlinkMatchesProc(t, port, byFamily) })
	}
}

func testNetlinkMatchesProc(t *testing.T, port uint16, byFamily bool) {
	// Only the landscape's sockets: the rest of the host may churn
	// between the two reads.
	ours := func(s *Socket) bool { return s.Local.Port() == port || s.Remote.Port() == port }
	var nl, pr []nlParityKey
	for attempt := 0; attempt < 5; attempt++ {
		nl, pr = nil, nil
		for _, s := range nlDumpAll(t, false, byFamily) {
			if ours(&s) {
				nl = append(nl, nlParityKeyOf(&s))
			}
		}
		for _, s := range nlProcAll(t) {
			if ours(&s) {
				pr = append(pr, nlParityKeyOf(&s))
			}
		}
		cmpKey := func(a, b nlParityKey) int {
			if a == b {
				return 0
			}
			if a.Local+a.Remote+a.State.String() < b.Local+b.Remote+b.State.String() {
				return -1
			}
			return 1
		}
		slices.SortFunc(nl, cmpKey)
		slices.SortFunc(pr, cmpKey)
		if slices.Equal(nl, pr) {
			break
		}
		time.Sleep(20 * time.Millisecond) // a state changed between the two reads: read again
	}
	if !slices.Equal(nl, pr) {
		t.Errorf("netlink and /proc disagree:\nnetlink: %v\nproc:    %v", nl, pr)
	}
	states := map[TCPState]int{}
	for _, k := range nl {
		states[k.State]++
	}
	for _, st := range []TCPState{Listen, Established, CloseWait, FinWait2, TimeWait} {
		if states[st] == 0 {
			t.Errorf("no %s socket in the landscape: %v", st, states)
		}
	}
	if v6 := slices.IndexFunc(nl, func(k nlParityKey) bool { return k.Proto == TCP6 }); v6 < 0 && liveHasIPv6() {
		t.Errorf("no IPv6 socket in the netlink dump: %v", nl)
	}
}

func TestNetlinkStateMask(t *testing.T) {
	livetest.Skip(t)
	nlLandscape(t)
	c, err := newDiagConn()
	if err != nil {
		t.Skipf("sock_diag unavailable: %v", err)
	}
	defer c.Close()
	n := 0
	err = c.dump(unix.AF_INET, StateMask([]TCPState{CloseWait}), true, func(s *Socket) {
		n++
		if s.State != CloseWait {
			t.Errorf("kernel filter let %s through", s.State)
		}
		if !s.HasIdle {
			t.Errorf("tcp_info asked for but no idle time: %+v", s)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 3 {
		t.Errorf("%d CLOSE_WAIT sockets, want at least 3", n)
	}
}

// TestScanBackendsAgree runs Scan with each backend on the same loopback
// sockets: same sockets, same owners.
func TestScanBackendsAgree(t *testing.T) {
	livetest.Skip(t)
	nlLandscape(t)
	fsys, err := NewFS("/proc")
	if err != nil {
		t.Fatal(err)
	}
	type owned struct {
		nlParityKey
		PIDs string
	}
	scanWith := func(b Backend) ([]owned, *Snapshot) {
		snap, err := Scan(context.Background(), fsys, Options{PIDs: []int{os.Getpid()}, Backend: b})
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(snap.Sockets, func(a, b Socket) int { return CompareSockets(&a, &b) }) // the tables' order differs
		var out []owned
		for _, s := range snap.Sockets {
			out = append(out, owned{nlParityKeyOf(&s), fmt.Sprint(s.PIDs)})
		}
		return out, snap
	}
	var nl, pr []owned
	var nlSnap *Snapshot
	for attempt := 0; attempt < 5; attempt++ {
		nl, nlSnap = scanWith(BackendNetlink)
		pr, _ = scanWith(BackendProc)
		if slices.Equal(nl, pr) {
			break
		}
	}
	if !slices.Equal(nl, pr) {
		t.Errorf("backends disagree:\nnetlink: %v\nproc:    %v", nl, pr)
	}
	if nlSnap.Backend != BackendNetlink || len(nl) < 9 { // listener, 2 ESTABLISHED pairs, 3 CLOSE_WAIT, 1 FIN_WAIT2
		t.Errorf("netlink scan: backend %q, %d sockets of ours", nlSnap.Backend, len(nl))
	}
}

func TestScanDumpStatesFiltersInTheKernel(t *testing.T) {
	livetest.Skip(t)
	nlLandscape(t)
	fsys, err := NewFS("/proc")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := Scan(context.Background(), fsys, Options{PIDs: []int{os.Getpid()}, DumpStates: []TCPState{CloseWait}, Backend: BackendNetlink})
	if err != nil {
		t.Fatal(err)
	}
	if snap.Filtered || len(snap.Sockets) < 3 || len(snap.Listeners) == 0 {
		t.Errorf("filtered=%v, %d sockets, %d listeners; want an unfiltered view of >= 3 CLOSE_WAIT and the listeners",
			snap.Filtered, len(snap.Sockets), len(snap.Listeners))
	}
	for _, s := range snap.Sockets {
		if s.State != CloseWait {
			t.Errorf("DumpStates CLOSE_WAIT let %s through", s.State)
		}
	}
}

func TestLookupSocket(t *testing.T) {
	livetest.Skip(t)
	lc := net.ListenConfig{KeepAlive: -1}
	for _, network := range []string{"tcp4", "tcp6"} {
		addr := map[string]string{"tcp4": "127.0.0.1:0", "tcp6": "[::1]:0"}[network]
		ln, err := lc.Listen(context.Background(), network, addr)
		if err != nil {
			t.Logf("%s: %v: skipped", network, err)
			continue
		}
		defer ln.Close()
		d := net.Dialer{KeepAlive: -1}
		c, err := d.Dial(network, ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		a, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		local := c.LocalAddr().(*net.TCPAddr).AddrPort()
		remote := c.RemoteAddr().(*net.TCPAddr).AddrPort()
		s, ok, err := LookupSocket(local, remote)
		if err != nil || !ok || s.State != Established || s.Local != local || s.Inode == 0 {
			t.Errorf("%s: LookupSocket(%s, %s) = %+v, %v, %v; want the ESTABLISHED socket", network, local, remote, s, ok, err)
		}
		// The client closes first: its end lingers in TIME_WAIT, and the
		// lookup still finds it.
		c.Close()
		a.Close()
		deadline := time.Now().Add(5 * time.Second)
		for {
			s, ok, err = LookupSocket(local, remote)
			if (ok && s.State == TimeWait) || time.Now().After(deadline) || err != nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err != nil || !ok || s.State != TimeWait || s.Inode != 0 {
			t.Errorf("%s: after close: %+v, %v, %v; want TIME_WAIT", network, s, ok, err)
		}
		// No such connection: not found, not the listener.
		bogus := netip.AddrPortFrom(remote.Addr(), 1)
		if s, ok, err := LookupSocket(bogus, remote); ok || err != nil {
			t.Errorf("%s: LookupSocket(no such socket) = %+v, %v, %v", network, s, ok, err)
		}
	}
}

// diagMessage builds one netlink message of type typ holding an
// inet_diag_msg for a socket from local to remote in state st, with a
// tcp_info attribute when info is set: the shape of a dump's answer.
func diagMessage(typ uint16, family uint8, st TCPState, local, remote netip.AddrPort, inode uint32, info bool) []byte {
	ne := binary.NativeEndian
	body := make([]byte, sizeofInetDiagMsg)
	body[0], body[1] = family, byte(st)
	binary.BigEndian.PutUint16(body[4:], local.Port())
	binary.BigEndian.PutUint16(body[6:], remote.Port())
	copy(body[8:24], diagAddr(family, local.Addr()))
	copy(body[24:40], diagAddr(family, remote.Addr()))
	ne.PutUint32(body[68:], inode)
	if info {
		attr := make([]byte, 4+tcpInfoLastAckRecv+4)
		ne.PutUint16(attr[0:], uint16(len(attr)))
		ne.PutUint16(attr[2:], inetDiagInfo)
		ne.PutUint32(attr[4+tcpInfoLastDataSent:], 1500)
		ne.PutUint32(attr[4+tcpInfoLastDataRecv:], 2500)
		ne.PutUint32(attr[4+tcpInfoLastAckRecv:], 3500)
		body = append(body, attr...)
	}
	msg := make([]byte, sizeofNlMsghdr, sizeofNlMsghdr+len(body))
	ne.PutUint32(msg[0:], uint32(sizeofNlMsghdr+len(body)))
	ne.PutUint16(msg[4:], typ)
	return append(msg, body...)
}

func TestDecodeBatch(t *testing.T) {
	local, remote := netip.MustParseAddrPort("127.0.0.1:40000"), netip.MustParseAddrPort("127.0.0.1:7000")
	done := make([]byte, sizeofNlMsghdr+4)
	binary.NativeEndian.PutUint32(done[0:], uint32(len(done)))
	binary.NativeEndian.PutUint16(done[4:], unix.NLMSG_DONE)
	batch := append(diagMessage(unix.SOCK_DIAG_BY_FAMILY, unix.AF_INET, CloseWait, local, remote, 4242, true),
		diagMessage(unix.SOCK_DIAG_BY_FAMILY, unix.AF_INET6, Established, netip.MustParseAddrPort("[::1]:40001"), netip.MustParseAddrPort("[::1]:7000"), 4243, false)...)

	var got []Socket
	var s Socket
	fin, err := decodeBatch(batch, unix.SOCK_DIAG_BY_FAMILY, false, &s, func(s *Socket) { got = append(got, *s) })
	if err != nil || fin {
		t.Fatalf("a batch without NLMSG_DONE: done %v, err %v; want more to come", fin, err)
	}
	if len(got) != 2 {
		t.Fatalf("decoded %d sockets, want 2", len(got))
	}
	if g := got[0]; g.State != CloseWait || g.Local != local || g.Remote != remote || g.Inode != 4242 || g.Proto != TCP ||
		!g.HasIdle || g.IdleMs != 1500 || !g.HasAge || g.AgeMs != 3500 {
		t.Errorf("first socket = %+v", g)
	}
	if g := got[1]; g.State != Established || g.Proto != TCP6 || g.Inode != 4243 || g.HasIdle || g.HasAge {
		t.Errorf("second socket = %+v", g)
	}
	if fin, err := decodeBatch(done, unix.SOCK_DIAG_BY_FAMILY, false, &s, func(*Socket) {}); !fin || err != nil {
		t.Errorf("NLMSG_DONE: done %v, err %v; want done", fin, err)
	}
	bad := slices.Clone(batch)
	binary.NativeEndian.PutUint32(bad[0:], uint32(len(bad)+1))
	if _, err := decodeBatch(bad, unix.SOCK_DIAG_BY_FAMILY, false, &s, func(*Socket) {}); err == nil || !strings.Contains(err.Error(), "malformed netlink message") {
		t.Errorf("a length past the end: err %v, want malformed", err)
	}
}

// TestDecodeQueues checks idiag_rqueue and idiag_wqueue: a connection's
// receive and send queues, a listener's accept queue and backlog.
func TestDecodeQueues(t *testing.T) {
	any4 := netip.MustParseAddrPort("0.0.0.0:0")
	for _, tt := range []struct {
		state  TCPState
		rq, wq uint32
	}{
		{Listen, 55, 511},        // 55 waiting to be accepted, of at most 511
		{CloseWait, 15, 0},       // an unread request and the FIN
		{Established, 0, 0x1000}, // unacknowledged data
	} {
		msg := diagMessage(unix.SOCK_DIAG_BY_FAMILY, unix.AF_INET, tt.state, netip.MustParseAddrPort("127.0.0.1:6379"), any4, 1, false)
		binary.NativeEndian.PutUint32(msg[sizeofNlMsghdr+56:], tt.rq)
		binary.NativeEndian.PutUint32(msg[sizeofNlMsghdr+60:], tt.wq)
		var s Socket
		if err := decodeInetDiagMsg(msg[sizeofNlMsghdr:], &s); err != nil {
			t.Fatal(err)
		}
		if s.RxQueue != uint64(tt.rq) || s.TxQueue != uint64(tt.wq) {
			t.Errorf("%s: RxQueue, TxQueue = %d, %d; want %d, %d", tt.state, s.RxQueue, s.TxQueue, tt.rq, tt.wq)
		}
	}
}

// FuzzDecodeBatch feeds the netlink decoder arbitrary bytes: whatever a
// read returns, it must not panic, and every socket it decodes must have
// come from a whole message.
func FuzzDecodeBatch(f *testing.F) {
	local, remote := netip.MustParseAddrPort("127.0.0.1:40000"), netip.MustParseAddrPort("127.0.0.1:7000")
	// A CLOSE_WAIT socket with tcp_info.
	f.Add(diagMessage(unix.SOCK_DIAG_BY_FAMILY, unix.AF_INET, CloseWait, local, remote, 1, true))
	// A FIN_WAIT2 and an ESTABLISHED socket with tcp_info: only the
	// first has an age.
	f.Add(diagMessage(unix.SOCK_DIAG_BY_FAMILY, unix.AF_INET, FinWait2, local, remote, 1, true))
	f.Add(diagMessage(unix.SOCK_DIAG_BY_FAMILY, unix.AF_INET, Established, local, remote, 1, true))
	// An IPv6 socket without attributes.
	f.Add(diagMessage(unix.SOCK_DIAG_BY_FAMILY, unix.AF_INET6, Listen, netip.MustParseAddrPort("[::]:80"), netip.MustParseAddrPort("[::]:0"), 2, false))
	// The older request's answer type.
	f.Add(diagMessage(tcpDiagGetSock, unix.AF_INET, TimeWait, local, remote, 0, false))
	// A truncated message, and a header alone.
	f.Add(diagMessage(unix.SOCK_DIAG_BY_FAMILY, unix.AF_INET, CloseWait, local, remote, 1, true)[:40])
	f.Add(make([]byte, sizeofNlMsghdr))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, typ := range []uint16{unix.SOCK_DIAG_BY_FAMILY, tcpDiagGetSock} {
			var s Socket
			n := 0
			_, _ = decodeBatch(b, typ, false, &s, func(s *Socket) {
				n++
				if !s.Local.IsValid() || !s.Remote.IsValid() {
					t.Errorf("decoded a socket with an invalid address: %+v", s)
				}
				if s.HasAge && (s.State != CloseWait && s.State != FinWait2 || !s.HasIdle) {
					t.Errorf("an age bound for a %s socket, or without tcp_info's idle time: %+v", s.State, s)
				}
				if !s.HasAge && s.AgeMs != 0 {
					t.Errorf("an age without HasAge: %+v", s)
				}
			})
			if n*(sizeofNlMsghdr+sizeofInetDiagMsg) > len(b) {
				t.Errorf("%d sockets from %d bytes: more than whole messages hold", n, len(b))
			}
		}
	})
}

// TestLiveAgeBound checks the age bound on real sockets: a CLOSE_WAIT and
// an owned FIN_WAIT2 that have sat for over a second show it, a fresh
// CLOSE_WAIT shows a small one, an ESTABLISHED socket none; over netlink
// without Options.IdleTimes (tcp_info is read for the age, the idle times
// stay unasked), and never from /proc/net/tcp.
func TestLiveAgeBound(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes and sockets of its own
	ln := liveListen(t, liveTCP4)
	oldCW, s := liveDial(t, ln)
	s.Close() // the peer closes: our end in CLOSE_WAIT
	oldFW2, _ := liveDial(t, ln)
	if err := oldFW2.CloseWrite(); err != nil { // ours half-closed: FIN_WAIT2, owned
		t.Fatal(err)
	}
	estab, _ := liveDial(t, ln)
	const aged = 1200 * time.Millisecond
	time.Sleep(aged)
	freshCW, s := liveDial(t, ln)
	s.Close()

	type want struct {
		state  TCPState
		minAge uint32 // ms
		maxAge uint32
	}
	wants := map[netip.AddrPort]want{
		liveAddr(oldCW.LocalAddr()):   {CloseWait, 900, 60_000},
		liveAddr(oldFW2.LocalAddr()):  {FinWait2, 900, 60_000},
		liveAddr(freshCW.LocalAddr()): {CloseWait, 0, 500},
		liveAddr(estab.LocalAddr()):   {Established, 0, 0},
	}
	me := os.Getpid()
	for _, b := range []Backend{BackendNetlink, BackendProc} {
		t.Run(string(b), func(t *testing.T) {
			snap := liveWait(t, Options{PIDs: []int{me}, Backend: b}, func(snap *Snapshot) error {
				for local, w := range wants {
					got := liveFind(snap.Sockets, snap.HostNetNS, local, liveAddr(ln.Addr()))
					if len(got) != 1 || got[0].State != w.state {
						return fmt.Errorf("%v: %d sockets, want one in %s", local, len(got), w.state)
					}
				}
				return nil
			})
			for local, w := range wants {
				s := liveFind(snap.Sockets, snap.HostNetNS, local, liveAddr(ln.Addr()))[0]
				wantAge := b == BackendNetlink && w.state != Established
				if s.HasAge != wantAge || s.HasIdle {
					t.Errorf("%s %v: HasAge %v, HasIdle %v; want %v, false", s.State, local, s.HasAge, s.HasIdle, wantAge)
				}
				if wantAge && (s.AgeMs < w.minAge || s.AgeMs > w.maxAge) {
					t.Errorf("%s %v: AgeMs %d, want %d to %d", s.State, local, s.AgeMs, w.minAge, w.maxAge)
				}
			}
		})
	}
	// Asked for, the idle times come with the same dump.
	snap := liveScan(t, Options{PIDs: []int{me}, Backend: BackendNetlink, IdleTimes: true})
	if got := liveFind(snap.Sockets, snap.HostNetNS, liveAddr(oldCW.LocalAddr()), liveAddr(ln.Addr())); len(got) != 1 || !got[0].HasIdle || !got[0].HasAge {
		t.Errorf("with IdleTimes: %+v; want idle time and age", got)
	}
}

// TestLiveNetlinkRecheck asks the kernel again about real sockets, one by
// one and with a dump: the ones still open are present, closed ones (now
// orphans without an inode, or gone) and a made-up inode are not. IPv4,
// IPv6, and the IPv4 connections of a dual-stack listener, whose sockets
// are IPv6 with IPv4-mapped addresses (unmapped in Socket).
func TestLiveNetlinkRecheck(t *testing.T) {
	livetest.Skip(t)
	type probe struct {
		proto         Proto
		local, remote netip.AddrPort
		open          bool // left open: present
	}
	var probes []probe
	var toClose []net.Conn
	add := func(proto Proto, c net.Conn, open bool) {
		probes = append(probes, probe{proto, liveAddr(c.LocalAddr()), liveAddr(c.RemoteAddr()), open})
		if !open {
			toClose = append(toClose, c)
		}
	}
	ln := liveListen(t, liveTCP4)
	c, _ := liveDial(t, ln)
	add(TCP, c, true)
	c, s := liveDial(t, ln)
	s.Close()
	add(TCP, c, true) // CLOSE_WAIT
	c, _ = liveDial(t, ln)
	add(TCP, c, false)
	if liveHasIPv6() {
		ln6 := liveListen(t, liveTCP6)
		c, _ = liveDial(t, ln6)
		add(TCP6, c, true)
		c, _ = liveDial(t, ln6)
		add(TCP6, c, false)
		// Dual stack: the server's ends of IPv4 clients are IPv6 sockets.
		lc := net.ListenConfig{KeepAlive: -1}
		l, err := lc.Listen(context.Background(), "tcp", "[::]:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		dual := l.(*net.TCPListener)
		for _, open := range []bool{true, false} {
			d := net.Dialer{KeepAlive: -1}
			c, err := d.Dial("tcp4", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), liveAddr(dual.Addr()).Port()).String())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			add(TCP6, liveAccept(t, dual, liveAddr(c.LocalAddr())), open)
		}
	}
	var socks []Socket
	for _, s := range nlDumpAll(t, false, false) {
		if slices.ContainsFunc(probes, func(p probe) bool { return p.proto == s.Proto && p.local == s.Local && p.remote == s.Remote }) {
			socks = append(socks, s)
		}
	}
	if len(socks) != len(probes) {
		t.Fatalf("%d of the %d sockets dumped: %v", len(socks), len(probes), socks)
	}
	for _, c := range toClose {
		c.Close()
	}
	madeUp := socks[0]
	madeUp.Inode = 1 // the same 4-tuple, another inode: a reused one
	fsys, err := NewFS(DefaultRoot)
	if err != nil {
		t.Fatal(err)
	}
	req := tableRequest{fsys: fsys} // the sockets' NetNS is 0, as the dump marked them: the reader's own
	for _, lookups := range []int{recheckLookups, 0} {
		t.Run(fmt.Sprintf("recheckLookups=%d", lookups), func(t *testing.T) {
			saved := recheckLookups
			recheckLookups = lookups
			defer func() { recheckLookups = saved }()
			r := newNetlinkReader(Options{})
			present, err := r.recheck(req, append(slices.Clone(socks), madeUp))
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range socks {
				i := slices.IndexFunc(probes, func(p probe) bool { return p.proto == s.Proto && p.local == s.Local && p.remote == s.Remote })
				if want := probes[i].open; present[s.Inode] != want {
					t.Errorf("%s %v -> %v (%s): present %v, want %v", s.Proto, s.Local, s.Remote, s.State, present[s.Inode], want)
				}
			}
			if present[1] {
				t.Error("a made-up inode is present")
			}
		})
	}
}

func TestLaterStates(t *testing.T) {
	for _, st := range append(slices.Clone(States), 0, 13) {
		m := laterStates(st)
		if st.Valid() && m&(1<<st) == 0 {
			t.Errorf("laterStates(%s) = %#x leaves out %s itself", st, m, st)
		}
		if m&^allStates != 0 {
			t.Errorf("laterStates(%s) = %#x: bits outside the states", st, m)
		}
	}
	// A connection read ESTABLISHED may have been closed by either side.
	if m := laterStates(Established); m&(1<<CloseWait) == 0 || m&(1<<FinWait2) == 0 || m&(1<<Listen) != 0 {
		t.Errorf("laterStates(ESTABLISHED) = %#x", m)
	}
}

// TestLiveOrphanAge: an orphaned FIN_WAIT2 socket (we closed first; the
// peer, in CLOSE_WAIT, has not) has no tcp_info, and its age comes from
// its timer, over netlink and from /proc/net/tcp alike.
func TestLiveOrphanAge(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes and sockets of its own
	ln := liveListen(t, liveTCP4)
	old, _ := liveDial(t, ln)
	old.Close() // ours closed first: an orphan in FIN_WAIT2 once the peer ACKs our FIN
	const aged = 1200 * time.Millisecond
	time.Sleep(aged)
	port := liveAddr(ln.Addr()).Port()
	for _, b := range []Backend{BackendNetlink, BackendProc} {
		t.Run(string(b), func(t *testing.T) {
			snap := liveWait(t, Options{Ports: []uint16{port}, Backend: b}, func(snap *Snapshot) error {
				if got := liveFind(snap.Sockets, snap.HostNetNS, liveAddr(old.LocalAddr()), liveAddr(ln.Addr())); len(got) != 1 || got[0].State != FinWait2 {
					return fmt.Errorf("the orphan: %+v, want one in FIN_WAIT2", got)
				}
				return nil
			})
			s := liveFind(snap.Sockets, snap.HostNetNS, liveAddr(old.LocalAddr()), liveAddr(ln.Addr()))[0]
			if snap.System.FinTimeout == 0 {
				t.Skip("tcp_fin_timeout unreadable here")
			}
			if s.Inode != 0 || !s.HasAge || s.AgeMs < 900 || s.AgeMs > uint32(snap.System.FinTimeout*1000) {
				t.Errorf("orphan %+v: want inode 0 and an age of 0.9 s to tcp_fin_timeout", s)
			}
		})
	}
}
