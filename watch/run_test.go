package watch

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/sockleak/sockleak/inspect"
)

func TestRunCommandStatus(t *testing.T) {
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
			res, err := RunCommand(context.Background(), CommandConfig{
				Command: tt.cmd, Stdout: io.Discard, Stderr: io.Discard,
				Interval: time.Millisecond, LeakStates: []inspect.TCPState{inspect.CloseWait},
				Tree: func(pid int) ([]int, error) { return []int{pid}, nil },
				Sample: func(context.Context, []int) (*inspect.Snapshot, error) {
					samples++
					return &inspect.Snapshot{Time: time.Now()}, nil
				},
			})
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
	_, err := RunCommand(context.Background(), CommandConfig{Command: []string{"/nonexistent/command"}, Interval: time.Second})
	if !errors.Is(err, ErrStart) {
		t.Errorf("a command that cannot start: %v, want ErrStart", err)
	}
}
