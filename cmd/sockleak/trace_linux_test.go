package main

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"
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
