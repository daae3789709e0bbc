package trace

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/symbolize"
)

// closingPeer accepts connections on loopback, reads what comes for
// delay, then closes each, and remembers when, by the client's port.
type closingPeer struct {
	ln     net.Listener
	delay  time.Duration
	mu     sync.Mutex
	closed map[uint16]time.Time
	wg     sync.WaitGroup
}

func newClosingPeer(t *testing.T, delay time.Duration) *closingPeer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &closingPeer{ln: ln, delay: delay, closed: map[uint16]time.Time{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *closingPeer) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			// Read the request before closing: unread data would make the
			// close a reset, not a FIN.
			_ = c.SetReadDeadline(time.Now().Add(p.delay))
			_, _ = io.Copy(io.Discard, c)
			port := c.RemoteAddr().(*net.TCPAddr).AddrPort().Port()
			p.mu.Lock()
			p.closed[port] = time.Now()
			p.mu.Unlock()
			c.Close()
		}()
	}
}

func (p *closingPeer) closedAt(port uint16) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.closed[port]
	return t, ok
}

// runHolder starts a program that leaks n connections to the peer, waits
// for its "ready" and returns it; it ends when the test does.
func runHolder(t *testing.T, ready string, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if sc.Text() == ready {
			return cmd
		}
	}
	t.Fatalf("%s ended before saying %q", name, ready)
	return nil
}

// finish stops the recording and reports pid's CLOSE_WAIT sockets once
// the peer has closed all n.
func finish(t *testing.T, r *Recorder, p *closingPeer, pid, n int) *Report {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		p.mu.Lock()
		done := len(p.closed) >= n
		p.mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the peer closed %d connections of %d", len(p.closed), n)
		}
	}
	time.Sleep(20 * time.Millisecond) // the FINs cross loopback
	fsys, err := inspect.NewFS(inspect.DefaultRoot)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := r.Finish(t.Context(), fsys, inspect.Options{PIDs: []int{pid}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Groups) != 1 || rep.Groups[0].Count != n {
		var b strings.Builder
		_ = WriteText(&b, rep)
		t.Fatalf("want one group of %d sockets:\n%s", n, b.String())
	}
	return rep
}

// checkTimes: each socket entered CLOSE_WAIT within 50 ms of the moment
// the peer closed it, and the trace saw it happen.
func checkTimes(t *testing.T, g Group, p *closingPeer) {
	t.Helper()
	checked, worst := 0, time.Duration(0)
	for _, h := range g.Sockets {
		port := mustPort(t, h.Local)
		closed, ok := p.closedAt(port)
		if !ok {
			t.Errorf("%s: the peer never closed it", h.Local)
			continue
		}
		d := h.Since.Sub(closed)
		worst = max(worst, d.Abs())
		if !h.Exact || d < -time.Millisecond || d > 50*time.Millisecond {
			t.Errorf("%s: CLOSE_WAIT since %s (exact %v), peer closed at %s: %v apart",
				h.Local, clock(h.Since), h.Exact, clock(closed), d)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no socket checked")
	}
	t.Logf("%d sockets: entry in CLOSE_WAIT at most %v from the peer's close", checked, worst)
}

func mustPort(t *testing.T, addr string) uint16 {
	t.Helper()
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return uint16(a.Port)
}

// markedLine is the line of file holding "LINE:mark".
func markedLine(t *testing.T, file, mark string) int {
	t.Helper()
	return lineOf(t, file, "LINE:"+mark+" ")
}

// lineOf is the first line of file that holds text.
func lineOf(t *testing.T, file, text string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, text) {
			return i + 1
		}
	}
	t.Fatalf("%s: no %q", file, text)
	return 0
}

// frameAt finds fn in the stack; -1 when it is not there.
func frameAt(st []symbolize.Frame, fn string) int {
	for i, f := range st {
		if f.Function == fn {
			return i
		}
	}
	return -1
}

