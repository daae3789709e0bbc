//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/internal/livetest"
	"github.com/sockleak/sockleak/run"
)

// leakyScript is a shell pipeline that runs leaky as a child of sh and
// keeps its sockets for hold: leaky holds them until its stdin (sleep's
// output) closes.
func leakyScript(t *testing.T, hold string, args ...string) string {
	t.Helper()
	return fmt.Sprintf("sleep %s | %s %s", hold, buildLeaky(t), strings.Join(args, " "))
}

func runReport(t *testing.T, args ...string) (code int, stdout, stderr string, doc run.Document) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "report.json")
	code, stdout, stderr = runMain(append([]string{"run", "--interval", "50ms", "--min-age", "300ms", "-o", "json", "--report-file", file, "--"}, args...)...)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("exit %d, no report: %v\nstderr:\n%s", code, err, stderr)
	}
	schemaCheck(t, "run", b)
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("report: %v\n%s", err, b)
	}
	return code, stdout, stderr, doc
}

func TestRunLeakingClient(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes and sockets of its own
	peer := slowPeer(t, 150*time.Millisecond)
	script := leakyScript(t, "1.5", "-addr", peer, "-n", "3", "-timeout", "30ms")
	textCmd, textOut, textErr := startSockleak(t, "run", "--interval", "50ms", "--min-age", "300ms", "--", "sh", "-c", script)
	code, stdout, stderr, d := runReport(t, "sh", "-c", script)
	if code != 1 {
		t.Errorf("exit %d, want 1 (leaks)\nstderr:\n%s", code, stderr)
	}
	if stdout != "ready\n" {
		t.Errorf("the command's stdout was not passed through: %q", stdout)
	}
	if len(d.Leaks) != 3 {
		t.Fatalf("%d leaks, want 3: %+v", len(d.Leaks), d)
	}
	for _, l := range d.Leaks {
		if l.Name != "leaky" || l.PID <= 0 || l.State != "CLOSE_WAIT" || l.Remote != peer || l.Peer != peer ||
			!strings.Contains(l.Cmdline, "-n 3") || l.HeldSeconds < 0.3 || l.Inode == 0 {
			// Open depends on whether a sample fell between leaky's
			// exit (it closes on EOF) and sh's: either is right.
			t.Errorf("leak = %+v, want leaky's CLOSE_WAIT to %s held 0.3s or more", l, peer)
		}
	}
	if d.Peak["CLOSE_WAIT"] != 3 || d.ExitCode != 0 || d.Samples < 2 || d.MaxProcesses < 2 {
		t.Errorf("peak %v, exit %d, %d samples of up to %d processes; want 3 CLOSE_WAIT, 0, 2+ samples of sh, sleep and leaky",
			d.Peak, d.ExitCode, d.Samples, d.MaxProcesses)
	}

	// The text report, on stderr, of the sockleak run started beside this
	// one (in a process of its own: two scans at once in one process would
	// race on the collector's setting).
	_, _ = io.ReadAll(textOut)
	err := textCmd.Wait()
	code, stderr = 0, textErr.String()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	}
	if code != 1 || !strings.Contains(stderr, "sockleak run: 3 sockets sat in CLOSE_WAIT for 300ms or longer (exit status 0,") ||
		!regexp.MustCompile(`\n\d+ +leaky +CLOSE_WAIT +`+regexp.QuoteMeta(peer)+` +3 +longest at least [0-9.]+m?s, (open at exit|closed)\n`).MatchString(stderr) {
		t.Errorf("text report: exit %d\n%s", code, stderr)
	}
}

func TestRunCorrectClient(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes and sockets of its own
	peer := slowPeer(t, 100*time.Millisecond)
	code, stdout, stderr, d := runReport(t, "sh", "-c", leakyScript(t, "1", "-addr", peer, "-n", "5", "-timeout", "30ms", "-close"))
	if code != 0 || len(d.Leaks) != 0 || stdout != "ready\n" {
		t.Errorf("exit %d, leaks %+v, stdout %q; want 0, none, ready\n%s", code, d.Leaks, stdout, stderr)
	}
	if d.Samples < 3 {
		t.Errorf("%d samples: the tree was not watched", d.Samples)
	}
}

func TestRunPassesCommandFailure(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on processes and sockets of its own
	peer := slowPeer(t, 150*time.Millisecond)
	// Leaks and fails: the command's status wins. The leaks are held 2 s (then stdin
	// ends and leaky closes them): long enough for the grace on a loaded host.
	code, _, stderr, d := runReport(t, "sh", "-c", leakyScript(t, "2", "-addr", peer, "-n", "2", "-timeout", "30ms")+"; exit 3")
	if code != 3 || d.ExitCode != 3 || len(d.Leaks) != 2 {
		t.Errorf("exit %d (report: %d, %d leaks), want 3 with 2 leaks reported\n%s", code, d.ExitCode, len(d.Leaks), stderr)
	}
	code, _, _, d = runReport(t, "sh", "-c", "exit 42")
	if code != 42 || len(d.Leaks) != 0 {
		t.Errorf("exit %d, want 42", code)
	}
	code, _, _, d = runReport(t, "sh", "-c", "kill -TERM $$")
	if code != 128+int(syscall.SIGTERM) || d.Signal != "SIGTERM" {
		t.Errorf("killed by SIGTERM: exit %d, signal %q; want 143, SIGTERM", code, d.Signal)
	}
}

