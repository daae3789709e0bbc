//go:build linux

package client

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"testing"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/livetest"
)

func TestLeakyClientLeaksOnErrorPaths(t *testing.T) {
	livetest.Skip(t)
	for _, p := range errorPaths {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			addr, ctx, arm := p.setUp(t)
			arm()
			l := &LeakyClient{}
			t.Cleanup(l.CloseLeaked)
			opts := p.opts
			opts.Delimiter = []byte("\n")
			_, err := l.Send(ctx, addr.String(), []byte("request\n"), opts)
			p.checkErr(t, err)
			leaked := l.Leaked()
			if want := map[bool]int{false: 0, true: 1}[p.leakFD]; len(leaked) != want {
				t.Fatalf("leaked %d connections, want %d", len(leaked), want)
			}
			if !p.leakFD {
				return
			}
			c := leaked[0]
			local, remote := addrs(c)
			if p.leak == 0 {
				// A reset socket leaves the table at once; the descriptor stays.
				if st, err := KernelState(c); err != nil || st != inspect.Close {
					t.Errorf("leaked socket's own state = %v, %v; want CLOSE", st, err)
				}
				if own := ownSockets(t, addr); len(own) != 0 {
					t.Errorf("this process holds %+v in the table, want none", own)
				}
				return
			}
			waitState(t, local, remote, p.leak.String(), is(p.leak))
			own := ownSockets(t, addr)
			if len(own) != 1 || own[0].State != p.leak || own[0].Local != local || !slices.Contains(own[0].PIDs, os.Getpid()) {
				t.Errorf("inspect sees %+v, want one %v socket from %s owned by pid %d", own, p.leak, local, os.Getpid())
			}
		})
	}
}

// TestLeakyClientHoldsWhatThePeerClosed is the leak at its barest: no
// request, a peer that sends its FIN at once, and a client that keeps the
// socket in CLOSE_WAIT.
func TestLeakyClientHoldsWhatThePeerClosed(t *testing.T) {
	livetest.Skip(t)
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan *net.TCPConn, 1)
	go func() {
		defer close(accepted)
		if c, err := ln.Accept(); err == nil {
			_ = c.(*net.TCPConn).CloseWrite() // FIN at once; held in FIN_WAIT2
			accepted <- c.(*net.TCPConn)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		if c := <-accepted; c != nil {
			c.Close()
		}
	})
	l := &LeakyClient{}
	t.Cleanup(l.CloseLeaked)
	if _, err := l.Send(context.Background(), ln.Addr().String(), nil, Options{}); !errors.Is(err, ErrPeerClosed) {
		t.Fatalf("Send = %v, want %v", err, ErrPeerClosed)
	}
	leaked := l.Leaked()
	if len(leaked) != 1 {
		t.Fatalf("leaked %d connections, want 1", len(leaked))
	}
	local, remote := addrs(leaked[0])
	if st, err := KernelState(leaked[0]); err != nil || st != inspect.CloseWait {
		t.Errorf("leaked socket: %v, %v; want CLOSE_WAIT", st, err)
	}
	waitState(t, remote, local, "FIN_WAIT2", is(inspect.FinWait2))
}
