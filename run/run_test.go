package run

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/livetest"
)

// emptyTree is a Config whose samples find no socket.
func emptyTree(cmd ...string) Config {
	return Config{
		Command: cmd, Stdout: io.Discard, Stderr: io.Discard,
		Interval: time.Millisecond, LeakStates: []inspect.TCPState{inspect.CloseWait},
		Tree: func(pid int) ([]int, error) { return []int{pid}, nil },
		Sample: func(context.Context, []int) (*inspect.Snapshot, error) {
			return &inspect.Snapshot{Time: time.Now()}, nil
		},
	}
}

func TestCommandStatus(t *testing.T) {
	livetest.Skip(t)
	for _, tt := range []struct {
		name   string
		cmd    []string
		code   int
		signal string
	}{
		{"success", []string{"true"}, 0, ""},
		{"failure", []string{"sh", "-c", "exit 3"}, 3, ""},
		{"killed by a signal", []string{"sh", "-c", "kill -TERM $$"}, 128 + 15, "SIGTERM"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			samples := 0
			cfg := emptyTree(tt.cmd...)
			sample := cfg.Sample
			cfg.Sample = func(ctx context.Context, pids []int) (*inspect.Snapshot, error) {
				samples++
				return sample(ctx, pids)
			}
			res, err := Command(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != tt.code || res.Signal != tt.signal || len(res.Leaks) != 0 {
				t.Errorf("result = exit %d, signal %q, %d leaks; want exit %d, signal %q, none", res.ExitCode, res.Signal, len(res.Leaks), tt.code, tt.signal)
			}
			if res.Samples != samples {
				t.Errorf("Samples = %d, the sampler ran %d times", res.Samples, samples)
			}
		})
	}
	_, err := Command(context.Background(), Config{Command: []string{"/nonexistent/command"}, Interval: time.Second})
	if !errors.Is(err, ErrStart) {
		t.Errorf("a command that cannot start: %v, want ErrStart", err)
	}
}

// TestCommandForwardsSignals hands Command a SIGINT and a SIGTERM on its
// signal channel while the command runs: with ForwardSIGINT off the
// command gets only the SIGTERM, and its status is the Result's.
func TestCommandForwardsSignals(t *testing.T) {
	livetest.Skip(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sigc := make(chan os.Signal)
	cfg := emptyTree("sh", "-c", `trap 'echo got INT' INT; trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done`)
	cfg.Stdout, cfg.Signals = w, sigc
	type result struct {
		res *Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := Command(context.Background(), cfg)
		w.Close()
		done <- result{res, err}
	}()
	br := bufio.NewReader(r)
	if line, err := br.ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("command did not start: %q %v", line, err)
	}
	sigc <- syscall.SIGINT // the terminal's to send, not ours
	sigc <- syscall.SIGTERM
	got := <-done
	if got.err != nil || got.res.ExitCode != 7 {
		t.Fatalf("Command = %+v, %v; want the command's exit status 7", got.res, got.err)
	}
	if rest, _ := io.ReadAll(br); string(rest) != "got TERM\n" {
		t.Errorf("command output after the signals: %q, want only the SIGTERM's", rest)
	}
}

// TestCommandNoSample: a command that exits before its first sample is
// not a pass in silence: the Result says that nothing was checked.
func TestCommandNoSample(t *testing.T) {
	livetest.Skip(t)
	cfg := emptyTree("true")
	cfg.Tree = func(int) ([]int, error) { return nil, errors.New("no such process") } // gone already
	res, err := Command(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Samples != 0 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "before a first sample of its sockets: none was checked") {
		t.Errorf("Samples %d, warnings %q; want 0 and one that says no socket was checked", res.Samples, res.Warnings)
	}
	cfg = emptyTree("sleep", "0.1")
	if res, err = Command(context.Background(), cfg); err != nil || res.Samples == 0 || len(res.Warnings) != 0 {
		t.Errorf("sampled: %+v, %v; want no warning", res, err)
	}
}
