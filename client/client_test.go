//go:build linux

package client

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/livetest"
	"github.com/sockleak/sockleak/socktest"
)

// errorPath is one way an exchange fails.
type errorPath struct {
	name   string
	peer   *PeerOptions // nil: nothing listens
	opts   Options
	cancel time.Duration // cancel the context after this; 0: never
	want   error         // the sentinel the error matches
	// leak is the state the leaky client's socket ends in; 0 when the
	// socket leaves the kernel's table (the leak is a descriptor alone).
	leak inspect.TCPState
	// leakFD says whether the leaky client keeps a descriptor.
	leakFD bool
}

var errorPaths = []errorPath{
	{name: "connection refused", want: ErrRefused},
	{name: "read timeout", peer: &PeerOptions{Behaviour: Slow, Delay: 150 * time.Millisecond},
		opts: Options{ReadTimeout: 50 * time.Millisecond}, want: ErrTimeout, leak: inspect.CloseWait, leakFD: true},
	{name: "peer closes before replying", peer: &PeerOptions{Behaviour: ReplyClose, Reply: []byte{}},
		want: ErrPeerClosed, leak: inspect.CloseWait, leakFD: true},
	{name: "peer resets", peer: &PeerOptions{Behaviour: Reset}, want: ErrReset, leakFD: true},
	{name: "reply larger than the limit", peer: &PeerOptions{Behaviour: ReplyClose, Reply: append(bytes.Repeat([]byte("x"), 8192), '\n')},
		opts: Options{MaxReply: 1024}, want: ErrTooLarge, leak: inspect.CloseWait, leakFD: true},
	{name: "context cancelled", peer: &PeerOptions{Behaviour: Slow, Delay: 150 * time.Millisecond},
		opts: Options{ReadTimeout: 5 * time.Second}, cancel: 50 * time.Millisecond, want: ErrCanceled, leak: inspect.CloseWait, leakFD: true},
}

// setUp starts the path's peer and returns its address and a context,
// and arm, to call just before the exchange: it starts the countdown to
// the context's cancellation.
func (p errorPath) setUp(t *testing.T) (addr netip.AddrPort, ctx context.Context, arm func()) {
	t.Helper()
	addr = refusedAddr(t)
	if p.peer != nil {
		addr = startPeer(t, *p.peer).Addr()
	}
	ctx, cancel := context.WithCancel(context.Background())
	var timer *time.Timer
	t.Cleanup(func() {
		if timer != nil {
			timer.Stop()
		}
		cancel()
	})
	arm = func() {
		if p.cancel > 0 {
			timer = time.AfterFunc(p.cancel, cancel)
		}
	}
	return addr, ctx, arm
}

func (p errorPath) checkErr(t *testing.T, err error) {
	t.Helper()
	var ce *Error
	if !errors.Is(err, p.want) || !errors.As(err, &ce) || sentinels[ce.Kind] != p.want {
		t.Fatalf("error = %v, want %v", err, p.want)
	}
	if p.want == ErrCanceled && !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want it to wrap context.Canceled", err)
	}
}

func TestSendClosesOnEveryErrorPath(t *testing.T) {
	livetest.Skip(t)
	for _, p := range errorPaths {
		for _, mode := range []CloseMode{Graceful, Abort} {
			t.Run(p.name+"/"+mode.String(), func(t *testing.T) {
				addr, ctx, arm := p.setUp(t)
				var local localOf
				opts := p.opts
				opts.Close, opts.Delimiter, opts.Trace = mode, []byte("\n"), local.trace
				var reply []byte
				var err error
				var own []inspect.Socket
				var leaked error
				withoutGC(func() {
					base := socktest.IgnoreCurrent()
					arm()
					reply, err = Send(ctx, addr.String(), []byte("request\n"), opts)
					own = ownSockets(t, addr)
					leaked = socktest.Find(base, socktest.MaxWait(0))
				})
				if reply != nil {
					t.Errorf("reply = %q, want none", reply)
				}
				p.checkErr(t, err)
				// Closed before Send returned: this process holds nothing.
				if len(own) != 0 {
					t.Errorf("after Send: this process holds %+v, want no socket", own)
				}
				// After a reset the peer holds nothing either, and the
				// socket left the table: a descriptor that was not open
				// before Send is the leak. (Sockets of the test's earlier
				// peers may still be closing: fewer after is fine.)
				if p.want == ErrReset && leaked != nil {
					t.Errorf("after Send: %v", leaked)
				}
				if p.peer != nil && !local.ap.IsValid() {
					t.Fatal("no local address traced")
				}
				if local.ap.IsValid() {
					// And once the peer is done, the kernel keeps at most TIME_WAIT.
					waitState(t, local.ap, addr, "gone or TIME_WAIT", is(0, inspect.TimeWait))
				}
			})
		}
	}
}

