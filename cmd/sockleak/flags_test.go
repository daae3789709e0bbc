package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestOldFlagNames: the names docs/flags.md lists as old still work, set
// what the new ones set, and say on stderr (not stdout) that they are old.
func TestOldFlagNames(t *testing.T) {
	// run --grace is --min-age.
	var got *RunOptions
	for _, flag := range []string{"--min-age", "--grace"} {
		c := newRunCmd(func(_ context.Context, o *RunOptions) error { got = o; return nil })
		c.SetArgs([]string{flag, "4s", "--", "true"})
		c.SetOut(io.Discard) // the notice: TestOldFlagNames checks it through Main below
		if err := c.Execute(); err != nil || got.MinAge != 4*time.Second {
			t.Errorf("run %s 4s: min age %v, %v", flag, got.MinAge, err)
		}
	}
	code, stdout, stderr := runMain("run", "--grace", "4s", "-o", "yaml", "--", "true")
	if code != exitError || stdout != "" || !strings.HasPrefix(stderr, "Flag --grace has been deprecated, use --min-age\n") {
		t.Errorf("run --grace: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	// inspect -o table is -o text.
	var old, now *InspectOptions
	for _, o := range []struct {
		value string
		opts  **InspectOptions
	}{{"table", &old}, {"text", &now}} {
		c := newInspectCmd(func(_ context.Context, io *InspectOptions) error { *o.opts = io; return nil })
		c.SetArgs([]string{"-o", o.value})
		var errOut strings.Builder
		c.SetErr(&errOut)
		if err := c.Execute(); err != nil {
			t.Fatal(err)
		}
		if notice := strings.Contains(errOut.String(), "-o table has been deprecated, use -o text"); notice != (o.value == "table") {
			t.Errorf("-o %s: stderr %q", o.value, errOut.String())
		}
	}
	if old.Output != "text" || now.Output != "text" {
		t.Errorf("-o table gives %q, -o text %q: want text", old.Output, now.Output)
	}
	code, stdout, stderr = runMain("inspect", "-o", "table", "--proc-root", healthyRoot)
	if code != exitOK || !strings.HasPrefix(stdout, "sockleak inspect · ") || stderr != "sockleak: -o table has been deprecated, use -o text\n" {
		t.Errorf("inspect -o table: exit %d\nstdout:\n%.200s\nstderr:\n%s", code, stdout, stderr)
	}
}
