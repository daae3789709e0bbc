package inspect

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAttributeQueued(t *testing.T) {
	const ns, otherNS = 1, 2
	sock := func(proto Proto, state TCPState, local string, inode uint64, pids ...int) Socket {
		return Socket{Proto: proto, State: state, Local: netip.MustParseAddrPort(local),
			Remote: netip.MustParseAddrPort("127.0.0.1:40000"), Inode: inode, NetNS: ns, PIDs: pids}
	}
	listen := func(proto Proto, local string, inode uint64, rx uint64, pids ...int) Socket {
		s := sock(proto, Listen, local, inode, pids...)
		s.Remote, s.RxQueue = netip.AddrPortFrom(netip.IPv4Unspecified(), 0), rx
		return s
	}
	inNS := func(s Socket, n uint64) Socket { s.NetNS = n; return s }
	for _, tt := range []struct {
		name      string
		listeners []Socket
		sock      Socket
		queued    bool
		pids      []int
	}{
		{"CLOSE_WAIT on the wildcard", []Socket{listen(TCP, "0.0.0.0:6379", 10, 1, 2100)},
			sock(TCP, CloseWait, "127.0.0.1:6379", 0), true, []int{2100}},
		{"ESTABLISHED on the listener's own address", []Socket{listen(TCP, "127.0.0.1:6379", 10, 1, 2100)},
			sock(TCP, Established, "127.0.0.1:6379", 0), true, []int{2100}},
		{"shared listener: all its owners", []Socket{listen(TCP, "0.0.0.0:80", 10, 1, 900, 901, 902)},
			sock(TCP, Established, "10.0.0.10:80", 0), true, []int{900, 901, 902}},
		{"IPv6 wildcard", []Socket{listen(TCP6, "[::]:80", 10, 1, 7)},
			sock(TCP6, CloseWait, "[2001:db8::1]:80", 0), true, []int{7}},
		{"dual-stack listener, IPv4 client (unmapped)", []Socket{listen(TCP6, "[::]:80", 10, 1, 7)},
			sock(TCP6, CloseWait, "127.0.0.1:80", 0), true, []int{7}},
		{"the specific listener before the wildcard",
			[]Socket{listen(TCP, "0.0.0.0:80", 10, 0, 1), listen(TCP, "127.0.0.1:80", 11, 1, 2)},
			sock(TCP, Established, "127.0.0.1:80", 0), true, []int{2}},
		{"SO_REUSEPORT: the listener whose queue holds connections",
			[]Socket{listen(TCP, "0.0.0.0:80", 10, 0, 1), listen(TCP, "0.0.0.0:80", 11, 3, 2), listen(TCP, "0.0.0.0:80", 12, 0, 3)},
			sock(TCP, CloseWait, "10.0.0.1:80", 0), true, []int{2}},
		{"a listener nobody could be seen holding", []Socket{listen(TCP, "0.0.0.0:80", 10, 1)},
			sock(TCP, CloseWait, "10.0.0.1:80", 0), true, nil},
		{"another address, not the wildcard", []Socket{listen(TCP, "127.0.0.1:80", 10, 1, 2)},
			sock(TCP, CloseWait, "10.0.0.1:80", 0), false, nil},
		{"another port", []Socket{listen(TCP, "0.0.0.0:80", 10, 1, 2)},
			sock(TCP, CloseWait, "10.0.0.1:81", 0), false, nil},
		{"another namespace", []Socket{inNS(listen(TCP, "0.0.0.0:80", 10, 1, 2), otherNS)},
			sock(TCP, CloseWait, "10.0.0.1:80", 0), false, nil},
		{"another family", []Socket{listen(TCP6, "[::1]:80", 10, 1, 2)},
			sock(TCP, CloseWait, "10.0.0.1:80", 0), false, nil},
		{"accepted: it has an inode and its own owners", []Socket{listen(TCP, "0.0.0.0:80", 10, 1, 2)},
			sock(TCP, CloseWait, "10.0.0.1:80", 20, 5), false, []int{5}},
		{"an orphan closed by the application", []Socket{listen(TCP, "0.0.0.0:80", 10, 1, 2)},
			sock(TCP, FinWait2, "10.0.0.1:80", 0), false, nil},
		{"an orphan in LAST_ACK", []Socket{listen(TCP, "0.0.0.0:80", 10, 1, 2)},
			sock(TCP, LastAck, "10.0.0.1:80", 0), false, nil},
		{"TIME_WAIT", []Socket{listen(TCP, "0.0.0.0:80", 10, 1, 2)},
			sock(TCP, TimeWait, "10.0.0.1:80", 0), false, nil},
		{"no listener at all", nil, sock(TCP, Established, "10.0.0.1:80", 0), false, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			socks := append(slices.Clone(tt.listeners), tt.sock)
			attributeQueued(socks)
			got := socks[len(socks)-1]
			if got.Queued != tt.queued || !slices.Equal(got.PIDs, tt.pids) {
				t.Errorf("Queued, PIDs = %v, %v; want %v, %v", got.Queued, got.PIDs, tt.queued, tt.pids)
			}
			for _, l := range socks[:len(socks)-1] {
				if l.Queued {
					t.Errorf("a listener marked queued: %+v", l)
				}
			}
		})
	}
}

