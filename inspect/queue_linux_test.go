//go:build linux

package inspect

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/internal/livetest"
)

// liveListenBacklog listens on 127.0.0.1 with this backlog and never
// accepts; the socket is closed at cleanup (its queue is reset with it).
func liveListenBacklog(t *testing.T, backlog int) netip.AddrPort {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, backlog); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return netip.AddrPortFrom(netip.AddrFrom4(sa.(*unix.SockaddrInet4).Addr), uint16(sa.(*unix.SockaddrInet4).Port))
}

// TestLiveAcceptQueue makes a server that never accepts: clients connect,
// and some give up and close. The connections waiting in its accept
// queue, ESTABLISHED and CLOSE_WAIT, are Queued and owned by the server
// (this process); its LISTEN socket shows how many wait and, over
// netlink, the backlog given to listen().
func TestLiveAcceptQueue(t *testing.T) {
	livetest.Skip(t)
	const backlog, waiting, gaveUp = 16, 2, 3
	ln := liveListenBacklog(t, backlog)
	d := net.Dialer{KeepAlive: -1, Timeout: liveTimeout}
	for i := range waiting + gaveUp {
		c, err := d.Dial("tcp", ln.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if i < gaveUp {
			c.Close() // the server's end, still queued, goes to CLOSE_WAIT
		}
	}
	me := os.Getpid()
	for _, b := range []Backend{BackendNetlink, BackendProc} {
		for _, opts := range []Options{{PIDs: []int{me}}, {PIDs: []int{me}, DumpStates: []TCPState{CloseWait}}} {
			opts.Backend = b
			t.Run(fmt.Sprintf("%s DumpStates=%v", b, opts.DumpStates), func(t *testing.T) {
				want := map[TCPState]int{CloseWait: gaveUp}
				if len(opts.DumpStates) == 0 {
					want[Established] = waiting
				}
				liveWait(t, opts, func(snap *Snapshot) error {
					return liveQueueSettled(snap, ln, want, me)
				})
				snap := liveScan(t, Options{PIDs: []int{me}, Backend: b, States: []TCPState{Listen}})
				l := liveFind(snap.Sockets, snap.HostNetNS, ln, netip.AddrPortFrom(netip.IPv4Unspecified(), 0))
				wantTx := uint64(backlog)
				if b == BackendProc {
					wantTx = 0 // /proc/net/tcp does not print the backlog
				}
				if len(l) != 1 || l[0].RxQueue != waiting+gaveUp || l[0].TxQueue != wantTx {
					t.Errorf("listener %v: %+v; want RxQueue %d (waiting), TxQueue %d", ln, l, waiting+gaveUp, wantTx)
				}
			})
		}
	}
}

// liveQueueSettled checks that the sockets on the server's side of ln
// (listener aside) are as many as want in each state, all queued and
// owned by pid.
func liveQueueSettled(snap *Snapshot, ln netip.AddrPort, want map[TCPState]int, pid int) error {
	got := map[TCPState]int{}
	for _, s := range snap.Sockets {
		if s.NetNS != snap.HostNetNS || s.Local != ln || s.State == Listen {
			continue
		}
		if !s.Queued || s.Inode != 0 || !slices.Equal(s.PIDs, []int{pid}) {
			return fmt.Errorf("%v -> %v %s: queued %v, inode %d, owners %v; want queued, owned by %d",
				s.Local, s.Remote, s.State, s.Queued, s.Inode, s.PIDs, pid)
		}
		got[s.State]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("queued connections by state: %v, want %v", got, want)
	}
	return nil
}