// TestRunForwardsSignals sends SIGTERM to a sockleak run (a child
// process) while its command runs: the command must get it, and its
// status is run's. Package run tests the forwarding itself.
func TestRunForwardsSignals(t *testing.T) {
	livetest.Skip(t)
	cmd, br, stderr := startSockleak(t, "run", "--interval", "50ms", "--", "sh", "-c",
		`trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done`)
	line, err := br.ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("command did not start: %q %v\n%s", line, err, stderr.String())
	}
	// run registered for SIGTERM before it started the command.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Should forwarding break, the command would loop for ever: end the
	// group after a while, and the assertions below fail.
	stop := time.AfterFunc(10*time.Second, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer stop.Stop()
	rest, _ := io.ReadAll(br)
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 7 {
		t.Errorf("exit %v, want the command's 7\n%s", err, stderr.String())
	}
	if string(rest) != "got TERM\n" {
		t.Errorf("command output after the signal: %q", rest)
	}
}

func TestRunStdin(t *testing.T) {
	livetest.Skip(t)
	c := newRunCmd(nil)
	var out, errOut bytes.Buffer
	c.SetIn(strings.NewReader("hello\n"))
	c.SetOut(&out)
	c.SetErr(&errOut)
	c.SetArgs([]string{"sh", "-c", "read x; echo got $x"})
	if err := c.Execute(); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if out.String() != "got hello\n" {
		t.Errorf("stdin not passed through: stdout %q", out.String())
	}
}

func TestRunUsage(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		code   int
		stderr string
		runs   bool // starts a command: end to end
	}{
		{[]string{"run"}, 2, "requires at least 1 arg", false},
		{[]string{"run", "--leak-state", "bogus", "--", "true"}, 2, `invalid --leak-state: unknown TCP state "bogus"`, false},
		{[]string{"run", "--interval", "0s", "--", "true"}, 2, "invalid --interval 0s", false},
		{[]string{"run", "-o", "yaml", "--", "true"}, 2, `invalid -o "yaml"`, false},
		{[]string{"run", "--", "/nonexistent/cmd"}, 2, "could not start /nonexistent/cmd", false},
		{[]string{"run", "true"}, 0, "no socket sat in CLOSE_WAIT", true},
		{[]string{"run", "--leak-state", "fin-wait-2,last-ack", "sh", "-c", "exit 0"}, 0, "no socket sat in FIN_WAIT2 or LAST_ACK", true},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if tt.runs {
				livetest.Skip(t)
			}
			code, _, stderr := runMain(tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("%v: exit %d, stderr %q; want %d, %q", tt.args, code, stderr, tt.code, tt.stderr)
			}
		})
	}
}

// The test binary doubles as sockleak and as a command that counts its
// SIGINTs, for tests that need a process of their own (a terminal's
// session leader).
func TestHelperProcess(t *testing.T) {
	switch os.Getenv("SOCKLEAK_TEST_HELPER") {
	case "sockleak":
		// The command sockleak runs is this binary again, as the helper
		// SOCKLEAK_TEST_HELPER_CHILD names.
		os.Setenv("SOCKLEAK_TEST_HELPER", os.Getenv("SOCKLEAK_TEST_HELPER_CHILD"))
		args := os.Args
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		os.Exit(Main(args, os.Stdout, os.Stderr))
	case "sigcount", "termcount":
		sig, name, ack := syscall.SIGINT, "SIGINTs", false
		if os.Getenv("SOCKLEAK_TEST_HELPER") == "termcount" {
			// Each SIGTERM acknowledged: the test sends the next only then,
			// so two of its own cannot merge while one is pending.
			sig, name, ack = syscall.SIGTERM, "SIGTERMs", true
		}
		c := make(chan os.Signal, 10)
		signal.Notify(c, sig)
		fmt.Println("ready")
		// A second SIGINT, forwarded, comes right after the terminal's:
		// count until a moment after the last.
		n := 0
		deadline := time.After(10 * time.Second)
		for {
			select {
			case <-c:
				n++
				deadline = time.After(200 * time.Millisecond)
				if ack {
					fmt.Printf("got %d\n", n)
				}
			case <-deadline:
				fmt.Printf("%s: %d\n", name, n)
				os.Exit(0)
			}
		}
	}
}