// The hung tree (testdata/README.md): redis-server 2100 is stopped with 55
// connections in the accept queue of its listener on 0.0.0.0:6379, 52 from
// this host and 3 from 10.0.0.20.
const (
	hungQueuedEstab  = 12
	hungQueuedClosed = 43
	hungAccepted     = 20
	hungServer       = 2100
	hungClient       = 4400
)

// queuedView counts a snapshot's sockets by whether they are queued, their
// state and their owners.
type queuedView struct {
	Queued bool
	State  TCPState
	PIDs   string
}

func countQueued(socks []Socket) map[queuedView]int {
	out := map[queuedView]int{}
	for _, s := range socks {
		out[queuedView{s.Queued, s.State, cmp.Diff([]int(nil), s.PIDs)}]++
	}
	return out
}

func TestScanAcceptQueue(t *testing.T) {
	server := cmp.Diff([]int(nil), []int{hungServer})
	client := cmp.Diff([]int(nil), []int{hungClient})
	queuedEstab := queuedView{true, Established, server}
	queuedClosed := queuedView{true, CloseWait, server}
	accepted := queuedView{false, CloseWait, server}
	for _, tt := range []struct {
		name string
		opts Options
		want map[queuedView]int
	}{
		{"everything", Options{}, map[queuedView]int{
			queuedEstab: hungQueuedEstab, queuedClosed: hungQueuedClosed, accepted: hungAccepted,
			{false, Listen, server}:      2,
			{false, Established, client}: 12, {false, FinWait2, client}: 2, {false, FinWait2, ""}: 30,
			{false, Listen, cmp.Diff([]int(nil), []int{700})}: 2,
		}},
		// The listener is filtered out, but its owners are still read to
		// give its queue an owner.
		{"--state close-wait", Options{States: []TCPState{CloseWait}}, map[queuedView]int{
			queuedClosed: hungQueuedClosed, accepted: hungAccepted,
		}},
		{"check's dump", Options{DumpStates: []TCPState{CloseWait, FinWait2}}, map[queuedView]int{
			queuedClosed: hungQueuedClosed, accepted: hungAccepted,
			{false, FinWait2, client}: 2, {false, FinWait2, ""}: 30,
		}},
		{"--peer 10.0.0.20", Options{Peers: []Peer{{Prefix: netip.MustParsePrefix("10.0.0.20/32")}}}, map[queuedView]int{
			queuedClosed: 3,
		}},
		// A selected server keeps its queue: the connections count for it.
		{"--pid 2100", Options{PIDs: []int{hungServer}}, map[queuedView]int{
			queuedEstab: hungQueuedEstab, queuedClosed: hungQueuedClosed, accepted: hungAccepted,
			{false, Listen, server}: 2,
		}},
		{"--name redis --state close-wait", Options{Name: "redis", States: []TCPState{CloseWait}}, map[queuedView]int{
			queuedClosed: hungQueuedClosed, accepted: hungAccepted,
		}},
		{"--pid 4400: not the client's", Options{PIDs: []int{hungClient}}, map[queuedView]int{
			{false, Established, client}: 12, {false, FinWait2, client}: 2,
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			snap := scanFixture(t, fixtureFS(t, "hung"), tt.opts)
			if diff := cmp.Diff(tt.want, countQueued(snap.Sockets)); diff != "" {
				t.Errorf("sockets by queued, state, owners (-want +got):\n%s", diff)
			}
			if len(snap.Warnings) != 0 {
				t.Errorf("warnings: %q", snap.Warnings)
			}
		})
	}
}

// TestScanHungListener checks what the listener itself says: the accept
// queue's length in RxQueue; the backlog is not in /proc/net/tcp.
func TestScanHungListener(t *testing.T) {
	snap := scanFixture(t, fixtureFS(t, "hung"), Options{PIDs: []int{hungServer}})
	var got []Socket
	for _, s := range inState(snap.Sockets, Listen) {
		got = append(got, Socket{Proto: s.Proto, Local: s.Local, RxQueue: s.RxQueue, TxQueue: s.TxQueue})
	}
	want := []Socket{
		{Proto: TCP, Local: netip.MustParseAddrPort("0.0.0.0:6379"), RxQueue: hungQueuedEstab + hungQueuedClosed},
		{Proto: TCP6, Local: netip.MustParseAddrPort("[::]:6379")},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("listeners (-want +got):\n%s", diff)
	}
}
