package main

import (
	"context"
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
