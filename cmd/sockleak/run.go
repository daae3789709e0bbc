package main

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

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/watch"
)

// RunOptions are the flags and arguments of sockleak run.
type RunOptions struct {
	Command    []string      // the command and its arguments
	Interval   time.Duration // --interval: between samples of the tree
	Grace      time.Duration // --grace: how long a socket may sit in a leak state
	LeakStates []string      // --leak-state, any spelling
	Output     string        // -o: text or json
	ReportFile string        // --report-file: write the report here, not to stderr. Optional.
	ProcRoot   string        // the live proc root; tests may point elsewhere
	// In, Out and ErrOut are the command's stdio; the report goes to
	// ErrOut after the command's own output, unless ReportFile is set.
	In          io.Reader
	Out, ErrOut io.Writer
}

func newRunCmd(runF func(context.Context, *RunOptions) error) *cobra.Command {
	opts := &RunOptions{}
	c := &cobra.Command{
		Use:   "run [flags] -- COMMAND [ARGS...]",
		Short: "Run a command (a test suite, a service under test) and fail if its processes leaked sockets",
		Long: `Run COMMAND with its standard input, output and error passed through, forward
SIGINT and SIGTERM to it, and every --interval sample the sockets of its
process tree (its children, their children; a process that is reparented
away is lost). Each socket is tracked by inode from the sample it is first
seen in CLOSE_WAIT (or another --leak-state).

When COMMAND exits, the report lists every socket that sat in a leak state
for --grace or longer: the process and its command line, the peer, how long,
and the peak count per leak state. It goes to stderr, after the command's own
output (use --report-file to keep it apart).

Exit status: the command's own if it failed (128+N if signal N killed it);
otherwise 1 if a socket leaked, 0 if none did; 2 if sockleak could not start
the command.`,
		Example: `  sockleak run -- go test ./...
  sockleak run --grace 5s -- ./integration.sh
  sockleak run -o json --report-file leaks.json -- make e2e`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Command = args
			opts.In, opts.Out, opts.ErrOut = c.InOrStdin(), c.OutOrStdout(), c.ErrOrStderr()
			if opts.Output != "text" && opts.Output != "json" {
				return flagErrorf("invalid -o %q: want text or json", opts.Output)
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runRun(c.Context(), opts)
		},
	}
	f := c.Flags()
	// Flags after the command's name are the command's: sockleak run go
	// test -count=1 ./... needs no "--".
	f.SetInterspersed(false)
	f.DurationVar(&opts.Interval, "interval", 250*time.Millisecond, "time between samples of the process tree")
	f.DurationVar(&opts.Grace, "grace", time.Second, "report sockets that sat in a leak state this long or longer")
	f.StringSliceVar(&opts.LeakStates, "leak-state", []string{"CLOSE_WAIT"}, "states that count as a leak (repeatable)")
	f.StringVarP(&opts.Output, "output", "o", "text", "report format: text or json")
	f.StringVar(&opts.ReportFile, "report-file", "", "write the report to this file instead of stderr")
	opts.ProcRoot = inspect.DefaultRoot
	return c
}

func (o *RunOptions) leakStates() ([]inspect.TCPState, error) {
	var out []inspect.TCPState
	for _, s := range o.LeakStates {
		st, err := inspect.ParseState(s)
		if err != nil {
			return nil, flagErrorf("invalid --leak-state: %v", err)
		}
		out = append(out, st)
	}
	if len(out) == 0 {
		return nil, flagErrorf("--leak-state: want at least one state")
	}
	return out, nil
}

