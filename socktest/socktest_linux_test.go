package socktest

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockleak/sockleak/internal/livetest"
)

// listen opens a listener on 127.0.0.1, closed at cleanup.
func listen(t *testing.T, lc *net.ListenConfig) net.Listener {
	t.Helper()
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// connect dials ln with d and accepts: the two ends of a new
// connection, closed at cleanup.
func connect(t testing.TB, d *net.Dialer, ln net.Listener) (c, a net.Conn) {
	t.Helper()
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if a, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return c, a
}

// closeWait dials ln with d and closes the server's end: the returned
// client end is in CLOSE_WAIT once Find sees it. It is closed at cleanup.
func closeWait(t *testing.T, d *net.Dialer, ln net.Listener) net.Conn {
	t.Helper()
	c, a := connect(t, d, ln)
	a.Close()
	// Reading EOF means the FIN is in: the socket is in CLOSE_WAIT.
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read from the closed peer: %v, want EOF", err)
	}
	return c
}

// leakedCloseWait returns a baseline and, opened since, a connection in
// CLOSE_WAIT, alone: its listener is closed.
func leakedCloseWait(t *testing.T) (Option, net.Conn) {
	t.Helper()
	base := IgnoreCurrent()
	ln := listen(t, &net.ListenConfig{KeepAlive: -1})
	c := closeWait(t, &net.Dialer{KeepAlive: -1}, ln)
	ln.Close()
	return base, c
}

// wantLeaks fails t unless err lists each of want and none of bad.
func wantLeaks(t *testing.T, err error, want, bad []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Find found no leak; want %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the message lacks %q:\n%v", w, err)
		}
	}
	for _, b := range bad {
		if strings.Contains(err.Error(), b) {
			t.Errorf("the message names %q:\n%v", b, err)
		}
	}
}

// TestFindCloseWaitAndListener: a connection left in CLOSE_WAIT and a
// listener opened since the baseline are leaks, named with their state,
// addresses, age and descriptor; closing them passes.
func TestFindCloseWaitAndListener(t *testing.T) {
	livetest.Skip(t)
	base := IgnoreCurrent()
	ln := listen(t, &net.ListenConfig{KeepAlive: -1})
	c := closeWait(t, &net.Dialer{KeepAlive: -1}, ln)
	err := Find(base, MaxWait(0))
	wantLeaks(t, err, []string{
		"socktest: 2 leaked sockets:",
		"CLOSE_WAIT " + c.LocalAddr().String() + " → " + ln.Addr().String() + ", in CLOSE_WAIT for at least ",
		"the peer closed it; only a close() by this process ends CLOSE_WAIT",
		"LISTEN " + ln.Addr().String() + ", fd ",
		"opened since the baseline and still open",
	}, nil)
	c.Close()
	ln.Close()
	if err := Find(base, MaxWait(0)); err != nil {
		t.Errorf("after Close: %v", err)
	}
}

// TestFindWithoutBaseline: with no baseline, every socket open at the
// end is a leak, however old.
func TestFindWithoutBaseline(t *testing.T) {
	livetest.Skip(t)
	ln := listen(t, &net.ListenConfig{KeepAlive: -1})
	wantLeaks(t, Find(MaxWait(0)), []string{"LISTEN " + ln.Addr().String() + ", fd ", "still open at the end"}, nil)
}

// TestFindIgnores: each ignore option allows what it names, and only
// that.
func TestFindIgnores(t *testing.T) {
	livetest.Skip(t)
	base := IgnoreCurrent()
	ln := listen(t, &net.ListenConfig{KeepAlive: -1})
	c := closeWait(t, &net.Dialer{KeepAlive: -1}, ln)
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	cw, lis := "CLOSE_WAIT "+c.LocalAddr().String(), "LISTEN "+ln.Addr().String()
	for _, tc := range []struct {
		name      string
		opts      []Option
		want, bad []string
	}{
		{"port", []Option{IgnorePorts(port)}, nil, []string{cw, lis}},
		{"another port", []Option{IgnorePorts(port + 1)}, []string{cw, lis}, nil},
		{"peer", []Option{IgnorePeers(ln.Addr().String())}, []string{lis}, []string{cw}},
		{"peer prefix", []Option{IgnorePeers("127.0.0.0/8")}, []string{lis}, []string{cw}},
		{"another peer", []Option{IgnorePeers("::1")}, []string{cw, lis}, nil},
		{"listeners", []Option{IgnoreListeners()}, []string{cw}, []string{lis}},
		{"states", []Option{IgnoreStates("close-wait")}, []string{lis}, []string{cw}},
		{"all", []Option{IgnoreListeners(), IgnoreStates("CLOSE_WAIT")}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Find(append([]Option{base, MaxWait(0)}, tc.opts...)...)
			if len(tc.want) == 0 {
				if err != nil {
					t.Errorf("want no leak, got %v", err)
				}
				return
			}
			wantLeaks(t, err, tc.want, tc.bad)
		})
	}
}