// TestTraceGoClient: the repository's leaky Go client leaks while the
// trace runs; the report names the Go function that opened the sockets
// with its file:line, the leaky Send above it, and each socket's entry in
// CLOSE_WAIT within 50 ms of its peer's close. Built as go build does, and
// with -ldflags=-s -w (no symbol table, no DWARF: the pclntab alone,
// whose inline tree gives the same frames as DWARF, inlined ones too).
func TestTraceGoClient(t *testing.T) {
	var stacks [][]string
	for _, tt := range []struct{ name, ldflags string }{{"dwarf", ""}, {"stripped", "-s -w"}} {
		t.Run(tt.name, func(t *testing.T) {
			r := startOrSkip(t, Options{})
			bin := filepath.Join(t.TempDir(), "leaky")
			if out, err := exec.Command("go", "build", "-ldflags="+tt.ldflags, "-o", bin, "../testdata/leaky").CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			const n = 3
			p := newClosingPeer(t, 150*time.Millisecond)
			cmd := runHolder(t, "ready", bin, "-addr", p.ln.Addr().String(), "-n", "3", "-timeout", "50ms")
			rep := finish(t, r, p, cmd.Process.Pid, n)
			g := rep.Groups[0]
			checkGoStack(t, g)
			checkTimes(t, g, p)
			var names []string
			for _, f := range g.Stack.Frames {
				names = append(names, fmt.Sprintf("%s %s:%d inlined:%v", f.Function, f.File, f.Line, f.Inlined))
			}
			stacks = append(stacks, names)
		})
	}
	if len(stacks) == 2 && !slices.Equal(stacks[0], stacks[1]) {
		t.Errorf("the stripped build's frames differ from the DWARF build's:\n%s\n---\n%s",
			strings.Join(stacks[0], "\n"), strings.Join(stacks[1], "\n"))
	}
}

// checkGoStack: client.(*exchange).dial opened the sockets at its
// DialContext line, called by LeakyClient.Send at x.dial(), and the stack
// ends where the goroutine started.
func checkGoStack(t *testing.T, g Group) {
	t.Helper()
	clientGo, _ := filepath.Abs("../client/client.go")
	leakyGo, _ := filepath.Abs("../client/leaky.go")
	by := g.OpenedBy
	if by == nil || by.Function != "github.com/sockleak/sockleak/client.(*exchange).dial" ||
		by.File != clientGo || by.Line != lineOf(t, clientGo, ".DialContext(x.ctx") {
		t.Errorf("opened by %v, want client.(*exchange).dial at %s:%d", by, clientGo, lineOf(t, clientGo, ".DialContext(x.ctx"))
	}
	i := frameAt(g.Stack.Frames, "github.com/sockleak/sockleak/client.(*LeakyClient).Send")
	if i < 0 || g.Stack.Frames[i].File != leakyGo || g.Stack.Frames[i].Line != lineOf(t, leakyGo, "x.dial()") {
		t.Errorf("LeakyClient.Send not in the stack at leaky.go's x.dial(): %v", g.Stack.Frames)
	}
	if last := g.Stack.Frames[len(g.Stack.Frames)-1]; last.Function != "runtime.goexit" || g.Stack.CutShort {
		t.Errorf("stack does not end at runtime.goexit: %s (%s)", last, g.Stack.Note)
	}
}

// TestTraceC: a C program built with -O2 -g -fno-omit-frame-pointer whose
// static open_conn, inlined into main, calls socket(): the report names
// open_conn at the socket() line, inlined, with main's call below it.
func TestTraceC(t *testing.T) {
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("no C compiler (gcc) on PATH")
	}
	r := startOrSkip(t, Options{})
	src, _ := filepath.Abs("testdata/opener.c")
	bin := filepath.Join(t.TempDir(), "opener")
	if out, err := exec.Command(cc, "-O2", "-g", "-fno-omit-frame-pointer", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	const n = 4
	p := newClosingPeer(t, 20*time.Millisecond)
	host, port, _ := net.SplitHostPort(p.ln.Addr().String())
	cmd := runHolder(t, "ready", bin, host, port, "4")
	rep := finish(t, r, p, cmd.Process.Pid, n)
	g := rep.Groups[0]
	by := g.OpenedBy
	if by == nil || by.Function != "open_conn" || !by.Inlined || by.File != src || by.Line != markedLine(t, src, "socket") {
		t.Errorf("opened by %+v, want open_conn (inlined) at %s:%d", by, src, markedLine(t, src, "socket"))
	}
	i := frameAt(g.Stack.Frames, "open_conn")
	if i < 0 || i+1 >= len(g.Stack.Frames) || g.Stack.Frames[i+1].Function != "main" || g.Stack.Frames[i+1].Line != markedLine(t, src, "call") {
		t.Errorf("main's call of open_conn not below it: %v", g.Stack.Frames)
	}
	if last := g.Stack.Frames[len(g.Stack.Frames)-1]; last.Function != "main" || g.Stack.CutShort {
		t.Errorf("stack does not end at main: %v (%s)", g.Stack.Frames, g.Stack.Note)
	}
	checkTimes(t, g, p)
}
