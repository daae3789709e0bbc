package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

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

// lockedBuffer is a buffer written by a command running in another
// goroutine while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestWatchTrace: watch --trace samples as watch does; a process that
// starts leaking after it began fires an alert that names the code that
// opened the sockets, and at the end trace's report is on stderr.
func TestWatchTrace(t *testing.T) {
	livetest.Skip(t)
	if err := bpfkit.Check(bpfkit.TraceCaps...); err != nil {
		t.Skipf("cannot load BPF programs: %v", err)
	}
	buildLeaky(t) // before the watch's clock starts
	peer := slowPeer(t, 150*time.Millisecond)
	var out, errOut lockedBuffer
	code := make(chan int, 1)
	go func() {
		code <- Main([]string{"watch", "--trace", "--name", "leaky", "--count", "8", "--interval", "500ms",
			"--close-wait", "1", "-o", "json"}, &out, &errOut)
	}()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "\n"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no first sample: %s", errOut.String())
		}
	}
	startLeaky(t, "-addr", peer, "-n", "2", "-timeout", "20ms")
	if c := <-code; c != exitOK {
		t.Fatalf("exit %d: %s", c, errOut.String())
	}
	var alert struct {
		Status   string `json:"status"`
		OpenedBy string `json:"opened_by"`
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		schemaCheck(t, "watch-line", []byte(line))
		if !strings.Contains(line, `"type":"alert"`) {
			continue
		}
		alert.Status, alert.OpenedBy = "", ""
		if err := json.Unmarshal([]byte(line), &alert); err != nil {
			t.Fatal(err)
		}
		if alert.Status != "firing" {
			continue
		}
		found = true
		if !strings.HasPrefix(alert.OpenedBy, "github.com/sockleak/sockleak/client.(*exchange).dial (") {
			t.Errorf("alert without the opener: %s", line)
		}
	}
	if !found {
		t.Errorf("no alert:\n%s", out.String())
	}
	if !strings.Contains(errOut.String(), "sockleak trace: recorded") || !strings.Contains(errOut.String(), "opened by github.com/sockleak/sockleak/client.(*exchange).dial") {
		t.Errorf("no trace report on stderr: %q", errOut.String())
	}
}