func runRun(ctx context.Context, opts *RunOptions) error {
	states, err := opts.leakStates()
	if err != nil {
		return err
	}
	if opts.Interval <= 0 {
		return flagErrorf("invalid --interval %v: want a positive duration", opts.Interval)
	}
	if opts.Grace < 0 {
		return flagErrorf("invalid --grace %v: want a duration of 0 or more", opts.Grace)
	}
	fsys, err := inspect.NewFS(opts.ProcRoot)
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	var report io.Writer = opts.ErrOut
	if opts.ReportFile != "" {
		f, err := os.Create(opts.ReportFile)
		if err != nil {
			return fmt.Errorf("could not create --report-file: %w", err)
		}
		defer f.Close()
		report = f
	}

	cmd := exec.Command(opts.Command[0], opts.Command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.In, opts.Out, opts.ErrOut
	// With a non-file stdio (tests), do not wait forever for a grandchild
	// that inherited the pipes and outlived the command.
	cmd.WaitDelay = time.Second

	// Forward SIGINT and SIGTERM: a CI runner that stops the job signals
	// sockleak, and the command must get the chance to clean up. A ^C
	// typed at a terminal reaches the command from the terminal already
	// (it is in sockleak's foreground process group): forwarding it too
	// would deliver it twice, which many programs take as "force quit".
	interactive := inTerminalForeground()
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigc)

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not start %s: %w", opts.Command[0], err)
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
				if s == syscall.SIGINT && interactive {
					continue
				}
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()

	tr := watch.NewTracker(states)
	warned := map[string]bool{}
	var warnings []string
	warn := func(s string) {
		if !warned[s] {
			warned[s] = true
			warnings = append(warnings, s)
		}
	}
	root := cmd.Process.Pid
	scanFlags := ScanFlags{ProcRoot: opts.ProcRoot}
	sample := func() {
		pids, err := fsys.ProcessTree(root)
		if err != nil {
			return // the command exited: Loop ends at done
		}
		// Only the leak states: the netlink backend has the kernel filter
		// them, a fraction of a full dump on a busy host.
		snap, err := scan(ctx, &scanFlags, opts.ErrOut, func(o *inspect.Options) { o.PIDs, o.States = pids, states })
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
	ticker := time.NewTicker(opts.Interval)
	watch.Loop(ctx, ticker.C, done, sample)
	ticker.Stop()
	<-done

	res := &watch.Result{
		Command: opts.Command, Duration: time.Since(start),
		Samples: tr.Samples(), MaxProcesses: tr.MaxProcesses(), Interval: opts.Interval, Grace: opts.Grace,
		LeakStates: states, Leaks: tr.Leaks(opts.Grace), Peak: tr.Peak(), Warnings: warnings,
	}
	code := 0
	var exitErr *exec.ExitError
	switch {
	case waitErr == nil:
	case errors.As(waitErr, &exitErr):
		code = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
			res.Signal = unix.SignalName(ws.Signal())
		}
	default:
		// The command ran but its end could not be read (e.g. its output
		// pipes were held open past WaitDelay): say so, keep its status.
		res.Warnings = append(res.Warnings, fmt.Sprintf("waiting for the command: %v", waitErr))
		if cmd.ProcessState != nil {
			code = cmd.ProcessState.ExitCode()
		}
	}
	res.ExitCode = code
	if opts.Output == "json" {
		err = watch.JSON(report, res)
	} else {
		err = watch.Text(report, res)
	}
	if err != nil {
		return err
	}
	switch {
	case code != 0:
		return &exitStatus{code}
	case len(res.Leaks) > 0:
		return &exitStatus{exitThreshold}
	}
	return nil
}

// isVanishedPID reports whether a scan warning only says that a pid of the
// tree exited between listing and scanning: normal for run.
func isVanishedPID(w string) bool {
	return strings.HasPrefix(w, "pid ") && strings.HasSuffix(w, ": no such process")
}

// inTerminalForeground reports whether sockleak runs in the foreground
// process group of the terminal on its stdin, where the terminal sends ^C
// to the whole group. Only the real terminal can say; tests run without one.
func inTerminalForeground() bool {
	pgrp, err := unix.IoctlGetInt(int(os.Stdin.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}
