package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestClientFlags(t *testing.T) {
	var got *ClientOptions
	c := newClientCmd(func(_ context.Context, o *ClientOptions) error { got = o; return nil })
	c.SetArgs([]string{"--addr", "127.0.0.1:7000", "--send", "hi", "--timeout", "3s", "--close", "abort",
		"--trace", "--count", "2", "--delim", `\r\n`, "--max-reply", "10"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	want := &ClientOptions{Addr: "127.0.0.1:7000", Send: "hi", Timeout: 3 * time.Second, Close: "abort",
		Trace: true, Count: 2, Delim: `\r\n`, MaxReply: 10}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(ClientOptions{}, "Out")); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
}

func TestPeerDemoFlags(t *testing.T) {
	var peer *PeerOptions
	c := newPeerCmd(func(_ context.Context, o *PeerOptions) error { peer = o; return nil })
	c.SetArgs([]string{"--listen", "127.0.0.1:0", "--behaviour", "slow", "--delay", "1s", "--reply", "no", "--close-delay", "50ms"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&PeerOptions{Listen: "127.0.0.1:0", Behaviour: "slow", Delay: time.Second, CloseDelay: 50 * time.Millisecond, Reply: "no"}, peer,
		cmpopts.IgnoreFields(PeerOptions{}, "Out")); diff != "" {
		t.Errorf("peer options (-want +got):\n%s", diff)
	}
	var demo *DemoOptions
	c = newDemoCmd(func(_ context.Context, o *DemoOptions) error { demo = o; return nil })
	c.SetArgs([]string{"--transactions", "20", "--fd-limit", "16"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&DemoOptions{Transactions: 20, FDLimit: 16, Timeout: 50 * time.Millisecond, Delay: 150 * time.Millisecond}, demo,
		cmpopts.IgnoreFields(DemoOptions{}, "Out")); diff != "" {
		t.Errorf("demo options (-want +got):\n%s", diff)
	}
}

func TestClientPeerDemoUsageErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"client without addr", []string{"client", "--send", "x"}, "--addr is required"},
		{"client bad close", []string{"client", "--addr", "127.0.0.1:1", "--close", "slam"}, `invalid --close "slam"`},
		{"client bad count", []string{"client", "--addr", "127.0.0.1:1", "--count", "0"}, "invalid --count 0"},
		{"client zero max-reply", []string{"client", "--addr", "127.0.0.1:1", "--max-reply", "0"}, "invalid --max-reply 0: want 1 or more bytes"},
		{"client negative max-reply", []string{"client", "--addr", "127.0.0.1:1", "--max-reply", "-1"}, "invalid --max-reply -1"},
		{"client bad delim", []string{"client", "--addr", "127.0.0.1:1", "--delim", `\q`}, `invalid --delim "\\q"`},
		{"peer bad behaviour", []string{"peer", "--behaviour", "flaky"}, `unknown behaviour "flaky"`},
		{"demo delay not above timeout", []string{"demo", "--timeout", "1s", "--delay", "1s"}, "the peer's delay must exceed"},
		{"demo fd limit too low", []string{"demo", "--fd-limit", "3"}, "invalid --transactions 100 or --fd-limit 3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Main(tt.args, &stdout, &stderr); code != exitError {
				t.Errorf("exit %d, want %d", code, exitError)
			}
			if !strings.Contains(stderr.String(), tt.stderr) || !strings.Contains(stderr.String(), "--help") {
				t.Errorf("stderr = %q, want %q and a pointer to --help", stderr.String(), tt.stderr)
			}
		})
	}
}