// helperSockleak returns a command that runs this test binary as
// sockleak with args (see TestHelperProcess).
func helperSockleak(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "SOCKLEAK_TEST_HELPER=sockleak")
	return cmd
}

// startSockleak starts this test binary as sockleak with args, in a
// process group of its own, its stdout on a pipe and its stderr in a
// buffer. Cleanup kills the group (sockleak and what it started) if it
// still runs.
func startSockleak(t *testing.T, args ...string) (cmd *exec.Cmd, stdout *bufio.Reader, stderr *bytes.Buffer) {
	t.Helper()
	cmd = helperSockleak(args...)
	stdout, stderr = startGroup(t, cmd, &syscall.SysProcAttr{Setpgid: true})
	return cmd, stdout, stderr
}

// startGroup starts cmd leading a process group of its own (attr: Setpgid
// or Setsid), its stdout on a pipe and its stderr in a buffer. Cleanup
// kills the group (cmd and what it started) if it still runs.
func startGroup(t *testing.T, cmd *exec.Cmd, attr *syscall.SysProcAttr) (stdout *bufio.Reader, stderr *bytes.Buffer) {
	t.Helper()
	cmd.SysProcAttr = attr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr = &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait() // an error when the test waited already
	})
	return bufio.NewReader(out), stderr
}

// ptyRun is a command running on a pseudo-terminal of its own, as its
// session's foreground job, as in a shell.
type ptyRun struct {
	t    *testing.T
	ptmx *os.File
	out  bytes.Buffer
	done chan error // gets cmd.Wait's error once
}

// startOnPTY starts cmd on a new pseudo-terminal of size ws (nil: the
// default). Cleanup kills it if it still runs.
func startOnPTY(t *testing.T, cmd *exec.Cmd, ws *unix.Winsize) *ptyRun {
	t.Helper()
	ptmx, tty := openPTY(t)
	if ws != nil {
		if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, ws); err != nil {
			t.Fatal(err)
		}
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	// A new session whose controlling terminal is the pty: the command is
	// its foreground process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	p := &ptyRun{t: t, ptmx: ptmx, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits up to d for the command to exit, and returns its Wait error.
func (p *ptyRun) wait(d time.Duration) (exited bool, err error) {
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return true, err
	case <-time.After(d):
		return false, nil
	}
}

// read reads the terminal until its output holds until, for up to 10 s,
// and reports whether it does.
func (p *ptyRun) read(until string) bool {
	buf := make([]byte, 4096)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.out.String(), until) && time.Now().Before(deadline) {
		_ = p.ptmx.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, err := p.ptmx.Read(buf)
		p.out.Write(buf[:n])
		if err != nil && !os.IsTimeout(err) {
			break
		}
	}
	return strings.Contains(p.out.String(), until)
}

// ctrlC types ^C at the terminal.
func (p *ptyRun) ctrlC() {
	p.t.Helper()
	if _, err := p.ptmx.Write([]byte{3}); err != nil {
		p.t.Fatal(err)
	}
}

// openPTY opens a pseudo-terminal pair with x/sys/unix alone.
func openPTY(t *testing.T) (ptmx, tty *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ptmx, tty
}

// TestRunInteractiveCtrlC types ^C at a terminal where sockleak run is
// the foreground job: the command must get one SIGINT, the terminal's,
// not a second one forwarded by sockleak.
func TestRunInteractiveCtrlC(t *testing.T) {
	livetest.Skip(t)
	cmd := helperSockleak("run", "--interval", "50ms", "--", os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(cmd.Env, "SOCKLEAK_TEST_HELPER_CHILD=sigcount")
	p := startOnPTY(t, cmd, nil)
	if !p.read("ready") {
		t.Fatalf("the command did not start:\n%s", p.out.String())
	}
	p.ctrlC()
	if !p.read("sockleak run:") {
		t.Fatalf("no report:\n%s", p.out.String())
	}
	if !strings.Contains(p.out.String(), "SIGINTs: 1\r\n") {
		t.Errorf("the command should get one SIGINT from the terminal, and none forwarded:\n%s", p.out.String())
	}
}

// TestRunJSONOnStdout: -o json's document is a document: on stdout, after
// the command's own output (issue 17: it was on stderr); the text report
// stays on stderr.
func TestRunJSONOnStdout(t *testing.T) {
	livetest.Skip(t)
	code, stdout, stderr := runMain("run", "-o", "json", "--", "true")
	var d run.Document
	if err := json.Unmarshal([]byte(stdout), &d); code != 0 || err != nil || d.ExitCode != 0 || stderr != "" {
		t.Errorf("run -o json -- true: exit %d, %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	code, stdout, stderr = runMain("run", "--", "sh", "-c", "echo out")
	if code != 0 || stdout != "out\n" || !strings.Contains(stderr, "peak: CLOSE_WAIT 0") {
		t.Errorf("run -- sh -c 'echo out': exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
