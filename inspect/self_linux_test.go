package inspect

import (
	"net"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/internal/livetest"
)

// TestOwnSocketsMatchNetlink: on the loopback landscape (every state a
// descriptor can hold, IPv4 and IPv6), OwnSockets reads the same sockets
// as a sock_diag dump, with the same state, addresses and inode, and a
// UDP or a Unix socket is not one of them.
func TestOwnSocketsMatchNetlink(t *testing.T) {
	livetest.Skip(t)
	port := nlLandscape(t)
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])

	type key struct {
		State         TCPState
		Local, Remote string
		Inode         uint64
	}
	// The landscape's listeners and every connection to them: other
	// processes may use the port on other addresses.
	ours := func(ap netip.AddrPort) bool {
		return ap.Port() == port && (ap.Addr() == netip.MustParseAddr("127.0.0.1") || ap.Addr() == netip.IPv6Loopback())
	}
	onPort := func(s *Socket) bool { return ours(s.Local) || ours(s.Remote) }
	c, err := newDiagConn()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	want := map[key]bool{}
	err = c.dump(unix.AF_UNSPEC, allStates, false, func(s *Socket) {
		if onPort(s) && s.Inode != 0 { // the landscape's sockets with a descriptor
			remote := s.Remote.String()
			if s.State == Listen {
				remote = "invalid AddrPort"
			}
			want[key{s.State, s.Local.String(), remote, s.Inode}] = true
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	own, err := OwnSockets(nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[key]bool{}
	ages := 0
	for _, s := range own {
		var st unix.Stat_t
		if err := unix.Fstat(s.FD, &st); err != nil || st.Ino != s.Inode {
			t.Errorf("fd %d: inode %d, want %d (%v)", s.FD, st.Ino, s.Inode, err)
		}
		if !onPort(&s.Socket) {
			continue
		}
		got[key{s.State, s.Local.String(), s.Remote.String(), s.Inode}] = true
		if s.HasAge != (s.State == CloseWait || s.State == FinWait2) || !s.HasIdle {
			t.Errorf("%v %v → %v: HasAge %v, HasIdle %v", s.State, s.Local, s.Remote, s.HasAge, s.HasIdle)
		}
		if s.HasAge {
			ages++
		}
	}
	if len(want) < 8 {
		t.Fatalf("the dump shows %d of the landscape's owned sockets; the landscape has more", len(want))
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("OwnSockets and the sock_diag dump differ (-dump +own):\n%s", diff)
	}
	if ages == 0 {
		t.Error("no socket in CLOSE_WAIT or FIN_WAIT2 with an age: the landscape has some")
	}
}

// BenchmarkOwnSockets reads this process's sockets with 1000 open
// descriptors, 999 of them TCP sockets.
func BenchmarkOwnSockets(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for len(conns) < 998 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		a, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c, a)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := OwnSockets(func(*Socket) bool { return false }); err != nil {
			b.Fatal(err)
		}
	}
}
