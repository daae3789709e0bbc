package main

import (
	"bufio"
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sockleak/sockleak/internal/livetest"
)

// TestCheckSignalDuringWait stops a check during its --min-age wait, as
// systemd or a monitoring agent's timeout does: it must not die by the
// signal with nothing printed. A Nagios plugin prints UNKNOWN and exits
// 3; otherwise check exits 2 and says why.
func TestCheckSignalDuringWait(t *testing.T) {
	livetest.Skip(t)
	t.Parallel() // it mostly waits, on a process of its own
	for _, tt := range []struct {
		sig    syscall.Signal
		output string
		code   int
		stdout string
		stderr string
	}{
		{syscall.SIGTERM, "nagios", 3, "SOCKLEAK UNKNOWN - stopped by a signal before the check was done: no result\n", ""},
		{syscall.SIGINT, "nagios", 3, "SOCKLEAK UNKNOWN - stopped by a signal before the check was done: no result\n", ""},
		{syscall.SIGTERM, "text", 2, "", "sockleak: stopped by a signal before the check was done: no result\n"},
	} {
		// -v says when the first sample is taken: then check waits for
		// the second (the fixtures' sockets carry no age bound).
		cmd := helperSockleak("check", "-v", "--proc-root", incidentClient, "--min-age", "1m", "-o", tt.output)
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		errPipe, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stop := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
		br := bufio.NewReader(errPipe)
		if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, "read sockets") {
			t.Fatalf("no first sample: %q %v", line, err)
		}
		if err := cmd.Process.Signal(tt.sig); err != nil {
			t.Fatal(err)
		}
		var rest bytes.Buffer
		_, _ = rest.ReadFrom(br)
		err = cmd.Wait()
		stop.Stop()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode() // -1 when the signal killed it
		}
		if code != tt.code || stdout.String() != tt.stdout || rest.String() != tt.stderr {
			t.Errorf("%v during check -o %s's wait: exit %d, stdout %q, stderr %q; want %d, %q, %q",
				tt.sig, tt.output, code, stdout.String(), rest.String(), tt.code, tt.stdout, tt.stderr)
		}
	}
}