func TestSendExchanges(t *testing.T) {
	livetest.Skip(t)
	for _, tt := range []struct {
		name      string
		peer      PeerOptions
		opts      Options
		request   string
		want      string
		wantLocal inspect.TCPState // our end once closed
	}{
		{"echo, delimiter, graceful: TIME_WAIT here", PeerOptions{Behaviour: Echo},
			Options{Delimiter: []byte("\n")}, "hello\n", "hello\n", inspect.TimeWait},
		{"echo, abort: no TIME_WAIT", PeerOptions{Behaviour: Echo},
			Options{Delimiter: []byte("\n"), Close: Abort}, "hello\n", "hello\n", 0},
		{"multi-byte delimiter", PeerOptions{Behaviour: Echo, Reply: []byte("a\r\nb\r\n")},
			Options{Delimiter: []byte("\r\n")}, "x\n", "a\r\n", inspect.TimeWait},
		{"reply-close, read to EOF: the peer closed first", PeerOptions{Behaviour: ReplyClose, Reply: []byte("bye")},
			Options{}, "x\n", "bye", 0},
		{"reply of exactly the limit", PeerOptions{Behaviour: ReplyClose, Reply: []byte("0123456789")},
			Options{MaxReply: 10}, "x\n", "0123456789", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := startPeer(t, tt.peer)
			var local localOf
			tt.opts.Trace = local.trace
			var got []byte
			var err error
			var own []inspect.Socket
			withoutGC(func() {
				got, err = Send(context.Background(), p.Addr().String(), []byte(tt.request), tt.opts)
				own = ownSockets(t, p.Addr())
			})
			if err != nil || string(got) != tt.want {
				t.Fatalf("Send = %q, %v; want %q", got, err, tt.want)
			}
			if len(own) != 0 {
				t.Errorf("after Send: this process holds %+v, want no socket", own)
			}
			if tt.wantLocal == inspect.TimeWait {
				if st, _ := TableState(local.ap, p.Addr()); st != inspect.TimeWait {
					t.Errorf("our end is %v, want TIME_WAIT", st)
				}
			} else {
				waitState(t, local.ap, p.Addr(), "gone", is(0))
			}
		})
	}
}

// TestSendClosesWhenTheTracePanics checks that a trace callback that
// panics does not leak the connection, whether it panics before Send's
// close (at connect) or during it (at shutdown).
func TestSendClosesWhenTheTracePanics(t *testing.T) {
	livetest.Skip(t)
	for _, op := range []string{"connect", "shutdown(SHUT_WR)"} {
		t.Run(op, func(t *testing.T) {
			p := startPeer(t, PeerOptions{Behaviour: Echo})
			base := socktest.IgnoreCurrent()
			// No GC: a leaked conn's finalizer would close it for us.
			withoutGC(func() { tracePanics(t, p, op, base) })
		})
	}
}

func tracePanics(t *testing.T, p *Peer, op string, base socktest.Option) {
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the trace's panic", r)
			}
		}()
		_, _ = Send(context.Background(), p.Addr().String(), []byte("x\n"), Options{Delimiter: []byte("\n"),
			Trace: func(s Step) {
				if s.Op == op {
					panic("boom")
				}
			}})
	}()
	// The peer runs in this process too: Find gives its end a moment to
	// close.
	if err := socktest.Find(base); err != nil {
		t.Errorf("after a trace that panicked at %s: %v", op, err)
	}
}
