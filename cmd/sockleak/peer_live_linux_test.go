//go:build linux

package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockleak/sockleak/internal/livetest"
)

// syncBuffer is a bytes.Buffer the peer's goroutines may write to while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listeningRE = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)

// startPeerCmd runs sockleak peer until the test ends and returns its
// address and its output.
func startPeerCmd(t *testing.T, behaviour string) (string, *syncBuffer) {
	t.Helper()
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- runPeer(ctx, &PeerOptions{Listen: "127.0.0.1:0", Behaviour: behaviour, Delay: time.Second, CloseDelay: defaultCloseDelay, Out: out})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("peer: %v", err)
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if m := listeningRE.FindStringSubmatch(out.String()); m != nil {
			return m[1], out
		}
		if time.Now().After(deadline) {
			t.Fatalf("peer did not start: %q", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestClientTraceAgainstPeer(t *testing.T) {
	livetest.Skip(t)
	for _, tt := range []struct {
		behaviour string
		args      []string
		want      []string // in order, one per line, spaces collapsed
	}{
		// The peer closes first: CLOSE_WAIT, LAST_ACK (on loopback the
		// peer's ACK arrives before shutdown returns), closed.
		{"reply-close", []string{"--delim", ""}, []string{
			"connect ESTABLISHED", "read CLOSE_WAIT", "shutdown(SHUT_WR) CLOSE our FIN: LAST_ACK, then the peer's ACK", "close gone", `reply: "hello\n"`}},
		// The client closes first: FIN_WAIT1, FIN_WAIT2 while the peer
		// waits its --close-delay, TIME_WAIT.
		{"echo", nil, []string{
			"connect ESTABLISHED", "read ESTABLISHED", "shutdown(SHUT_WR) FIN_WAIT1", "ACK FIN_WAIT2", "drain CLOSE the peer's FIN",
			"close TIME_WAIT (kernel)", `reply: "hello\n"`}},
		{"echo", []string{"--close", "abort"}, []string{
			"connect ESTABLISHED", "SO_LINGER 0", "close gone RST", `reply: "hello\n"`}},
	} {
		t.Run(tt.behaviour+strings.Join(tt.args, " "), func(t *testing.T) {
			addr, peerOut := startPeerCmd(t, tt.behaviour)
			var stdout, stderr bytes.Buffer
			args := append([]string{"client", "--addr", addr, "--send", "hello", "--trace"}, tt.args...)
			if code := Main(args, &stdout, &stderr); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			lines := strings.Split(stdout.String(), "\n")
			i := 0
			for _, l := range lines {
				if i < len(tt.want) && strings.Contains(strings.Join(strings.Fields(l), " "), tt.want[i]) {
					i++
				}
			}
			if i < len(tt.want) {
				t.Errorf("trace lacks %q (in this order):\n%s", tt.want[i:], stdout.String())
			}
			if !strings.Contains(peerOut.String(), "accepted ("+tt.behaviour+")") {
				t.Errorf("peer log lacks the connection:\n%s", peerOut.String())
			}
		})
	}
}

func TestClientErrorsAgainstPeer(t *testing.T) {
	livetest.Skip(t)
	addr, _ := startPeerCmd(t, "slow") // answers after 1 s
	var stdout, stderr bytes.Buffer
	code := Main([]string{"client", "--addr", addr, "--send", "x", "--timeout", "50ms", "--count", "2"}, &stdout, &stderr)
	if code != exitError || !strings.Contains(stderr.String(), "2 of 2 requests failed, the last with: timeout: read tcp") {
		t.Errorf("exit %d, stderr %q; want 2 and both requests timed out", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "--help") {
		t.Errorf("stderr = %q: a failed request is no usage error", stderr.String())
	}
}
