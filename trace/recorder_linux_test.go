package trace

import (
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/livetest"
)

// startOrSkip starts a recording, or skips the test with the reason.
func startOrSkip(t *testing.T, opts Options) *Recorder {
	t.Helper()
	livetest.Skip(t)
	if err := preflight(); err != nil {
		t.Skipf("cannot load BPF programs: %v", err)
	}
	r, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.close) // unloads the programs whatever the test did; again after Stop is harmless
	return r
}

// inodeOf is the socket:[inode] of a connection.
func inodeOf(t *testing.T, c syscall.Conn) uint64 {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.Fstat(int(fd), &st) }); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	return st.Ino
}

// loopback listens on loopback for a test, closed at its end.
func loopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// connPair dials ln without keepalive (a probe would reset a socket left
// in CLOSE_WAIT) and accepts: the client's end and the server's, closed
// at the test's end.
func connPair(t *testing.T, ln net.Listener) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	d := net.Dialer{KeepAlive: -1}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a, err := ln.Accept()
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); a.Close() })
	return c.(*net.TCPConn), a.(*net.TCPConn)
}

// TestRecorderCloseWait: a connection whose peer closes is recorded with
// its opener, its stack and the moment it entered CLOSE_WAIT; one closed
// on both sides leaves the table.
func TestRecorderCloseWait(t *testing.T) {
	r := startOrSkip(t, Options{PID: os.Getpid()})
	ln := loopback(t)
	leak, peer := connPair(t, ln)
	closed := time.Now()
	peer.Close()
	done, p2 := connPair(t, ln)
	done.Close()
	p2.Close()
	waitState(t, leak, inspect.CloseWait)
	rec, err := r.Stop()
	if err != nil {
		t.Fatal(err)
	}
	ino := inodeOf(t, leak)
	var got *Socket
	for i := range rec.Sockets {
		if rec.Sockets[i].Inode == ino {
			got = &rec.Sockets[i]
		}
	}
	if got == nil {
		t.Fatalf("inode %d not recorded; %d sockets recorded, counters %+v", ino, len(rec.Sockets), rec.Counters)
	}
	if got.State != inspect.CloseWait || !got.Exact || got.TGID != os.Getpid() || len(got.Stack) < 5 {
		t.Errorf("recorded %+v", got)
	}
	if d := got.Since.Sub(closed); d < -5*time.Millisecond || d > 50*time.Millisecond {
		t.Errorf("CLOSE_WAIT since %v, peer closed at %v (%v apart)", got.Since, closed, d)
	}
	if rec.Counters.Opened < 4 || rec.Counters.Closed < 2 || rec.Counters.DroppedFull != 0 {
		t.Errorf("counters %+v", rec.Counters)
	}
	t.Logf("counters %+v, %d sockets left", rec.Counters, len(rec.Sockets))
}

// waitState polls the kernel until c is in state.
func waitState(t *testing.T, c *net.TCPConn, want inspect.TCPState) {
	t.Helper()
	rc, _ := c.SyscallConn()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		var state uint8
		_ = rc.Control(func(fd uintptr) {
			if info, err := getTCPInfo(int(fd)); err == nil {
				state = info
			}
		})
		if inspect.TCPState(state) == want {
			return
		}
	}
	t.Fatalf("socket never reached %v", want)
}

// TestExactAgesLive: a socket in CLOSE_WAIT that keeps sending (its peer
// only shut down its side, and acknowledges what comes) refreshes the
// kernel's bound (the last ACK received) to almost nothing; the recording
// still knows when it entered CLOSE_WAIT.
func TestExactAgesLive(t *testing.T) {
	r := startOrSkip(t, Options{PID: os.Getpid()})
	c, p := connPair(t, loopback(t))
	finAt := time.Now()
	if err := p.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	waitState(t, c, inspect.CloseWait)
	time.Sleep(1500 * time.Millisecond)
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1)
	if _, err := p.Read(buf); err != nil { // the peer has it: its ACK is on the way
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	fsys, err := inspect.NewFS(inspect.DefaultRoot)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := inspect.Scan(t.Context(), fsys, inspect.Options{PIDs: []int{os.Getpid()}, States: []inspect.TCPState{inspect.CloseWait}, Backend: inspect.BackendNetlink})
	if err != nil {
		t.Fatal(err)
	}
	ino := inodeOf(t, c)
	var s *inspect.Socket
	for i := range snap.Sockets {
		if snap.Sockets[i].Inode == ino {
			s = &snap.Sockets[i]
		}
	}
	if s == nil || !s.HasAge || s.AgeMs > 500 {
		t.Fatalf("the kernel's bound should be refreshed by the ACK: %+v", s)
	}
	live, err := r.Peek()
	if err != nil {
		t.Fatal(err)
	}
	if n := ExactAges(snap, live); n < 1 {
		t.Fatalf("ExactAges set %d sockets", n)
	}
	want := snap.Time.Sub(finAt)
	if got := time.Duration(s.AgeMs) * time.Millisecond; got < want-50*time.Millisecond || got > want+5*time.Millisecond {
		t.Errorf("exact age %v, want %v (since the FIN) within 50 ms", got, want)
	}
}

// TestRecorderBounded: the table holds MaxSockets sockets open at once;
// more are counted as dropped, and closed ones make room again.
func TestRecorderBounded(t *testing.T) {
	const capacity = 4
	r := startOrSkip(t, Options{PID: os.Getpid(), MaxSockets: capacity})
	// Go listens with MPTCP where the kernel has it (IPPROTO_MPTCP, not
	// TCP: not recorded); connections from a plain TCP client fall back
	// to TCP sockets, which are.
	ln := loopback(t)
	var held []*net.TCPConn
	for range 5 { // 10 sockets: dialled and accepted
		c, a := connPair(t, ln)
		held = append(held, c, a)
	}
	for _, c := range held[:4] { // two connections closed: their sockets leave
		c.Close()
	}
	time.Sleep(20 * time.Millisecond)
	for range 2 { // room again for these four
		c, a := connPair(t, ln)
		held = append(held, c, a)
	}
	rec, err := r.Stop()
	if err != nil {
		t.Fatal(err)
	}
	c := rec.Counters
	// Opened counts Go's first Listen probing IPv6 support with sockets
	// of its own, closed at once.
	if c.Opened < 14 || c.DroppedFull != 6 || len(rec.Sockets) != capacity || rec.Capacity != capacity {
		t.Errorf("opened %d, dropped %d, %d in the table (capacity %d); want 14+, 6, %d", c.Opened, c.DroppedFull, len(rec.Sockets), rec.Capacity, capacity)
	}
	want := map[uint64]bool{}
	for _, c := range held[10:] {
		want[inodeOf(t, c)] = true
	}
	for _, s := range rec.Sockets {
		if !want[s.Inode] {
			t.Errorf("inode %d in the table, want only the last four sockets' %v", s.Inode, want)
		}
	}
}
