package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/report"
	"github.com/sockleak/sockleak/watch"
)

// exitThreshold is check's exit code for a crossed threshold.
const exitThreshold = 1

// maxMinAge bounds --min-age, which can be a wait between two samples: a
// check is a probe, run by cron or a monitoring agent on a timeout.
const maxMinAge = time.Hour

// exitStatus ends sockleak with a code and nothing more to print: what
// had to be said was said (a check's report, a command's own status).
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return "exit status " + strconv.Itoa(e.code) }

// CheckOptions are the flags of sockleak check.
type CheckOptions struct {
	Scan ScanFlags
	// MaxCloseWait is the most CLOSE_WAIT sockets allowed (-1: no limit).
	MaxCloseWait int
	// MaxFinWait2 is the most FIN_WAIT2 sockets allowed. Optional: -1,
	// the default, does not check.
	MaxFinWait2 int
	// MaxStates are STATE=N pairs (--max-state, deprecated: the same as
	// --warning). Optional.
	MaxStates []string
	// MaxFDUsage is the most a process may use of its soft fd limit, in
	// percent (-1: no limit).
	MaxFDUsage int
	// Warn and Crit are METRIC=RANGE pairs (-w/--warning, -c/--critical,
	// and the deprecated --warn and --crit), METRIC a state or fd-usage,
	// RANGE in the plugin syntax, several to a value with commas. Warn is
	// the level the --max flags set; Crit the critical one. Optional.
	Warn, Crit []string
	// Timeout is -t: UNKNOWN (exit 3 with -o nagios, else 2) when the
	// check has not finished in this long; 0: no limit.
	Timeout time.Duration
	Total   bool // the state thresholds apply to the host's totals
	// NoAcceptQueue does not fail for a listener that is not accepting
	// (the accept_queue finding). Optional.
	NoAcceptQueue bool
	// MinAge: count only sockets in their state this long; 0 counts
	// every socket. report.DefaultMinAge unless --min-age says.
	MinAge time.Duration
	// AllowMissing makes a --pid or --name that matches nothing a pass.
	AllowMissing bool
	Output       string // text, json, nagios or prometheus
	Textfile     string // also write the metrics here, atomically. Optional.
	// MaxWorkloads is how many workloads (processes with --pid-label) get
	// metrics of their own, besides those with a violation (-o
	// prometheus, --textfile); PIDLabel keys the metrics by process.
	MaxWorkloads int
	PIDLabel     bool
	Quiet        bool // print nothing when the check passes (cron)
	Out, ErrOut  io.Writer

	// warnOld and critOld are the deprecated --warn and --crit.
	warnOld, critOld []string
	// after waits for --min-age; time.After unless a test drives it.
	after func(time.Duration) <-chan time.Time
	// set records which threshold flags were given, so that two
	// different values for one threshold are an error, not a surprise.
	set map[string]bool
}

// checkLong is check's help.
const checkLong = `Check the host (or the processes --pid and --name select) against thresholds
and exit 0 if all pass, 1 if one is exceeded, 2 if sockleak could not check.
By default a process holding a socket in CLOSE_WAIT is a warning and one
holding more than 100 critical; a process using more than 80% of its soft
open-files limit a warning, more than 95% critical; and a listener that is
not accepting critical: its accept queue near its backlog or holding
connections in CLOSE_WAIT, whose clients gave up (a hung or stopped server;
--no-accept-queue: not checked). Either level fails the check.
Thresholds apply to each process (and to the kernel's orphans, and to unknown
owners) unless --total applies them to the host as a whole.

A socket in CLOSE_WAIT or FIN_WAIT2 counts only once it has been in the state
for --min-age, by default 3s (a few seconds at most: a leak still fails at
once, a client that closes a moment after its peer's FIN, as a busy server's
clients do on every request, never does). The age is the kernel's own lower
bound (tcp_info's last ACK received, read over netlink), so this takes one
pass: no second sample, no wait. --min-age 0 counts every socket. A longer
--min-age works the same where the kernel gives the bound; where it does not
(the proc backend, states other than those two) a socket counts only if it is
in the state at a first sample and still is at a second one, --min-age later.

-w/--warning and -c/--critical set the levels as METRIC=RANGE (repeatable, or
comma-separated): METRIC is close-wait, fin-wait-2, any TCP state, or fd-usage
(percent of the soft limit, 0-100); RANGE is the plugin guidelines' syntax,
alerting outside it: 10 (above 10), 10: (below 10), ~:10, 10:20, and @10:20
(inside). --max-close-wait N is -w close-wait=N. -t gives up, UNKNOWN, after
10 seconds (docs/flags.md has every flag).

Outputs: text (one line per violation, then a summary), json (the inspect
document plus the violations), nagios (a plugin line with performance data,
exit codes 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, the 20 worst listed),
prometheus (the text exposition format, bounded by --max-workloads;
--textfile writes it atomically for node_exporter).`

