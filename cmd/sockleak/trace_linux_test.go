package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sockleak/sockleak/internal/bpfkit"
	"github.com/sockleak/sockleak/internal/livetest"
)

// TestTraceWithoutPrivileges: run as nobody, with no capability, trace
// says what it lacks and exits 2, before loading anything.
func TestTraceWithoutPrivileges(t *testing.T) {
	bin := buildOnce(t, ".")
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) not in PATH: cannot drop privileges")
	}
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
		bin, "trace", "--duration", "1s")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitError {
		t.Fatalf("exit: %v, want status %d\n%s", err, exitError, stderr.String())
	}
	for _, want := range []string{"CAP_BPF", "CAP_PERFMON", "CAP_SYS_PTRACE"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not name %s: %q", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "recording") {
		t.Errorf("it started recording: %q", stderr.String())
	}
}

// TestWatchTrace: watch --trace samples as watch does and, at the end,
// reports trace's findings on stderr.
func TestWatchTrace(t *testing.T) {
	livetest.Skip(t)
	if err := bpfkit.Check(bpfkit.TraceCaps...); err != nil {
		t.Skipf("cannot load BPF programs: %v", err)
	}
	var out, errOut bytes.Buffer
	code := Main([]string{"watch", "--trace", "--pid", fmt.Sprint(os.Getpid()), "--count", "2", "--interval", "500ms", "-o", "json"}, &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Errorf("%d JSON lines, want 2:\n%s", n, out.String())
	}
	if !strings.Contains(errOut.String(), "sockleak trace: recorded") || !strings.Contains(errOut.String(), "counters:") {
		t.Errorf("no trace report on stderr: %q", errOut.String())
	}
}
