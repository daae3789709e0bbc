package inspect

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"testing/iotest"

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

// tcpRec is a tcp_record's fields, for tests that write records.
type tcpRec struct {
	ino                      uint64
	netns, uid, rq, wq, exp  uint32
	sent, recv, ack          uint32
	sport, dport             uint16
	family, state, timer, rt uint8
	src, dst                 [16]byte
	kind                     uint8
}

func tcpRecordBytes(recs ...tcpRec) []byte {
	var out []byte
	for _, r := range recs {
		b := make([]byte, tcpRecordSize)
		ne := binary.NativeEndian
		ne.PutUint64(b[0:], r.ino)
		for i, v := range []uint32{r.netns, r.uid, r.rq, r.wq, r.exp, r.sent, r.recv, r.ack} {
			ne.PutUint32(b[8+4*i:], v)
		}
		ne.PutUint16(b[40:], r.sport)
		ne.PutUint16(b[42:], r.dport)
		b[44], b[45], b[46], b[47] = r.family, r.state, r.timer, r.rt
		copy(b[48:], r.src[:])
		copy(b[64:], r.dst[:])
		b[80] = r.kind
		out = append(out, b...)
	}
	return out
}

func TestDecodeTCPRecords(t *testing.T) {
	v4 := func(a, b, c, d byte) (r [16]byte) { r[0], r[1], r[2], r[3] = a, b, c, d; return r }
	mapped := netip.MustParseAddr("::ffff:10.0.0.9").As16()
	v6 := netip.MustParseAddr("2001:db8::1").As16()
	b := tcpRecordBytes(
		tcpRec{ino: 77, netns: 9, uid: 1000, rq: 5, wq: 7, exp: 2000, sent: 10, recv: 20, ack: 30, sport: 8080, dport: 40000,
			family: 2, state: uint8(CloseWait), timer: 1, rt: 2, src: v4(127, 0, 0, 1), dst: v4(10, 1, 2, 3)},
		tcpRec{netns: 9, exp: 30000, sport: 443, dport: 5000, family: 10, state: uint8(FinWait2), timer: 3,
			src: mapped, dst: v6, kind: tcpKindTimewait},
		tcpRec{netns: 9, sent: 99, sport: 22, family: 10, state: uint8(Listen), rq: 1, wq: 128, src: v6, uid: 0},
	)
	var got []Socket
	var s Socket
	if err := decodeTCPRecords(b, &s, func(s *Socket) { got = append(got, *s) }); err != nil {
		t.Fatal(err)
	}
	want := []Socket{
		{Proto: TCP, Local: netip.MustParseAddrPort("127.0.0.1:8080"), Remote: netip.MustParseAddrPort("10.1.2.3:40000"),
			State: CloseWait, Timer: 1, Retransmits: 2, TimerTicks: 200, Inode: 77, NetNS: 9, UID: 1000, RxQueue: 5, TxQueue: 7,
			IdleMs: 10, HasIdle: true, AgeMs: 30, HasAge: true},
		{Proto: TCP6, Local: netip.MustParseAddrPort("10.0.0.9:443"), Remote: netip.MustParseAddrPort("[2001:db8::1]:5000"),
			State: FinWait2, Timer: 3, TimerTicks: 3000, NetNS: 9},
		{Proto: TCP6, Local: netip.MustParseAddrPort("[2001:db8::1]:22"), Remote: netip.AddrPortFrom(netip.IPv6Unspecified(), 0),
			State: Listen, NetNS: 9, RxQueue: 1, TxQueue: 128, HasIdle: true},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateComparable(netip.AddrPort{})); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	for _, bad := range [][]byte{b[:tcpRecordSize+1], tcpRecordBytes(tcpRec{family: 1})} {
		if err := decodeTCPRecords(bad, &s, func(*Socket) {}); err == nil {
			t.Errorf("%d bytes, family %d: no error", len(bad), bad[44])
		}
	}
}

// FuzzDecodeTCPRecords: any output decodes or fails, never panics, and
// reads the same as a stream cut anywhere.
func FuzzDecodeTCPRecords(f *testing.F) {
	f.Add(tcpRecordBytes(tcpRec{family: 2, state: 1}, tcpRec{family: 10, state: 6, kind: 1}))
	f.Add([]byte{1, 2, 3})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var whole, streamed []Socket
		var s Socket
		err := decodeTCPRecords(b, &s, func(s *Socket) { whole = append(whole, *s) })
		if err == nil && len(whole) != len(b)/tcpRecordSize {
			t.Fatalf("%d bytes decoded to %d sockets", len(b), len(whole))
		}
		serr := readTCPRecords(iotest.HalfReader(bytes.NewReader(b)), func(s *Socket) { streamed = append(streamed, *s) })
		if (serr != nil) != (err != nil) || err == nil && !cmp.Equal(whole, streamed, cmpopts.EquateComparable(netip.AddrPort{})) {
			t.Fatalf("%x read as a stream: %v; whole: %v", b, serr, err)
		}
	})
}