// TestFindBadOptions: an option that does not parse fails the check,
// saying which.
func TestFindBadOptions(t *testing.T) {
	err := Find(IgnorePeers("10.0.0.0/33"), IgnoreStates("CLOSED_WAIT"))
	for _, w := range []string{`socktest: IgnorePeers: invalid peer "10.0.0.0/33"`, `socktest: IgnoreStates: unknown TCP state "CLOSED_WAIT"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Find: %v; want %q", err, w)
		}
	}
}

// TestFindWaitsForAsynchronousClose: a connection closed by another
// goroutine a little later, as a server's shutdown does, is not a leak;
// the check looked more than once before it passed.
func TestFindWaitsForAsynchronousClose(t *testing.T) {
	livetest.Skip(t)
	base, c := leakedCloseWait(t)
	if Find(base, MaxWait(0)) == nil {
		t.Fatal("the connection is not seen before it is closed")
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	const after = 50 * time.Millisecond
	go func() {
		defer wg.Done()
		time.Sleep(after)
		c.Close()
	}()
	start := time.Now()
	if err := Find(base, MaxWait(10*time.Second)); err != nil {
		t.Fatalf("Find: %v", err)
	}
	if waited := time.Since(start); waited < after {
		t.Errorf("Find passed after %v, before the close at %v", waited, after)
	}
}

// TestFindDeadline: a connection that is never closed is reported once
// MaxWait has passed, not before.
func TestFindDeadline(t *testing.T) {
	livetest.Skip(t)
	base, c := leakedCloseWait(t)
	const wait = 150 * time.Millisecond
	start := time.Now()
	err := Find(base, MaxWait(wait))
	if waited := time.Since(start); waited < wait {
		t.Errorf("Find gave up after %v, before MaxWait %v", waited, wait)
	}
	wantLeaks(t, err, []string{"socktest: 1 leaked socket, still there after ", "CLOSE_WAIT " + c.LocalAddr().String()}, nil)
}

// TestOpeningStacks: sockets opened through Control or Track are
// reported with the test's lines that opened them; a connection accepted
// on a tracked listener, with the listener's.
func TestOpeningStacks(t *testing.T) {
	livetest.Skip(t)
	// A shared server's listener, opened before the baseline: the
	// connections it accepts since are still attributed to it.
	tracked, err := Track(net.Listen("tcp", "127.0.0.1:0"))
	if err != nil {
		t.Fatal(err)
	}
	defer tracked.Close()
	base := IgnoreCurrent()
	ln := listen(t, &net.ListenConfig{KeepAlive: -1, Control: Control})
	c := closeWait(t, &net.Dialer{KeepAlive: -1, Control: Control}, ln)
	_, server := connect(t, &net.Dialer{KeepAlive: -1}, tracked)
	err = Find(base, MaxWait(0))
	wantLeaks(t, err, []string{
		"CLOSE_WAIT " + c.LocalAddr().String() + " → " + ln.Addr().String(),
		"opened at github.com/sockleak/sockleak/socktest.connect (", "github.com/sockleak/sockleak/socktest.closeWait (",
		"socktest_linux_test.go:",
		"github.com/sockleak/sockleak/socktest.TestOpeningStacks (",
		"ESTABLISHED " + server.LocalAddr().String() + " → " + server.RemoteAddr().String(),
		"accepted on the listener opened at github.com/sockleak/sockleak/socktest.TestOpeningStacks (",
	}, []string{"net.(*Dialer)", "syscall.", "runtime.", "socktest.Control", "testing.tRunner"})
	t.Log(err)
}

// TestTransportStack: a connection an http.Transport keeps idle is
// reported with the line of the request that dialled it, and the
// transport's CloseIdleConnections, through the client, ends the leak.
func TestTransportStack(t *testing.T) {
	livetest.Skip(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	base := IgnoreCurrent()
	tr := &http.Transport{DialContext: (&net.Dialer{KeepAlive: -1}).DialContext}
	client := &http.Client{Transport: Transport(tr)}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	err = Find(base, MaxWait(0), IgnorePorts(uint16(srv.Listener.Addr().(*net.TCPAddr).Port)))
	if err != nil {
		t.Fatalf("the test server's port is ignored, yet: %v", err)
	}
	err = Find(base, MaxWait(0), IgnoreListeners())
	wantLeaks(t, err, []string{
		" → " + srv.Listener.Addr().String() + ", idle ",
		"opened at github.com/sockleak/sockleak/socktest.TestTransportStack (",
	}, []string{"net/http."})
	client.CloseIdleConnections()
	if err := Find(base, IgnoreListeners()); err != nil {
		t.Errorf("after CloseIdleConnections: %v", err)
	}
}

// TestFindResetSocket: a connection the peer reset has left the kernel's
// tables, but a descriptor still holds it (in CLOSE): that is a leak too.
func TestFindResetSocket(t *testing.T) {
	livetest.Skip(t)
	ln := listen(t, &net.ListenConfig{KeepAlive: -1})
	base := IgnoreCurrent()
	c, a := connect(t, &net.Dialer{KeepAlive: -1}, ln)
	a.(*net.TCPConn).SetLinger(0)
	a.Close() // RST
	if _, err := c.Read(make([]byte, 1)); err == nil || err == io.EOF {
		t.Fatalf("read after the reset: %v, want an error", err)
	}
	wantLeaks(t, Find(base, MaxWait(0)), []string{"socktest: 1 leaked socket:", "CLOSE " + c.LocalAddr().String()}, nil)
}
