package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sockleak/sockleak/internal/livetest"
)

// startDetached starts this test binary as sockleak with args in a session
// of its own, without a terminal, as a CI runner or systemd runs it
// (setsid sockleak run ...): sockleak leads its process group. Cleanup
// kills that group if it still runs.
func startDetached(t *testing.T, child string, args ...string) (pid int, stdout *bufio.Reader, stderr *bytes.Buffer) {
	t.Helper()
	cmd := helperSockleak(args...)
	cmd.Env = append(cmd.Env, "SOCKLEAK_TEST_HELPER_CHILD="+child)
	stdout, stderr = startGroup(t, cmd, &syscall.SysProcAttr{Setsid: true})
	return cmd.Process.Pid, stdout, stderr
}

// TestRunGroupSignal sends SIGTERM to the process group of a sockleak run
// that has no terminal, as a CI runner that cancels a job does (kill --
// -PGID): the command must get each once, not once from the kernel and once
// more forwarded by sockleak.
func TestRunGroupSignal(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes of its own
	pid, br, stderr := startDetached(t, "termcount", "run", "--interval", "50ms", "--", os.Args[0], "-test.run=^TestHelperProcess$")
	if line, err := br.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("the command did not start: %q %v\n%s", line, err, stderr.String())
	}
	// The kernel's signals to sockleak's group must not reach the command.
	if pgrp := childGroup(t, pid); pgrp == pid {
		t.Errorf("the command is in sockleak's process group %d", pgrp)
	}
	// A second SIGTERM that comes while the first is pending merges with
	// it, so one may hide a double delivery: send several, each once the
	// command has counted the one before (it prints "got N"). A double
	// delivery shows as a count ahead of the signals sent.
	const n = 10
	for i := 1; i <= n; i++ {
		if err := syscall.Kill(-pid, syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if line, err := br.ReadString('\n'); err != nil || line != fmt.Sprintf("got %d\n", i) {
			t.Fatalf("SIGTERM %d: the command said %q (%v), want %q", i, line, err, fmt.Sprintf("got %d", i))
		}
	}
	rest, _ := io.ReadAll(br)
	if want := fmt.Sprintf("SIGTERMs: %d\n", n); string(rest) != want {
		t.Errorf("the command should get each SIGTERM once: %q, want %q", rest, want)
	}
}

// TestRunDiesWithSockleak kills a sockleak run with SIGKILL and with
// SIGHUP, which it does not handle: its command must not run on,
// unwatched, for ever (Pdeathsig).
func TestRunDiesWithSockleak(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes of its own
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGHUP} {
		pid, br, stderr := startDetached(t, "", "run", "--interval", "50ms", "--", "sh", "-c", "echo $$; exec sleep 60")
		line, err := br.ReadString('\n')
		child, _ := strconv.Atoi(strings.TrimSpace(line))
		if err != nil || child <= 0 {
			t.Fatalf("the command did not start: %q %v\n%s", line, err, stderr.String())
		}
		// The sleep is ours to end should the test fail; by its own
		// group, as run puts it in one without a terminal.
		t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })
		if err := syscall.Kill(pid, sig); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for alive(child) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(child) {
			t.Errorf("%v to sockleak: its command (pid %d) still runs", sig, child)
		}
	}
}

// alive reports whether pid runs: it exists and is not a zombie (which,
// reparented to an init that does not reap, it may stay).
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] != 'Z'
}

// childGroup returns the process group of pid's child (its only one).
func childGroup(t *testing.T, pid int) int {
	t.Helper()
	// The thread that started it has it as its child.
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var child string
	for _, task := range tasks {
		if b, err := os.ReadFile(task); err == nil && len(bytes.TrimSpace(b)) > 0 {
			child = string(bytes.Fields(b)[0])
		}
	}
	if child == "" {
		t.Fatalf("no child of pid %d", pid)
	}
	b, err := os.ReadFile("/proc/" + child + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// After the command's name: state, parent, process group.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	pgrp, err := strconv.Atoi(f[2])
	if err != nil {
		t.Fatalf("stat of %s: %v", child, err)
	}
	return pgrp
}
