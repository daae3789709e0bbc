package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sockleak/sockleak/report"
)

func TestExitCodes(t *testing.T) {
	for _, tt := range []struct {
		name      string
		args      []string
		code      int
		stderr    string
		wantUsage string // the command whose help the message points to; "" for none
	}{
		{"bad state", []string{"inspect", "--state", "half-open"}, 2, `unknown TCP state "half-open"`, "sockleak inspect"},
		{"bad output", []string{"inspect", "-o", "yaml"}, 2, `invalid -o "yaml"`, "sockleak inspect"},
		{"bad top", []string{"inspect", "--top", "0"}, 2, "invalid --top 0", "sockleak inspect"},
		{"an argument", []string{"inspect", "extra"}, 2, `unknown command "extra" for "sockleak inspect"`, "sockleak inspect"},
		{"explain two states", []string{"explain", "close-wait", "fin-wait-2"}, 2, "accepts at most 1 arg(s)", "sockleak explain"},
		{"run without a command", []string{"run"}, 2, "requires at least 1 arg(s)", "sockleak run"},
		{"bad peer", []string{"inspect", "--peer", "10.0.0.300"}, 2, `invalid peer "10.0.0.300"`, "sockleak inspect"},
		{"bad port", []string{"inspect", "--port", "70000"}, 2, "invalid --port 70000", "sockleak inspect"},
		{"unknown flag", []string{"inspect", "--bogus"}, 2, "unknown flag: --bogus", "sockleak inspect"},
		{"missing proc root", []string{"inspect", "--proc-root", "/nonexistent/proc"}, 2, `could not read proc root "/nonexistent/proc"`, ""},
		{"no such pid", []string{"inspect", "--pid", "999999999"}, 2, "no process matches --pid 999999999", ""},
		{"explain bad state", []string{"explain", "nope"}, 2, `unknown TCP state "nope"`, "sockleak explain"},
		{"inspect negative min-age", []string{"inspect", "--min-age", "-2s"}, 2, "invalid --min-age -2s", "sockleak inspect"},
		{"check bad output", []string{"check", "-o", "yaml"}, 2, `invalid -o "yaml"`, "sockleak check"},
		{"check bad min-age", []string{"check", "--min-age", "soon"}, 2, `invalid argument "soon"`, "sockleak check"},
		{"watch bad interval", []string{"watch", "--interval", "0"}, 2, "--interval", "sockleak watch"},
		{"explain", []string{"explain", "closewait"}, 0, "", ""},
		{"version", []string{"version"}, 0, "", ""},
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
			pointer := "Run '" + tt.wantUsage + " --help' for usage."
			if tt.wantUsage == "" {
				if strings.Contains(stderr.String(), "--help") {
					t.Errorf("usage pointer shown for a runtime failure: %q", stderr.String())
				}
			} else if !strings.Contains(stderr.String(), pointer) {
				t.Errorf("stderr = %q, want the pointer %q", stderr.String(), pointer)
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

// TestPauseGC: scans that overlap share the collector's pause, and the
// setting comes back when the last one ends, in whatever order they end.
func TestPauseGC(t *testing.T) {
	before := debug.SetGCPercent(73)
	defer debug.SetGCPercent(before)
	a := pauseGC()
	b := pauseGC()
	a()
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Errorf("with one scan still running the collector is at %d, want off (-1)", got)
	}
	b()
	if got := debug.SetGCPercent(73); got != 73 {
		t.Errorf("after both scans the collector is at %d, want 73 back", got)
	}
}

// TestNagiosPanic: in Nagios mode a panic (a bug of ours, or input we did
// not foresee) still prints UNKNOWN on stdout and exits 3, which Nagios
// reads as UNKNOWN; a bare panic would exit 2 with nothing on stdout,
// which it reads as CRITICAL. Outside Nagios mode a panic stays a panic.
func TestNagiosPanic(t *testing.T) {
	rootWith := func() *cobra.Command {
		root := newRootCmd()
		for _, c := range root.Commands() {
			if c.Name() == "check" {
				root.RemoveCommand(c)
			}
		}
		root.AddCommand(newCheckCmd(func(context.Context, *CheckOptions) error { panic("injected\nSOCKLEAK OK - forged") }))
		return root
	}
	for _, args := range [][]string{
		{"check", "-o", "nagios"},
		{"check", "--output=nagios", "--pid", "1"},
	} {
		var stdout, stderr bytes.Buffer
		code := execute(rootWith(), args, &stdout, &stderr)
		if code != report.NagiosUnknown {
			t.Errorf("%q: exit code = %d, want %d (UNKNOWN)", args, code, report.NagiosUnknown)
		}
		if got := stdout.String(); !strings.HasPrefix(got, "SOCKLEAK UNKNOWN - ") || !strings.Contains(got, "injected") ||
			strings.Count(got, "\n") != 1 {
			t.Errorf("%q: stdout = %q, want one UNKNOWN line naming the panic", args, got)
		}
		if !strings.Contains(stderr.String(), "panic: injected") || !strings.Contains(stderr.String(), "goroutine") {
			t.Errorf("%q: stderr = %q, want the panic and its stack", args, stderr.String())
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("check -o text: the panic was swallowed")
		}
	}()
	execute(rootWith(), []string{"check"}, io.Discard, io.Discard)
}

// TestNagiosInternalError: any error that reaches Main in Nagios mode,
// not only a rejected flag, prints UNKNOWN and exits 3.
func TestNagiosInternalError(t *testing.T) {
	root := newRootCmd()
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return errors.New("internal trouble") }
	var stdout, stderr bytes.Buffer
	code := execute(root, []string{"check", "-o", "nagios"}, &stdout, &stderr)
	if code != report.NagiosUnknown || stdout.String() != "SOCKLEAK UNKNOWN - internal trouble\n" {
		t.Errorf("exit code %d, stdout %q; want 3 and one UNKNOWN line", code, stdout.String())
	}
}
