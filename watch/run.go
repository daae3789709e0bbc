package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/inspect"
)

// CommandConfig is what RunCommand needs: the command, how often to sample its
// process tree, and how.
type CommandConfig struct {
	Command []string // the command and its arguments
	// Stdin, Stdout and Stderr are the command's stdio.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Interval       time.Duration // between samples
	Grace          time.Duration // how long a socket may sit in a leak state
	LeakStates     []inspect.TCPState
	// Tree lists the process tree of the command's pid (inspect's
	// ProcessTree on the proc root).
	Tree func(pid int) ([]int, error)
	// Sample scans the sockets of pids in the leak states.
	Sample func(ctx context.Context, pids []int) (*inspect.Snapshot, error)
	// ForwardSIGINT is false when the terminal already sends ^C to the
	// command (it is in sockleak's foreground process group): forwarding
	// it too would deliver it twice, which many programs take as "force
	// quit". SIGTERM is always forwarded.
	ForwardSIGINT bool
}

// ErrStart wraps the error of a command that could not be started.
var ErrStart = errors.New("could not start")

// RunCommand runs the command with its stdio passed through, forwards
// SIGINT and SIGTERM to it, samples its process tree every interval while
// it runs, and returns what it saw. The command's exit status is in the
// Result (128+N when signal N killed it); the error is for what kept
// RunCommand from doing its job.
func RunCommand(ctx context.Context, cfg CommandConfig) (*Result, error) {
	cmd := exec.Command(cfg.Command[0], cfg.Command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = cfg.Stdin, cfg.Stdout, cfg.Stderr
	// With a non-file stdio (tests), do not wait forever for a grandchild
	// that inherited the pipes and outlived the command.
	cmd.WaitDelay = time.Second

	// A CI runner that stops the job signals sockleak: the command must
	// get the chance to clean up.
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigc)

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrStart, cfg.Command[0], err)
	}
	done := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(done)
	}()
	go func() {
		for {
			select {
			case s := <-sigc:
				if s == syscall.SIGINT && !cfg.ForwardSIGINT {
					continue
				}
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()

	tr := NewTracker(cfg.LeakStates)
	warned := map[string]bool{}
	var warnings []string
	warn := func(s string) {
		if !warned[s] {
			warned[s] = true
			warnings = append(warnings, s)
		}
	}
	root := cmd.Process.Pid
	sample := func() {
		pids, err := cfg.Tree(root)
		if err != nil {
			return // the command exited: Loop ends at done
		}
		snap, err := cfg.Sample(ctx, pids)
		switch {
		case errors.Is(err, inspect.ErrNoMatch):
			return // the whole tree exited between listing and scanning
		case err != nil:
			warn(fmt.Sprintf("a sample failed: %v", err))
			return
		}
		for _, w := range snap.Warnings {
			if len(snap.Processes) > 0 && !isVanishedPID(w) {
				warn(w)
			}
		}
		tr.Observe(snap)
	}
	ticker := time.NewTicker(cfg.Interval)
	Loop(ctx, ticker.C, done, sample)
	ticker.Stop()
	<-done

	res := &Result{
		Command: cfg.Command, Duration: time.Since(start),
		Samples: tr.Samples(), MaxProcesses: tr.MaxProcesses(), Interval: cfg.Interval, Grace: cfg.Grace,
		LeakStates: cfg.LeakStates, Leaks: tr.Leaks(cfg.Grace), Peak: tr.Peak(), Warnings: warnings,
	}
	var exitErr *exec.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &exitErr):
		res.ExitCode = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.ExitCode = 128 + int(ws.Signal())
			res.Signal = unix.SignalName(ws.Signal())
		}
	default:
		// The command ran but its end could not be read (e.g. its output
		// pipes were held open past WaitDelay): say so, keep its status.
		res.Warnings = append(res.Warnings, fmt.Sprintf("waiting for the command: %v", waitErr))
		if cmd.ProcessState != nil {
			res.ExitCode = cmd.ProcessState.ExitCode()
		}
	}
	return res, nil
}

// isVanishedPID reports whether a scan warning only says that a pid of the
// tree exited between listing and scanning: normal for run.
func isVanishedPID(w string) bool {
	return strings.HasPrefix(w, "pid ") && strings.HasSuffix(w, ": no such process")
}
