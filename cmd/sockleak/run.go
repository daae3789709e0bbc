package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/run"
)

// RunOptions are the flags and arguments of sockleak run.
type RunOptions struct {
	Command  []string      // the command and its arguments
	Interval time.Duration // --interval: between samples of the tree
	// MinAge is --min-age (the deprecated --grace): a socket counts as a
	// leak once it has sat in a leak state this long, as check's and
	// inspect's --min-age count a socket.
	MinAge     time.Duration
	LeakStates []string // --leak-state, any spelling
	Output     string   // -o: text or json
	ReportFile string   // --report-file: write the report here, not to stderr (text) or stdout (json). Optional.
	ProcRoot   string   // the live proc root; tests may point elsewhere
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
SIGINT and SIGTERM to it (without a terminal, to its own process group, so a
signal to sockleak's group reaches it once; should sockleak die, the kernel
kills it), and every --interval sample the sockets of its
process tree (its children, their children; a process that is reparented
away is lost). Each socket is tracked by inode from the sample it is first
seen in CLOSE_WAIT (or another --leak-state).

When COMMAND exits, the report lists every socket that sat in a leak state
for --min-age or longer: the process and its command line, the peer, how long,
and the peak count per leak state. The text report goes to stderr, -o json's
document to stdout, each after the command's own output (use --report-file to
keep it apart).

Exit status: the command's own if it failed (128+N if signal N killed it);
otherwise 1 if a socket leaked, 0 if none did; 2 if sockleak could not start
the command.`,
		Example: `  sockleak run -- go test ./...
  sockleak run --min-age 5s -- ./integration.sh
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
	f.DurationVar(&opts.MinAge, "min-age", time.Second, "count a socket as a leak once it has sat in a leak state this long (0: every socket seen in one)")
	f.DurationVar(&opts.MinAge, "grace", time.Second, "the same as --min-age")
	_ = f.MarkDeprecated("grace", "use --min-age") // the flag exists: cannot fail
	f.StringSliceVar(&opts.LeakStates, "leak-state", []string{"CLOSE_WAIT"}, "states that count as a leak (repeatable)")
	f.StringVarP(&opts.Output, "output", "o", "text", "report format: text or json")
	f.StringVar(&opts.ReportFile, "report-file", "", "write the report to this file instead of stderr (text) or stdout (json)")
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
	if opts.MinAge < 0 {
		return flagErrorf("invalid --min-age %v: want a duration of 0 or more", opts.MinAge)
	}
	fsys, err := inspect.NewFS(opts.ProcRoot)
	if err != nil {
		return err
	}
	// A person's report is a diagnostic, as time(1)'s is: stderr. A JSON
	// document is a document: stdout, after the command's own output.
	report := opts.ErrOut
	if opts.Output == "json" {
		report = opts.Out
	}
	if opts.ReportFile != "" {
		f, err := os.Create(opts.ReportFile)
		if err != nil {
			return fmt.Errorf("could not create --report-file: %w", err)
		}
		defer f.Close()
		report = f
	}

	// Registered before the command starts, so that a CI runner that
	// stops the job at once still reaches it.
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, stopSignals...)
	defer signal.Stop(sigc)

	foreground, tty := terminalGroup()
	scanFlags := ScanFlags{ProcRoot: opts.ProcRoot}
	res, err := run.Command(ctx, run.Config{
		Command: opts.Command,
		Stdin:   opts.In, Stdout: opts.Out, Stderr: opts.ErrOut,
		Interval: opts.Interval, Grace: opts.MinAge, LeakStates: states,
		Tree: fsys.ProcessTree,
		// Only the leak states: the netlink backend has the kernel filter
		// them, a fraction of a full dump on a busy host.
		Sample: func(ctx context.Context, pids []int) (*inspect.Snapshot, error) {
			return scan(ctx, &scanFlags, opts.ErrOut, func(o *inspect.Options) { o.PIDs, o.States = pids, states })
		},
		Signals:       sigc,
		ForwardSIGINT: !foreground,
		OwnGroup:      !tty,
	})
	if err != nil {
		return err
	}
	code := res.ExitCode
	if opts.Output == "json" {
		err = run.WriteJSON(report, res)
	} else {
		err = run.WriteText(report, res)
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

// terminalGroup reports whether sockleak has a controlling terminal
// (tty), and whether it runs in that terminal's foreground process group,
// where the terminal sends ^C to the whole group (foreground). Only a real
// terminal can say; tests run without one. Its stdin need not be the
// terminal: /dev/tty is the controlling terminal whatever the redirections.
func terminalGroup() (foreground, tty bool) {
	f, err := os.OpenFile("/dev/tty", os.O_RDONLY|unix.O_NOCTTY, 0)
	if err != nil {
		return false, false // no controlling terminal: CI, systemd, setsid
	}
	defer f.Close()
	pgrp, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp(), true
}
