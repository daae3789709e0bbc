//go:build linux

package client

import (
	"context"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"testing"
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// startPeer starts a Peer and stops it at cleanup.
func startPeer(t *testing.T, o PeerOptions) *Peer {
	t.Helper()
	p, err := StartPeer(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// refusedAddr returns a loopback address nothing listens on: one that was
// just free.
func refusedAddr(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ap := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close()
	return ap
}

// ownSockets returns the TCP sockets this test process holds to remote,
// as the inspect engine sees them.
func ownSockets(t *testing.T, remote netip.AddrPort) []inspect.Socket {
	t.Helper()
	fsys, err := inspect.NewFS(inspect.DefaultRoot)
	if err != nil {
		t.Fatal(err)
	}
	a := remote.Addr().Unmap()
	snap, err := inspect.Scan(context.Background(), fsys, inspect.Options{
		PIDs:  []int{os.Getpid()},
		Peers: []inspect.Peer{{Prefix: netip.PrefixFrom(a, a.BitLen()), Port: remote.Port()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Processes) != 1 {
		t.Fatalf("scan of pid %d: processes %+v", os.Getpid(), snap.Processes)
	}
	return snap.Sockets
}

// waitState polls the kernel until the socket local→remote is in a state
// ok accepts (0 when there is no such socket), and returns it. It fails
// the test after a deadline.
func waitState(t *testing.T, local, remote netip.AddrPort, what string, ok func(inspect.TCPState) bool) inspect.TCPState {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := TableState(local, remote)
		if err != nil {
			t.Fatal(err)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("socket %s->%s is %v, want %s", local, remote, st, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func is(states ...inspect.TCPState) func(inspect.TCPState) bool {
	return func(s inspect.TCPState) bool {
		for _, w := range states {
			if s == w {
				return true
			}
		}
		return false
	}
}

// localOf records the local address of a traced exchange.
type localOf struct{ ap netip.AddrPort }

func (l *localOf) trace(s Step) {
	if s.Local.IsValid() {
		l.ap = s.Local
	}
}

// withoutGC runs f with the garbage collector off. A net.Conn that becomes
// garbage is closed by a finalizer: with the collector on, a Send that
// forgot to close would be rescued before the check below it could see the
// leak. Tests that use it must not run in parallel.
func withoutGC(f func()) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	f()
}
