package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sockleak/sockleak/internal/bpfkit"
	"github.com/sockleak/sockleak/internal/livetest"
)

// TestBackendBPFEndToEnd: inspect and check with --backend bpf say what
// the netlink backend says about a leaking process, and -v names the
// backend.
func TestBackendBPFEndToEnd(t *testing.T) {
	livetest.Skip(t)
	if err := bpfkit.Check(bpfkit.SnapshotCaps...); err != nil {
		t.Skipf("the bpf backend cannot run here: %v", err)
	}
	peer := slowPeer(t, 150*time.Millisecond)
	pid := startLeaky(t, "-addr", peer, "-n", "5", "-timeout", "10ms", "-fd-limit", "64")
	waitCloseWait(t, pid, 5)
	out := map[string]any{}
	for _, b := range []string{"netlink", "bpf"} {
		code, stdout, stderr := runMain("check", "--backend", b, "--pid", strconv.Itoa(pid), "--max-close-wait", "2", "--min-age", "0", "-v")
		if code != 1 || !strings.Contains(stdout, "CLOSE_WAIT") {
			t.Errorf("check --backend %s exited %d, want 1 (5 CLOSE_WAIT over 2):\n%s%s", b, code, stdout, stderr)
		}
		if want := "read sockets with the " + b + " backend"; !strings.Contains(stderr, want) {
			t.Errorf("check --backend %s -v: stderr lacks %q:\n%s", b, want, stderr)
		}
		out["check "+b] = stdout
		code, stdout, stderr = runMain("inspect", "--backend", b, "--pid", strconv.Itoa(pid), "--min-age", "0", "-o", "json")
		if code != 0 {
			t.Fatalf("inspect --backend %s exited %d: %s", b, code, stderr)
		}
		out["inspect "+b] = stableJSON(t, stdout)
	}
	for _, cmd := range []string{"check", "inspect"} {
		if diff := cmp.Diff(out[cmd+" netlink"], out[cmd+" bpf"]); diff != "" {
			t.Errorf("%s: the backends differ (-netlink +bpf):\n%s", cmd, diff)
		}
	}
}

// stableJSON decodes an inspect document without what changes from one
// scan to the next: the time, the backend's name, the host's counters,
// idle times and ages.
func stableJSON(t *testing.T, doc string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	var strip func(any)
	strip = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for _, k := range []string{"time", "backend", "system", "idle_ms", "age_ms"} {
				delete(v, k)
			}
			for _, e := range v {
				strip(e)
			}
		case []any:
			for _, e := range v {
				strip(e)
			}
		}
	}
	strip(v)
	return v
}
