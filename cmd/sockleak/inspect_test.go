package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sockleak/sockleak/inspect"
)

func TestInspectFlags(t *testing.T) {
	var got *InspectOptions
	c := newInspectCmd(func(_ context.Context, o *InspectOptions) error { got = o; return nil })
	c.SetArgs([]string{"--pid", "1", "--pid", "2,3", "--name", "nginx", "--state", "close-wait", "--state", "FIN-WAIT-2",
		"--port", "80", "--peer", "10.0.0.0/8", "--peer", "[::1]:443", "-o", "json", "--sockets", "--top", "3", "--proc-root", "/host/proc"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	want := &InspectOptions{
		Scan: ScanFlags{ProcRoot: "/host/proc", PIDs: []int{1, 2, 3}, Name: "nginx", States: []string{"close-wait", "FIN-WAIT-2"},
			Ports: []int{80}, Peers: []string{"10.0.0.0/8", "[::1]:443"}, Backend: "auto"},
		Output: "json", Sockets: true, Top: 3,
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(InspectOptions{}, "Out", "ErrOut"), cmpopts.IgnoreUnexported(ScanFlags{})); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
	o, err := got.Scan.options()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]inspect.TCPState{inspect.CloseWait, inspect.FinWait2}, o.States); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
	if len(o.Peers) != 2 || o.Peers[0].String() != "10.0.0.0/8" || o.Peers[1].String() != "[::1]:443" {
		t.Errorf("peers = %v", o.Peers)
	}
}

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
