package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sockleak/sockleak/trace"
)

func TestTraceFlags(t *testing.T) {
	var got *TraceOptions
	c := newTraceCmd(func(_ context.Context, o *TraceOptions) error { got = o; return nil })
	c.SetArgs([]string{"--name", "leaky", "--state", "close-wait", "--state", "fin-wait2", "--duration", "90s", "--max-sockets", "1000", "-o", "json"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	want := &TraceOptions{
		Scan:     ScanFlags{ProcRoot: "/proc", Name: "leaky", States: []string{"close-wait", "fin-wait2"}, Backend: "auto"},
		Duration: 90 * time.Second, MaxSockets: 1000, Output: "json",
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(TraceOptions{}, "Out", "ErrOut"), cmpopts.IgnoreUnexported(ScanFlags{})); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}

	c = newTraceCmd(func(_ context.Context, o *TraceOptions) error { got = o; return nil })
	c.SetArgs(nil)
	if err := c.Execute(); err != nil || got.Duration != 0 || got.MaxSockets != trace.DefaultMaxSockets || got.Output != "text" {
		t.Errorf("defaults: %+v (%v)", got, err)
	}
}

func TestTraceFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-o", "yaml"},
		{"--max-sockets", "0"},
		{"--duration", "-1s"},
		{"extra"},
	} {
		var out, errOut bytes.Buffer
		if code := Main(append([]string{"trace"}, args...), &out, &errOut); code != exitError {
			t.Errorf("trace %v: exit %d, want %d\n%s", args, code, exitError, errOut.String())
		}
		if !bytes.Contains(errOut.Bytes(), []byte("--help")) {
			t.Errorf("trace %v: a usage error should point to --help: %q", args, errOut.String())
		}
	}
}

// TestTraceNoSuchPID: a --pid that is not running fails at once, before
// anything is loaded (so without privileges too).
func TestTraceNoSuchPID(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Main([]string{"trace", "--pid", "999999999", "--proc-root", t.TempDir()}, &out, &errOut); code != exitError {
		t.Fatalf("exit %d, want %d: %s", code, exitError, errOut.String())
	}
	if !strings.Contains(errOut.String(), "no process matches --pid 999999999") {
		t.Errorf("stderr: %q", errOut.String())
	}
}
