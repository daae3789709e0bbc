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

// TestRecorderCloseWait: a connection whose peer closes is recorded with
// its opener, its stack and the moment it entered CLOSE_WAIT; one closed
// on both sides leaves the table.
func TestRecorderCloseWait(t *testing.T) {
	r := startOrSkip(t, Options{PID: os.Getpid()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := net.Dialer{KeepAlive: -1}
	leak, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer leak.Close()
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	closed := time.Now()
	peer.Close()
	done, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := ln.Accept()
	done.Close()
	p2.Close()
	waitState(t, leak.(*net.TCPConn), inspect.CloseWait)
	rec, err := r.Stop()
	if err != nil {
		t.Fatal(err)
	}
	ino := inodeOf(t, leak.(*net.TCPConn))
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
