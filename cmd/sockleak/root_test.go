package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestExitCodes(t *testing.T) {
	for _, tt := range []struct {
		name      string
		args      []string
		code      int
		stderr    string
		wantUsage bool
	}{
		{"bad state", []string{"inspect", "--state", "half-open"}, 2, `unknown TCP state "half-open"`, true},
		{"bad output", []string{"inspect", "-o", "yaml"}, 2, `invalid -o "yaml"`, true},
		{"bad top", []string{"inspect", "--top", "0"}, 2, "invalid --top 0", true},
		{"an argument", []string{"inspect", "extra"}, 2, `unknown command "extra" for "sockleak inspect"`, true},
		{"explain two states", []string{"explain", "close-wait", "fin-wait-2"}, 2, "accepts at most 1 arg(s)", true},
		{"run without a command", []string{"run"}, 2, "requires at least 1 arg(s)", true},
		{"bad peer", []string{"inspect", "--peer", "10.0.0.300"}, 2, `invalid peer "10.0.0.300"`, true},
		{"bad port", []string{"inspect", "--port", "70000"}, 2, "invalid --port 70000", true},
		{"unknown flag", []string{"inspect", "--bogus"}, 2, "unknown flag: --bogus", true},
		{"missing proc root", []string{"inspect", "--proc-root", "/nonexistent/proc"}, 2, `could not read proc root "/nonexistent/proc"`, false},
		{"no such pid", []string{"inspect", "--pid", "999999999"}, 2, "no process matches --pid 999999999", false},
		{"explain bad state", []string{"explain", "nope"}, 2, `unknown TCP state "nope"`, true},
		{"explain", []string{"explain", "closewait"}, 0, "", false},
		{"version", []string{"version"}, 0, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d; stderr: %s", code, tt.code, stderr.String())
			}
			if tt.stderr != "" && !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.stderr)
			}
			if tt.stderr == "" && stderr.Len() > 0 {
				t.Errorf("unexpected stderr %q", stderr.String())
			}
			if got := strings.Contains(stderr.String(), "sockleak --help"); got != tt.wantUsage {
				t.Errorf("usage pointer shown = %v, want %v", got, tt.wantUsage)
			}
			if strings.Count(stderr.String(), "sockleak:") > 1 {
				t.Errorf("error printed more than once: %q", stderr.String())
			}
		})
	}
}

func TestInterruptible(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	ctx, stop := interruptible(parent)
	defer stop()
	if ctx.Err() != nil {
		t.Fatalf("cancelled before any signal: %v", ctx.Err())
	}
	cancel()
	<-ctx.Done() // the parent's end is its end too

	ctx, stop = interruptible(context.Background())
	stop()
	if ctx.Err() == nil {
		t.Error("stop did not cancel the context")
	}
}
