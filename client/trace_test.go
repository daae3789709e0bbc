//go:build linux

package client

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/livetest"
)

// gatedEcho answers one line, waits for the client's FIN, and closes only
// once release is closed: the test can look at the client's side between
// its own FIN and the peer's.
func gatedEcho(t *testing.T) (addr netip.AddrPort, release chan struct{}) {
	t.Helper()
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	release = make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		line, _ := r.ReadBytes('\n')
		_, _ = c.Write(line)
		_, _ = io.Copy(io.Discard, r) // until the client's FIN
		<-release
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().(*net.TCPAddr).AddrPort(), release
}

func opsOf(steps []Step) []string {
	var ops []string
	for _, s := range steps {
		ops = append(ops, s.Op)
	}
	return ops
}

func TestTraceClientClosesFirst(t *testing.T) {
	livetest.Skip(t)
	addr, release := gatedEcho(t)
	var once sync.Once
	releasePeer := func() { once.Do(func() { close(release) }) }
	t.Cleanup(releasePeer) // before gatedEcho's cleanup waits for the peer
	var steps []Step
	var held inspect.TCPState // our end in the kernel's table while the peer holds its FIN back
	trace := func(s Step) {
		steps = append(steps, s)
		if s.Op == "ACK" {
			// The peer acknowledged our FIN: we wait in FIN_WAIT2 until
			// it closes, which it does now.
			held, _ = TableState(s.Local, s.Remote)
			releasePeer()
		}
	}
	reply, err := Send(context.Background(), addr.String(), []byte("hello\n"),
		Options{Delimiter: []byte("\n"), Trace: trace, DrainTimeout: 10 * time.Second})
	if err != nil || string(reply) != "hello\n" {
		t.Fatalf("Send = %q, %v", reply, err)
	}
	if diff := cmp.Diff([]string{"connect", "write", "read", "shutdown(SHUT_WR)", "ACK", "drain", "close"}, opsOf(steps)); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	for i, want := range []func(inspect.TCPState) bool{
		is(inspect.Established), is(inspect.Established), is(inspect.Established),
		is(inspect.FinWait1, inspect.FinWait2), // FIN_WAIT1 until the peer's (delayed) ACK
		is(inspect.FinWait2),
		// The peer's FIN moved the connection to a TIME_WAIT socket; the
		// descriptor's own socket reads CLOSE.
		is(inspect.Close),
	} {
		if !want(steps[i].State) || steps[i].FromTable {
			t.Errorf("after %s: state %v", steps[i].Op, steps[i].State)
		}
	}
	if held != inspect.FinWait2 {
		t.Errorf("in the kernel's table at the ACK step: %v, want FIN_WAIT2", held)
	}
	last := steps[6]
	if !last.FromTable || last.State != inspect.TimeWait || !strings.Contains(last.String(), "TIME_WAIT (kernel)") {
		t.Errorf("after close: %v (from the table: %v), want TIME_WAIT in the kernel's table", last.State, last.FromTable)
	}
	if steps[0].Local != last.Local || steps[0].Remote != addr {
		t.Errorf("addresses: %v->%v then %v, want the same connection to %v", steps[0].Local, steps[0].Remote, last.Local, addr)
	}
}

func TestTracePeerClosesFirst(t *testing.T) {
	livetest.Skip(t)
	p := startPeer(t, PeerOptions{Behaviour: ReplyClose, Reply: []byte("bye")})
	var steps []Step
	// No delimiter: the reply ends at the peer's FIN.
	reply, err := Send(context.Background(), p.Addr().String(), []byte("hello\n"), Options{Trace: func(s Step) { steps = append(steps, s) }})
	if err != nil || string(reply) != "bye" {
		t.Fatalf("Send = %q, %v", reply, err)
	}
	// The peer's FIN was read: no drain.
	if diff := cmp.Diff([]string{"connect", "write", "read", "shutdown(SHUT_WR)", "close"}, opsOf(steps)); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	for i, want := range []func(inspect.TCPState) bool{
		is(inspect.Established),
		is(inspect.Established, inspect.CloseWait), // the peer may answer and close before the trace looks
		is(inspect.CloseWait),
		is(inspect.LastAck, inspect.Close), // LAST_ACK until the peer ACKs our FIN
		is(0, inspect.LastAck),             // from the table
	} {
		if !want(steps[i].State) {
			t.Errorf("after %s: state %v", steps[i].Op, steps[i].State)
		}
	}
	// On loopback the peer's ACK comes before shutdown returns: the step
	// says that it went through LAST_ACK.
	if sh := steps[3]; sh.State != inspect.LastAck && !strings.Contains(sh.Detail, "LAST_ACK, then the peer's ACK") {
		t.Errorf("shutdown step %q: neither in LAST_ACK nor saying it went through it", sh)
	}
	local := steps[0].Local
	waitState(t, local, p.Addr(), "gone", is(0))
	// The peer closed first: the TIME_WAIT is on its side.
	if st, err := TableState(p.Addr(), local); err != nil || st != inspect.TimeWait {
		t.Errorf("peer's end: %v, %v; want TIME_WAIT", st, err)
	}
}

func TestTraceAbort(t *testing.T) {
	livetest.Skip(t)
	p := startPeer(t, PeerOptions{Behaviour: Echo})
	var steps []Step
	_, err := Send(context.Background(), p.Addr().String(), []byte("hello\n"),
		Options{Delimiter: []byte("\n"), Close: Abort, Trace: func(s Step) { steps = append(steps, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"connect", "write", "read", "SO_LINGER 0", "close"}, opsOf(steps)); diff != "" {
		t.Fatalf("steps (-want +got):\n%s", diff)
	}
	last := steps[len(steps)-1]
	if !last.FromTable || last.State != 0 || !strings.Contains(last.String(), "gone") {
		t.Errorf("after close: %v, want no socket left: RST, no TIME_WAIT", last.State)
	}
	// The peer got the RST: no TIME_WAIT on its side either.
	waitState(t, p.Addr(), last.Local, "gone", is(0))
}

func TestStepString(t *testing.T) {
	local, remote := netip.MustParseAddrPort("127.0.0.1:40000"), netip.MustParseAddrPort("127.0.0.1:7000")
	for _, tt := range []struct {
		step Step
		want string
	}{
		{Step{Op: "read", Detail: "6 bytes", At: 1234567 * time.Nanosecond, Took: 98765 * time.Nanosecond,
			Local: local, Remote: remote, State: inspect.CloseWait},
			"   +1.2ms    (99µs)  read               CLOSE_WAIT           6 bytes"},
		{Step{Op: "connect", At: 2 * time.Second, Took: 1500 * time.Millisecond, Err: ErrRefused},
			"      +2s    (1.5s)  connect            -                    error: connection refused"},
		{Step{Op: "close", At: 3 * time.Millisecond, Local: local, Remote: remote, State: inspect.TimeWait, FromTable: true},
			"     +3ms      (0s)  close              TIME_WAIT (kernel)"},
		{Step{Op: "close", Detail: "RST", At: 500 * time.Nanosecond, FromTable: true},
			"     +1µs      (0s)  close              gone                 RST"},
	} {
		if got := tt.step.String(); got != tt.want {
			t.Errorf("String() =\n%q, want\n%q", got, tt.want)
		}
	}
}
