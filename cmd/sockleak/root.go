package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/sockleak/sockleak/report"
)

// Exit codes. inspect and explain use 0 and 2; check uses 1 for a crossed
// threshold.
const (
	exitOK    = 0
	exitError = 2 // usage errors, and sockleak could not do its job
)

// flagError is a usage mistake: it is printed with a pointer to --help.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

func flagErrorf(format string, a ...any) error { return &flagError{fmt.Errorf(format, a...)} }

// usageArgs makes a wrong number of arguments a usage mistake, like a bad
// flag.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := check(c, args); err != nil {
			return &flagError{err}
		}
		return nil
	}
}

// interruptible returns ctx, cancelled by Ctrl-C (SIGINT) or SIGTERM, for
// a command that runs until it is stopped and then ends cleanly: it
// closes its listeners and connections and says what it saw. stop
// restores the signals' default. Not the root context: sockleak run
// forwards the signals to its child instead, and the other commands end
// on their own.
func interruptible(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, stopSignals...)
}

// stopSignals are the signals that stop a command: Ctrl-C, and SIGTERM
// from systemd, Kubernetes or a CI runner. cmd is the one place that
// registers for them: packages take a context (watch, peer, demo) or a
// channel of them (run, which forwards them to its command).
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "sockleak",
		Short: "Find leaked TCP sockets and say whose bug they are",
		Long: `sockleak shows which process holds which TCP state to which peer, against its
file descriptor limit, and says plainly what is wrong: a process whose sockets
pile up in CLOSE_WAIT is not closing sockets its peer closed.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	setVersion(root)
	root.AddCommand(newInspectCmd(nil), newExplainCmd(nil), newVersionCmd(), newCheckCmd(nil), newRunCmd(nil),
		newClientCmd(nil), newPeerCmd(nil), newDemoCmd(nil), newDemoClientCmd(), newWatchCmd(nil), newTraceCmd(nil))
	registerCompletions(root)
	for _, c := range root.Commands() {
		if c.Args != nil {
			c.Args = usageArgs(c.Args)
		}
	}
	return root
}

// Main runs sockleak with args and returns its exit code. Errors are
// printed once, here.
func Main(args []string, stdout, stderr io.Writer) int {
	return execute(newRootCmd(), args, stdout, stderr)
}

// execute is Main on a given root command (tests give one whose command
// panics). A Nagios check says UNKNOWN on stdout and exits 3 whatever goes
// wrong, a panic of the command included: a plugin that exits 2 with
// nothing on stdout reads as CRITICAL. The panic and its stack go to
// stderr, as an uncaught one would. Panics in other goroutines are not
// caught here.
func execute(root *cobra.Command, args []string, stdout, stderr io.Writer) (code int) {
	if nagiosCheck(args) {
		defer func() {
			if v := recover(); v != nil {
				fmt.Fprintf(stderr, "sockleak: panic: %v\n\n%s", v, debug.Stack())
				code = report.NagiosError(stdout, fmt.Errorf("internal error: %v", v))
			}
		}()
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	noticesTo(root, stderr)
	c, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	var es *exitStatus // check and run: the output already said why
	if errors.As(err, &es) {
		return es.code
	}
	if nagiosCheck(args) {
		// A flag cobra rejected before check ran, or any error check
		// did not turn into a verdict: a plugin still says UNKNOWN on
		// stdout.
		return report.NagiosError(stdout, err)
	}
	fmt.Fprintf(stderr, "sockleak: %v\n", err)
	if fe := (*flagError)(nil); errors.As(err, &fe) {
		// The help of the command that was given the mistake: its flags
		// are there, not in the root's.
		if c == nil {
			c = root
		}
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", c.CommandPath())
	}
	return exitError
}

// noticesTo sends pflag's notices (a deprecated flag was used) to w, for
// every command. Cobra would print them with Print, which writes to the
// command's output, stdout once SetOut is called ("a bug we are stuck
// with", cobra PR #2037): ahead of a Nagios plugin's status line or a
// JSON document.
func noticesTo(c *cobra.Command, w io.Writer) {
	c.Flags().SetOutput(w)
	for _, sub := range c.Commands() {
		noticesTo(sub, w)
	}
}

// nagiosCheck reports whether args run check with -o nagios.
func nagiosCheck(args []string) bool {
	if len(args) == 0 || args[0] != "check" {
		return false
	}
	for i, a := range args[1:] {
		switch a {
		case "-o", "--output":
			if i+2 < len(args) && args[i+2] == "nagios" {
				return true
			}
		case "-onagios", "-o=nagios", "--output=nagios":
			return true
		case "--":
			return false
		}
	}
	return false
}
