package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/report"
)

func TestInspectFlags(t *testing.T) {
	var got *InspectOptions
	c := newInspectCmd(func(_ context.Context, o *InspectOptions) error { got = o; return nil })
	c.SetArgs([]string{"--pid", "1", "--pid", "2,3", "--name", "nginx", "--state", "close-wait", "--state", "FIN-WAIT-2",
		"--port", "80", "--peer", "10.0.0.0/8", "--peer", "[::1]:443", "-o", "json", "--sockets", "--top", "3", "--proc-root", "/host/proc", "--min-age", "0"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	want := &InspectOptions{
		Scan: ScanFlags{ProcRoot: "/host/proc", PIDs: []int{1, 2, 3}, Name: "nginx", States: []string{"close-wait", "FIN-WAIT-2"},
			Ports: []int{80}, Peers: []string{"10.0.0.0/8", "[::1]:443"}, Backend: "auto"},
		Output: "json", Sockets: true, Top: 3, MinAge: 0,
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

	c = newInspectCmd(func(_ context.Context, o *InspectOptions) error { got = o; return nil })
	c.SetArgs(nil)
	if err := c.Execute(); err != nil || got.MinAge != report.DefaultMinAge {
		t.Errorf("default --min-age = %v (%v), want report.DefaultMinAge", got.MinAge, err)
	}
}

// TestInspectWarningsToStderr: documents on stdout, diagnostics on
// stderr (issue 17). A proc root without its sys/ counters warns: the
// warning is on stderr, not in the table; JSON carries it as data too.
func TestInspectWarningsToStderr(t *testing.T) {
	root := t.TempDir()
	if err := os.CopyFS(root, os.DirFS(healthyRoot)); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "sys")); err != nil {
		t.Fatal(err)
	}
	const warning = "sockleak: warning: some system counters are missing"
	for _, output := range []string{"text", "json"} {
		code, stdout, stderr := runMain("inspect", "--proc-root", root, "-o", output)
		if code != 0 || !strings.HasPrefix(stderr, warning) || strings.Count(stderr, "\n") != 1 || strings.Contains(stdout, "warning: ") {
			t.Errorf("-o %s: exit %d\nstdout:\n%s\nstderr:\n%s", output, code, stdout, stderr)
		}
		if output == "json" && !strings.Contains(stdout, `"warnings": [`+"\n"+`    "some system counters are missing`) {
			t.Errorf("-o json: the document lacks its warning:\n%s", stdout)
		}
	}
}
