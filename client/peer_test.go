//go:build linux

package client

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/livetest"
)

// dialPeer connects to p without keepalive, as the leaky client does.
func dialPeer(t *testing.T, p *Peer) *net.TCPConn {
	t.Helper()
	d := net.Dialer{KeepAlive: -1}
	c, err := d.Dial("tcp", p.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

func TestPeerAddress(t *testing.T) {
	for _, tt := range []struct {
		addr    string
		wantErr string
	}{
		{"0.0.0.0:0", "want a loopback IP:port"},
		{"192.0.2.1:7000", "want a loopback IP:port"},
		{"localhost:0", "want a loopback IP:port"},
		{"[::1]:0", ""},
	} {
		t.Run(tt.addr, func(t *testing.T) {
			if tt.wantErr == "" {
				livetest.Skip(t)
			}
			p, err := StartPeer(PeerOptions{Addr: tt.addr})
			if tt.wantErr == "" {
				if err != nil {
					t.Skipf("no IPv6 loopback here: %v", err)
				}
				p.Close()
				return
			}
			if err == nil {
				p.Close()
				t.Fatal("StartPeer succeeded, want an error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseBehaviour(t *testing.T) {
	if _, err := ParseBehaviour("flaky"); err == nil || !strings.Contains(err.Error(), "half-close-hold") {
		t.Errorf("ParseBehaviour(flaky) = %v, want an error listing the behaviours", err)
	}
	if len(Behaviours) == 0 {
		t.Fatal("no behaviours")
	}
	for _, b := range Behaviours {
		if got, err := ParseBehaviour(string(b)); err != nil || got != b {
			t.Errorf("ParseBehaviour(%q) = %q, %v", b, got, err)
		}
	}
}

func TestPeerEchoIPv6(t *testing.T) {
	livetest.Skip(t)
	p, err := StartPeer(PeerOptions{Addr: "[::1]:0"})
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	var local localOf
	reply, err := Send(context.Background(), p.Addr().String(), []byte("six\n"), Options{Delimiter: []byte("\n"), Trace: local.trace})
	if err != nil || string(reply) != "six\n" {
		t.Fatalf("Send = %q, %v", reply, err)
	}
	if st, err := TableState(local.ap, p.Addr()); err != nil || st != inspect.TimeWait {
		t.Errorf("our end over ::1: %v, %v; want TIME_WAIT", st, err)
	}
}

func TestPeerSlow(t *testing.T) {
	livetest.Skip(t)
	const delay = 100 * time.Millisecond
	p := startPeer(t, PeerOptions{Behaviour: Slow, Delay: delay})
	start := time.Now()
	reply, err := Send(context.Background(), p.Addr().String(), []byte("late?\n"), Options{Delimiter: []byte("\n")})
	if err != nil || string(reply) != "late?\n" {
		t.Fatalf("Send = %q, %v", reply, err)
	}
	if took := time.Since(start); took < delay {
		t.Errorf("reply after %v, want at least %v", took, delay)
	}
	if p.Accepted() != 1 {
		t.Errorf("accepted %d, want 1", p.Accepted())
	}
}

func TestPeerHalfCloseHold(t *testing.T) {
	livetest.Skip(t)
	p := startPeer(t, PeerOptions{Behaviour: HalfCloseHold})
	c := dialPeer(t, p)
	local, remote := addrs(c)
	if _, err := io.WriteString(c, "anyone?\n"); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(make([]byte, 16)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("read = %d, %v; want the peer's FIN without a reply", n, err)
	}
	// We hold CLOSE_WAIT, the peer an owned FIN_WAIT2: neither times out.
	if st, err := KernelState(c); err != nil || st != inspect.CloseWait {
		t.Errorf("our end: %v, %v; want CLOSE_WAIT", st, err)
	}
	waitState(t, remote, local, "FIN_WAIT2", is(inspect.FinWait2))
	own := ownSockets(t, local) // the peer's end, as this process owns it
	if len(own) != 1 || own[0].State != inspect.FinWait2 {
		t.Errorf("peer's end as inspect sees it: %+v, want one owned FIN_WAIT2 socket", own)
	}
	c.Close()
	// Our FIN ends both: the peer closed first, so TIME_WAIT is its.
	waitState(t, remote, local, "TIME_WAIT", is(inspect.TimeWait))
}

func TestPeerNeverClose(t *testing.T) {
	livetest.Skip(t)
	p := startPeer(t, PeerOptions{Behaviour: NeverClose})
	c := dialPeer(t, p)
	local, remote := addrs(c)
	r := bufio.NewReader(c)
	for _, req := range []string{"one\n", "two\n"} {
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		if got, err := r.ReadString('\n'); err != nil || got != req {
			t.Fatalf("reply = %q, %v; want %q", got, err, req)
		}
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	// The peer's own leak: CLOSE_WAIT at its end, FIN_WAIT2 at ours.
	waitState(t, remote, local, "CLOSE_WAIT", is(inspect.CloseWait))
	waitState(t, local, remote, "FIN_WAIT2", is(inspect.FinWait2))
	// Until the peer stops: then its FIN comes.
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("read after the peer stopped = %d, %v; want EOF", n, err)
	}
}
