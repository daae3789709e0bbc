// Package run holds sockleak run: it runs a command with its stdio passed
// through and the signals sockleak receives forwarded to it, samples the
// sockets of its process tree while it runs, and reports every socket
// that sat in a leak state for the grace or longer, as text for a CI log
// (WriteText) or as a JSON document (WriteJSON). It follows the sockets
// with watch's Tracker, the one sockleak watch's Monitor uses.
package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
	"github.com/sockleak/sockleak/watch"
)

// Config is what Command needs: the command, how often to sample its
// process tree, and how.
type Config struct {
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
	// Signals brings the signals sockleak receives (in production a
	// channel signal.Notify fills with SIGINT and SIGTERM, registered
	// before Command starts the command): each is forwarded to the
	// command, so that a CI runner that stops the job lets the command
	// clean up. Optional: nil forwards none.
	Signals <-chan os.Signal
	// ForwardSIGINT is false when the terminal already sends ^C to the
	// command (it is in sockleak's foreground process group): forwarding
	// it too would deliver it twice, which many programs take as "force
	// quit". SIGTERM is always forwarded.
	ForwardSIGINT bool
	// OwnGroup puts the command in a process group of its own, and the
	// signals are forwarded to that group. Without a terminal, a CI runner
	// or systemd stops a job by signalling sockleak's whole process group:
	// a command in that group would get the signal from the kernel and
	// again from sockleak. In a group of its own it gets it once, from
	// sockleak, and so do its children, as they would have from the
	// kernel. Not under a terminal, whose ^C and job control go to
	// sockleak's group only: the command must stay in it there.
	OwnGroup bool
}

// ErrStart wraps the error of a command that could not be started.
var ErrStart = errors.New("could not start")

// Command runs the command with its stdio passed through, forwards the
// signals of cfg.Signals to it, samples its process tree every interval
// while it runs, and returns what it saw. The command's exit status is in
// the Result (128+N when signal N killed it); the error is for what kept
// Command from doing its job.
func Command(ctx context.Context, cfg Config) (*Result, error) {
	cmd := exec.Command(cfg.Command[0], cfg.Command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = cfg.Stdin, cfg.Stdout, cfg.Stderr
	// With a non-file stdio (tests), do not wait forever for a grandchild
	// that inherited the pipes and outlived the command.
	cmd.WaitDelay = time.Second
	// Should sockleak die (SIGKILL, SIGHUP, a crash), the command must not
	// run on unwatched: on Linux the kernel kills it (sysProcAttr).
	cmd.SysProcAttr = sysProcAttr(cfg.OwnGroup)

	begin := time.Now()
	done := make(chan struct{})
	var waitErr error
	if err := start(cmd, done, &waitErr); err != nil {
		return nil, fmt.Errorf("%w %s: %w", ErrStart, cfg.Command[0], err)
	}
	target := cmd.Process.Pid
	if cfg.OwnGroup {
		target = -target // the command's process group: its pgid is its pid
	}
	go forward(target, cfg.Signals, cfg.ForwardSIGINT, done)

	s := &sampler{cfg: &cfg, root: cmd.Process.Pid, tracker: watch.NewTracker(cfg.LeakStates), warned: map[string]bool{}}
	ticker := time.NewTicker(cfg.Interval)
	watch.Loop(ctx, ticker.C, done, func() { s.sample(ctx) })
	ticker.Stop()
	<-done

	tr := s.tracker
	res := &Result{
		Command: cfg.Command, Duration: time.Since(begin),
		Samples: tr.Samples(), MaxProcesses: tr.MaxProcesses(), Interval: cfg.Interval, Grace: cfg.Grace,
		LeakStates: cfg.LeakStates, Leaks: tr.Leaks(cfg.Grace), Peak: tr.Peak(), Warnings: s.warnings,
	}
	if res.Samples == 0 {
		// Not "no leak": nothing was seen at all.
		res.Warnings = append(res.Warnings, fmt.Sprintf("the command exited after %s, before a first sample of its sockets: none was checked",
			wording.Round(res.Duration)))
	}
	res.setExit(cmd, waitErr)
	return res, nil
}

// start starts cmd on a goroutine locked to its thread, which then waits
// for it, sets *waitErr and closes done. The thread lives as long as the
// command does, as Pdeathsig needs (it fires when the parent thread
// exits, and the Go runtime may end an unlocked one).
func start(cmd *exec.Cmd, done chan<- struct{}, waitErr *error) error {
	started := make(chan error)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err != nil {
			return
		}
		*waitErr = cmd.Wait()
		close(done)
	}()
	return <-started
}

// forward sends each signal that comes in on sigc to target (a pid, or a
// process group as -pgid) until done is closed; SIGINT only when
// forwardSIGINT is set.
func forward(target int, sigc <-chan os.Signal, forwardSIGINT bool, done <-chan struct{}) {
	for {
		select {
		case s, ok := <-sigc:
			if !ok {
				sigc = nil // closed: nothing more to forward; wait for done
				continue
			}
			if s == syscall.SIGINT && !forwardSIGINT {
				continue
			}
			signalTarget(target, s)
		case <-done:
			return
		}
	}
}

// sampler takes the samples of the command's process tree into the
// tracker, and keeps each warning once.
type sampler struct {
	cfg      *Config
	root     int
	tracker  *watch.Tracker
	warned   map[string]bool
	warnings []string
}

func (s *sampler) warn(w string) {
	if !s.warned[w] {
		s.warned[w] = true
		s.warnings = append(s.warnings, w)
	}
}

func (s *sampler) sample(ctx context.Context) {
	pids, err := s.cfg.Tree(s.root)
	if err != nil {
		return // the command exited: Loop ends at done
	}
	snap, err := s.cfg.Sample(ctx, pids)
	switch {
	case errors.Is(err, inspect.ErrNoMatch):
		return // the whole tree exited between listing and scanning
	case err != nil:
		s.warn(fmt.Sprintf("a sample failed: %v", err))
		return
	}
	for _, w := range snap.Warnings {
		if len(snap.Processes) > 0 && !isVanishedPID(w) {
			s.warn(w)
		}
	}
	s.tracker.Observe(snap)
}

// isVanishedPID reports whether a scan warning only says that a pid of the
// tree exited between listing and scanning: normal for run.
func isVanishedPID(w string) bool {
	return strings.HasPrefix(w, "pid ") && strings.HasSuffix(w, ": no such process")
}

// setExit records how the command ended, from cmd.Wait's error.
func (r *Result) setExit(cmd *exec.Cmd, waitErr error) {
	var exitErr *exec.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &exitErr):
		r.ExitCode = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.ExitCode = 128 + int(ws.Signal())
			r.Signal = signalName(ws.Signal())
		}
	default:
		// The command ran but its end could not be read (e.g. its output
		// pipes were held open past WaitDelay): say so, keep its status.
		r.Warnings = append(r.Warnings, fmt.Sprintf("waiting for the command: %v", waitErr))
		if cmd.ProcessState != nil {
			r.ExitCode = cmd.ProcessState.ExitCode()
		}
	}
}
