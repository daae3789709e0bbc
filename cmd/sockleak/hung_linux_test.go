//go:build linux

package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/internal/livetest"
	"github.com/sockleak/sockleak/report"
)

// listenerChildEnv makes this test binary a server that listens on a
// loopback port with a small backlog, prints the port and never accepts
// (see init). init runs before TestMain, so the child does nothing of the
// tests'.
const listenerChildEnv = "SOCKLEAK_TEST_LISTENER_BACKLOG"

// hungBacklog is the listener child's backlog: small, so that a few
// clients fill its accept queue.
const hungBacklog = 8

func init() {
	if b := os.Getenv(listenerChildEnv); b != "" {
		backlog, _ := strconv.Atoi(b)
		if err := listenNeverAccept(backlog); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// listenNeverAccept listens on 127.0.0.1 with the given backlog (net.Listen
// takes the system's maximum), prints the port, and blocks for good.
func listenNeverAccept(backlog int) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return err
	}
	if err := unix.Listen(fd, backlog); err != nil {
		return err
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return err
	}
	fmt.Println(sa.(*unix.SockaddrInet4).Port)
	select {} // never accepts
}

// startHungServer starts the listener child and stops it with SIGSTOP, as
// a long pause, a deadlock or a debugger would freeze a server. Cleanup
// resumes and kills it.
func startHungServer(t *testing.T) (pid, port int) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), listenerChildEnv+"="+strconv.Itoa(hungBacklog))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the listener child's port: %v", err)
	}
	if port, err = strconv.Atoi(strings.TrimSpace(line)); err != nil {
		t.Fatalf("the listener child's port: %q: %v", line, err)
	}
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid, port
}

// giveUp connects n clients to addr at once; each that gets in sends a
// request, waits a moment for an answer that never comes and closes, as a
// client with a timeout does. It returns how many got in: the kernel
// completes the handshakes the accept queue has room for (the backlog and
// one more) and drops the rest's SYNs, which then time out.
func giveUp(t *testing.T, addr string, n int) int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	in := 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{Timeout: 500 * time.Millisecond, KeepAlive: -1}
			c, err := d.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer c.Close()
			mu.Lock()
			in++
			mu.Unlock()
			_, _ = c.Write([]byte("hello\n"))
			_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			var b [16]byte
			if _, err := c.Read(b[:]); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("a client of the stopped server read: %v, want a timeout", err)
			}
		}()
	}
	wg.Wait()
	return in
}

// TestHungServer: a server stopped with SIGSTOP while clients connect and
// give up. Its accept queue fills with connections it never accepted,
// in CLOSE_WAIT once their clients closed: inspect --pid names the port,
// the queued count and the backlog, and says the process is stopped; check
// --pid fails for it.
func TestHungServer(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes and sockets of its own
	pid, port := startHungServer(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if in := giveUp(t, addr, 2*hungBacklog); in != hungBacklog+1 {
		t.Logf("%d clients got into the accept queue, expected the backlog and one more (%d)", in, hungBacklog+1)
	}
	p := strconv.Itoa(pid)

	// The clients' FINs reach the queued sockets at once, on loopback;
	// poll a moment in case the machine is busy.
	var f *report.FindingDoc
	var d report.Document
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		d = inspectJSON(t, "--pid", p)
		for i := range d.Findings {
			if d.Findings[i].Kind == report.KindAcceptQueue {
				f = &d.Findings[i]
			}
		}
		if f != nil && strings.Contains(f.Message, "CLOSE_WAIT") {
			break
		}
	}
	if f == nil {
		t.Fatalf("inspect --pid %d: no accept_queue finding: %+v", pid, d.Findings)
	}
	var queued, backlog uint64
	for _, s := range d.Sockets {
		if s.State == "LISTEN" && s.Local == addr {
			queued, backlog = s.RxQueue, s.TxQueue
		}
	}
	if backlog != hungBacklog || queued == 0 {
		t.Errorf("the listener's queue %d and backlog %d, want some queued and a backlog of %d", queued, backlog, hungBacklog)
	}
	for _, want := range []string{addr, strconv.FormatUint(queued, 10) + " connections wait", strconv.Itoa(hungBacklog), "stopped", "CLOSE_WAIT"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("accept_queue finding %q lacks %q", f.Message, want)
		}
	}
	if f.PID != pid || f.Severity != "critical" {
		t.Errorf("accept_queue finding = %+v, want pid %d, critical", f, pid)
	}
	if len(d.Processes) != 1 || d.Processes[0].ProcessState != "T" {
		t.Errorf("processes = %+v, want pid %d in state T", d.Processes, pid)
	}

	code, stdout, stderr := runMain("check", "--pid", p)
	if code != 1 || !strings.Contains(stdout, addr) {
		t.Errorf("check --pid %d of the stopped server: exit %d, want 1 naming %s\n%s%s", pid, code, addr, stdout, stderr)
	}
}
