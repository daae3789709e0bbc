package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/trace"
)

// TraceOptions are the flags of sockleak trace.
type TraceOptions struct {
	Scan       ScanFlags     // --pid, --name, --workload, --state...: which sockets to report
	Duration   time.Duration // --duration: record this long (0: until Ctrl-C)
	MaxSockets int           // --max-sockets: the table of sockets open at once
	Output     string        // -o: text or json
	Out        io.Writer
	ErrOut     io.Writer
}

func newTraceCmd(runF func(context.Context, *TraceOptions) error) *cobra.Command {
	opts := &TraceOptions{}
	c := &cobra.Command{
		Use:   "trace",
		Short: "Record which code opens the sockets that leak, and when each entered its state",
		Long: `Load BPF programs and record, until --duration or Ctrl-C, every TCP socket given
a descriptor (socket, accept) with the user stack that asked for it, and the
moment of each state change. Then report the sockets opened meanwhile that are
still held in CLOSE_WAIT (or the --state given), grouped by the stack that
opened them: the code that opened them as function and file:line, each
socket's owner, peer and the exact time it entered its state.

Needs root, or CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE (to read other
processes' stacks and binaries); without them it says what is missing and
exits 2.`,
		Example: `  sockleak trace --duration 1m
  sockleak trace --name leaky -o json
  sockleak trace --workload leaky.service --state close-wait --state fin-wait2`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.Out, opts.ErrOut = c.OutOrStdout(), c.ErrOrStderr()
			if opts.Output != "text" && opts.Output != "json" {
				return flagErrorf("invalid -o %q: want text or json", opts.Output)
			}
			if opts.Duration < 0 || opts.MaxSockets <= 0 {
				return flagErrorf("invalid --duration or --max-sockets: want a positive value")
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runTrace(c.Context(), opts)
		},
	}
	opts.Scan.register(c.Flags())
	c.Flags().DurationVar(&opts.Duration, "duration", 0, "record this long (default: until Ctrl-C)")
	c.Flags().IntVar(&opts.MaxSockets, "max-sockets", trace.DefaultMaxSockets, "sockets open at once the trace can follow (more are counted as dropped)")
	c.Flags().StringVarP(&opts.Output, "output", "o", "text", "report format: text or json")
	return c
}

func runTrace(ctx context.Context, opts *TraceOptions) error {
	sel, err := opts.Scan.options()
	if err != nil {
		return err
	}
	fsys, err := inspect.NewFS(opts.Scan.ProcRoot)
	if err != nil {
		return err
	}
	// A --pid that is not running will not open a socket: say so now,
	// not after a recording. (--name and --workload may match a process
	// that starts later.)
	for _, pid := range sel.PIDs {
		if _, err := os.Stat(filepath.Join(fsys.Root(), strconv.Itoa(pid))); err != nil {
			return fmt.Errorf("%w --pid %d", inspect.ErrNoMatch, pid)
		}
	}
	topts := trace.Options{MaxSockets: opts.MaxSockets}
	if len(sel.PIDs) == 1 {
		topts.PID = sel.PIDs[0]
	}
	rec, err := trace.Start(topts)
	if err != nil {
		return err
	}
	stop, cancel := interruptible(ctx)
	defer cancel()
	if opts.Duration > 0 {
		stop, cancel = context.WithTimeout(stop, opts.Duration)
		defer cancel()
		fmt.Fprintf(opts.ErrOut, "sockleak trace: recording for %s (Ctrl-C to stop sooner)\n", opts.Duration)
	} else {
		fmt.Fprintln(opts.ErrOut, "sockleak trace: recording; Ctrl-C to stop and report")
	}
	<-stop.Done()
	rep, err := rec.Finish(ctx, fsys, sel)
	if err != nil {
		return err
	}
	if opts.Output == "json" {
		return trace.WriteJSON(opts.Out, rep)
	}
	return trace.WriteText(opts.Out, rep)
}