func newCheckCmd(runF func(context.Context, *CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{}
	c := &cobra.Command{
		Use:   "check",
		Short: "Exit 1 if a process holds too many sockets in CLOSE_WAIT (or another state) or nears its fd limit",
		Long:  checkLong,
		Example: `  sockleak check
  sockleak check --pid 4242 --max-close-wait 10 --min-age 30s
  sockleak check -w fin-wait-2=100,last-ack=50 --total
  sockleak check -o nagios -w close-wait=5 -c close-wait=20,fd-usage=90 -t 5
  sockleak check -q --textfile /var/lib/node_exporter/textfile_collector/sockleak.prom`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.Out, opts.ErrOut = c.OutOrStdout(), c.ErrOrStderr()
			opts.set = map[string]bool{}
			for _, name := range []string{"max-close-wait", "max-fin-wait2", "max-fd-usage", "min-age", "timeout"} {
				opts.set[name] = c.Flags().Changed(name)
			}
			var err error
			switch opts.Output {
			case "text", "json", "nagios", "prometheus":
				if runF != nil {
					return runF(c.Context(), opts)
				}
				err = runCheck(c.Context(), opts)
			default:
				err = flagErrorf("invalid -o %q: want text, json, nagios or prometheus", opts.Output)
			}
			var es *exitStatus
			if opts.Output == "nagios" && err != nil && !errors.As(err, &es) {
				// A plugin says UNKNOWN on stdout, whatever went wrong.
				return &exitStatus{report.NagiosError(opts.Out, err)}
			}
			return err
		},
	}
	f := c.Flags()
	opts.Scan.register(f)
	def := report.DefaultCheckSettings
	f.IntVar(&opts.MaxCloseWait, "max-close-wait", def.MaxCloseWait, "the warning level: most sockets in CLOSE_WAIT a process may hold (-1: no limit); -w close-wait=N")
	f.IntVar(&opts.MaxFinWait2, "max-fin-wait2", def.MaxFinWait2, "the warning level: most sockets in FIN_WAIT2 a process may hold (-1, the default: not checked); -w fin-wait-2=N")
	f.IntVar(&opts.MaxFDUsage, "max-fd-usage", def.MaxFDUsage, "the warning level: most a process may use of its soft open-files limit, in percent (-1: no limit); -w fd-usage=N")
	registerLevelFlags(f, opts)
	f.BoolVar(&opts.Total, "total", false, "apply the state thresholds to the host's totals, not each process")
	f.BoolVar(&opts.NoAcceptQueue, "no-accept-queue", false, "do not fail for a listener that is not accepting (its accept queue near full, or holding CLOSE_WAIT)")
	f.DurationVar(&opts.MinAge, "min-age", report.DefaultMinAge, minAgeUsage+
		"; without the bound, a value given takes two samples that far apart")
	f.BoolVar(&opts.AllowMissing, "allow-missing", false, "pass when --pid or --name matches no process")
	f.StringVarP(&opts.Output, "output", "o", "text", "output format: text, json, nagios or prometheus")
	f.StringVar(&opts.Textfile, "textfile", "", "also write the metrics to this file, atomically (node_exporter's textfile collector)")
	registerSeriesFlags(f, opts)
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print nothing when the check passes (for cron's mail)")
	opts.Timeout = defaultCheckTimeout
	f.VarP((*seconds)(&opts.Timeout), "timeout", "t", "give up, UNKNOWN, when the check has not finished in this long: seconds as plugins take them "+
		"(-t 5), or a duration (500ms); 0: no limit. Without -t, a --min-age given adds its wait")
	return c
}

// registerLevelFlags registers -w and -c, and the older flags they
// replace.
func registerLevelFlags(f *pflag.FlagSet, opts *CheckOptions) {
	f.StringArrayVarP(&opts.Warn, "warning", "w", nil, "warning level METRIC=RANGE (repeatable, or comma-separated): METRIC close-wait, fin-wait-2, "+
		"any TCP state, or fd-usage (percent of the soft open-files limit); RANGE in the plugin syntax: N (alert above N), N: (below N), "+
		"~:N, N:M (outside N..M), @N:M (inside)")
	f.StringArrayVarP(&opts.Crit, "critical", "c", nil, fmt.Sprintf("critical level METRIC=RANGE, as -w (default: close-wait %d, fd-usage %d, "+
		"or the warning level where it is higher or no maximum)", report.DefaultCritCloseWait, report.DefaultCritFDUsage))
	f.StringArrayVar(&opts.MaxStates, "max-state", nil, "most sockets allowed in a state, as STATE=N (repeatable)")
	f.StringArrayVar(&opts.warnOld, "warn", nil, "the same as --warning")
	f.StringArrayVar(&opts.critOld, "crit", nil, "the same as --critical")
	for old, now := range map[string]string{"max-state": "-w/--warning STATE=N", "warn": "-w/--warning", "crit": "-c/--critical"} {
		_ = f.MarkDeprecated(old, "use "+now) // the flags exist: cannot fail
	}
}

// registerSeriesFlags registers the flags that shape check's metrics:
// their cap and their key.
func registerSeriesFlags(f *pflag.FlagSet, opts *CheckOptions) {
	f.IntVar(&opts.MaxWorkloads, "max-workloads", report.DefaultMaxWorkloads, fmt.Sprintf(
		`workloads (the worst first) with metrics of their own, besides those with a violation; the rest are summed as workload="other". `+
			`Series stay under %d×(N+1)+%d (%d at the default)`, report.SeriesPerWorkload, report.FixedSeries, report.SeriesCap(report.DefaultMaxWorkloads)))
	f.IntVar(&opts.MaxWorkloads, "max-processes", report.DefaultMaxWorkloads, "the same as --max-workloads")
	_ = f.MarkDeprecated("max-processes", "use --max-workloads") // the flag exists: cannot fail
	f.BoolVar(&opts.PIDLabel, "pid-label", false, "key the metrics by process (pid and process labels) instead of by workload: series then churn with every restart")
}

// thresholds turns the threshold flags into report.CheckThresholds.
// Mistakes are flag errors.
func (o *CheckOptions) thresholds() (report.CheckThresholds, error) {
	l, err := report.CheckSettings{
		MaxCloseWait: o.MaxCloseWait, MaxFinWait2: o.MaxFinWait2, MaxFDUsage: o.MaxFDUsage,
		CloseWaitGiven: o.set["max-close-wait"], FinWait2Given: o.set["max-fin-wait2"], FDUsageGiven: o.set["max-fd-usage"],
		MaxStates: o.MaxStates, Warn: append(slices.Clip(o.Warn), o.warnOld...), Crit: append(slices.Clip(o.Crit), o.critOld...),
		Total: o.Total, NoAcceptQueue: o.NoAcceptQueue,
	}.Thresholds()
	if err != nil {
		return l, &flagError{err}
	}
	l.MaxWorkloads, l.PIDLabel = o.MaxWorkloads, o.PIDLabel
	if o.MinAge < 0 || o.MinAge > maxMinAge {
		return l, flagErrorf("invalid --min-age %v: want a duration from 0 to 1h", o.MinAge)
	}
	if o.Timeout < 0 {
		return l, flagErrorf("invalid --timeout %v: want a duration, or 0 for no limit", o.Timeout)
	}
	if o.set["timeout"] && o.set["min-age"] && o.Timeout > 0 && o.MinAge >= o.Timeout {
		return l, flagErrorf("--min-age %v waits as long as --timeout %v or longer: the check could never finish", o.MinAge, o.Timeout)
	}
	return l, nil
}

// timeout is how long the check may take: -t, and without -t the
// default plus the wait of a --min-age given.
func (o *CheckOptions) timeout() time.Duration {
	if o.Timeout > 0 && !o.set["timeout"] && o.set["min-age"] {
		return o.Timeout + o.MinAge
	}
	return o.Timeout
}

func runCheck(ctx context.Context, opts *CheckOptions) error {
	th, err := opts.thresholds()
	if err != nil {
		return err
	}
	so, err := opts.Scan.options()
	if err != nil {
		return err // a flag mistake, before any sampling
	}
	if warning := th.HiddenWarning(so.States); warning != "" {
		fmt.Fprintf(opts.ErrOut, "sockleak: warning: %s\n", warning)
	}
	r, err := withTimeout(ctx, opts.timeout(), func(ctx context.Context) (*report.Report, error) {
		return judge(ctx, opts, th)
	})
	if err != nil {
		return err
	}
	code, err := writeCheck(opts, r, th, report.Check(r, th))
	if err != nil {
		return err
	}
	if code == exitOK {
		return nil
	}
	return &exitStatus{code} // exitThreshold, or a Nagios plugin's own codes
}

// judge samples what the check needs, and analyses it.
func judge(ctx context.Context, opts *CheckOptions, th report.CheckThresholds) (*report.Report, error) {
	after := opts.after
	if after == nil {
		after = time.After
	}
	// A verdict (text, nagios) needs only the states with a threshold.
	// JSON and the metrics show every state and finding, so they need the
	// whole landscape.
	var tune func(*inspect.Options)
	if (opts.Output == "text" || opts.Output == "nagios") && opts.Textfile == "" {
		dump := th.DumpStates()
		tune = func(o *inspect.Options) { o.DumpStates = dump }
	}
	sample := func(ctx context.Context) (*inspect.Snapshot, error) {
		return scan(ctx, &opts.Scan, opts.ErrOut, tune)
	}
	// The default min age holds against the kernel's bound, where there
	// is one, in this one pass. One the user gave also holds where there
	// is none, by a second sample.
	var wait time.Duration
	if opts.set["min-age"] {
		wait = opts.MinAge
	}
	counted := func(s *inspect.Socket) bool { _, ok := th.States[s.State]; return ok }
	snap, err := stable(ctx, sample, wait, after, counted)
	if errors.Is(err, inspect.ErrNoMatch) && opts.AllowMissing {
		// Nothing to check is a pass: say so, and still write the
		// metrics so a textfile does not go stale.
		snap = report.NoMatch(time.Now(), opts.Scan.ProcRoot, err.Error()+" (--allow-missing)")
	} else if err != nil {
		return nil, err
	}
	rt := report.DefaultThresholds
	rt.MinAge = opts.MinAge
	return report.Analyze(snap, rt), nil
}

// stable is watch.Stable, ended by SIGINT or SIGTERM with an error, not by
// the signal's default: a check stopped during its --min-age wait (by
// systemd, or a monitoring agent's timeout) says so, and a Nagios plugin
// still prints UNKNOWN, where dying by the signal would print nothing.
func stable(ctx context.Context, sample watch.ScanFunc, wait time.Duration, after func(time.Duration) <-chan time.Time,
	counted func(*inspect.Socket) bool) (*inspect.Snapshot, error) {
	sctx, stop := interruptible(ctx)
	defer stop()
	snap, err := watch.Stable(sctx, sample, wait, after, counted)
	if err != nil && sctx.Err() != nil && ctx.Err() == nil {
		return nil, errors.New("stopped by a signal before the check was done: no result")
	}
	return snap, err
}

// writeCheck prints the check's result and writes --textfile, and returns
// the exit code the result calls for. The verdict comes first: a textfile
// that cannot be written must not hide what the check found. A Nagios
// plugin has one status line, so there the write comes first and its
// failure is the status: UNKNOWN.
func writeCheck(opts *CheckOptions, r *report.Report, th report.CheckThresholds, vs []report.Violation) (int, error) {
	writeTextfile := func() error {
		if opts.Textfile == "" {
			return nil
		}
		if err := report.WriteTextfile(opts.Textfile, r, th, vs); err != nil {
			return textfileError(opts.Textfile, err)
		}
		return nil
	}
	if opts.Output == "nagios" {
		if err := writeTextfile(); err != nil {
			return exitError, err
		}
	}
	code, err := checkOutput(opts, r, th, vs)
	if err != nil {
		return code, err
	}
	if len(vs) > 0 || !opts.Quiet {
		// The scan's warnings are diagnostics: on stderr, whatever the
		// output (JSON also carries them); -q's pass says nothing.
		report.Warnings(opts.ErrOut, r.Snapshot.Warnings) //nolint:errcheck // stderr: nowhere to report its failure
	}
	if opts.Output != "nagios" {
		if err := writeTextfile(); err != nil {
			if opts.Output == "text" && opts.Quiet && len(vs) == 0 {
				// -q printed nothing: there is no result above.
				return exitError, fmt.Errorf("%w (the check ran and passed)", err)
			}
			return exitError, fmt.Errorf("%w (the check ran: its result is above)", err)
		}
	}
	return code, nil
}

// textfileError names the file --textfile asked for. The write goes
// through a temporary file beside it (then renamed over it), and the
// error names that temporary file, which the user never gave and which
// is gone by now: keep only the reason.
func textfileError(path string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return fmt.Errorf("could not write --textfile %s: %w", path, err)
}

// checkOutput prints the check's result in the format -o asks for and
// returns the exit code it calls for.
func checkOutput(opts *CheckOptions, r *report.Report, th report.CheckThresholds, vs []report.Violation) (int, error) {
	var err error
	switch opts.Output {
	case "nagios":
		return report.Nagios(opts.Out, r, th, vs)
	case "json":
		err = report.CheckJSON(opts.Out, r, th, vs)
	case "prometheus":
		err = report.Prometheus(opts.Out, r, th, vs)
	default:
		if len(vs) > 0 || !opts.Quiet {
			err = report.CheckText(opts.Out, r, th, vs)
		}
	}
	if err != nil || len(vs) == 0 {
		return exitOK, err
	}
	return exitThreshold, nil
}
