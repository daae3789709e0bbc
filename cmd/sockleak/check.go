package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/report"
	"github.com/sockleak/sockleak/watch"
)

// exitThreshold is check's exit code for a crossed threshold.
const exitThreshold = 1

// exitStatus ends sockleak with a code and nothing more to print: what
// had to be said was said (a check's report, a command's own status).
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return "exit status " + strconv.Itoa(e.code) }

// defaultCritFDUsage is the critical fd usage unless --crit says: where
// inspect's fd_pressure finding turns critical.
const defaultCritFDUsage = 95

// CheckOptions are the flags of sockleak check.
type CheckOptions struct {
	Scan ScanFlags
	// MaxCloseWait is the most CLOSE_WAIT sockets allowed (-1: no limit).
	MaxCloseWait int
	// MaxFinWait2 is the most FIN_WAIT2 sockets allowed. Optional: -1,
	// the default, does not check.
	MaxFinWait2 int
	// MaxStates are STATE=N pairs, any state, any spelling. Optional.
	MaxStates []string
	// MaxFDUsage is the most a process may use of its soft fd limit, in
	// percent (-1: no limit).
	MaxFDUsage int
	// Warn and Crit are METRIC=N pairs: a state or fd-usage. Warn is the
	// same as the --max flags; Crit is the critical level (Nagios).
	// Optional.
	Warn, Crit []string
	Total      bool          // the state limits apply to the host's totals
	MinAge     time.Duration // count only sockets in their state this long. Optional.
	// AllowMissing makes a --pid or --name that matches nothing a pass.
	AllowMissing bool
	Output       string // text, json, nagios or prometheus
	Textfile     string // also write the metrics here, atomically. Optional.
	Quiet        bool   // print nothing when the check passes (cron)
	Out, ErrOut  io.Writer

	// after waits for --min-age; time.After unless a test drives it.
	after func(time.Duration) <-chan time.Time
	// set records which threshold flags were given, so that two
	// different values for one threshold are an error, not a surprise.
	set map[string]bool
}

func newCheckCmd(runF func(context.Context, *CheckOptions) error) *cobra.Command {
	opts := &CheckOptions{}
	c := &cobra.Command{
		Use:   "check",
		Short: "Exit 1 if a process holds too many sockets in CLOSE_WAIT (or another state) or nears its fd limit",
		Long: `Check the host (or the processes --pid and --name select) against thresholds
and exit 0 if all pass, 1 if one is exceeded, 2 if sockleak could not check.
By default any socket in CLOSE_WAIT fails, and so does a process using more
than 80% of its soft open-files limit. Thresholds apply to each process (and to
the kernel's orphans, and to unknown owners) unless --total applies them to the
host as a whole.

With --min-age, a socket counts only if it is in the state at a first sample
and still is at a second one, that long after: a CLOSE_WAIT the application
closes a moment later is not an alert.

Outputs: text (one line per violation, then a summary), json (the inspect
document plus the violations), nagios (a plugin line with performance data,
exit codes 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), prometheus (the text
exposition format; --textfile writes it atomically for node_exporter).`,
		Example: `  sockleak check
  sockleak check --pid 4242 --max-close-wait 10 --min-age 30s
  sockleak check --max-state fin-wait-2=100 --max-state last-ack=50 --total
  sockleak check -o nagios --crit close-wait=100 --crit fd-usage=90
  sockleak check -q --textfile /var/lib/node_exporter/textfile_collector/sockleak.prom`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.Out, opts.ErrOut = c.OutOrStdout(), c.ErrOrStderr()
			opts.set = map[string]bool{}
			for _, name := range []string{"max-close-wait", "max-fin-wait2", "max-fd-usage"} {
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
	f.IntVar(&opts.MaxCloseWait, "max-close-wait", 0, "most sockets in CLOSE_WAIT allowed (-1: no limit)")
	f.IntVar(&opts.MaxFinWait2, "max-fin-wait2", -1, "most sockets in FIN_WAIT2 allowed (-1, the default: not checked)")
	f.StringArrayVar(&opts.MaxStates, "max-state", nil, "most sockets allowed in a state, as STATE=N (repeatable)")
	f.IntVar(&opts.MaxFDUsage, "max-fd-usage", 80, "most a process may use of its soft open-files limit, in percent (-1: no limit)")
	f.StringArrayVar(&opts.Warn, "warn", nil, "warning threshold METRIC=N, METRIC a state or fd-usage; the same as the --max flags (repeatable)")
	f.StringArrayVar(&opts.Crit, "crit", nil, "critical threshold METRIC=N (repeatable; default: the warning threshold, and 95 for fd-usage)")
	f.BoolVar(&opts.Total, "total", false, "apply the state thresholds to the host's totals, not each process")
	f.DurationVar(&opts.MinAge, "min-age", 0, "count only sockets still in their state after this long (two samples)")
	f.BoolVar(&opts.AllowMissing, "allow-missing", false, "pass when --pid or --name matches no process")
	f.StringVarP(&opts.Output, "output", "o", "text", "output format: text, json, nagios or prometheus")
	f.StringVar(&opts.Textfile, "textfile", "", "also write the metrics to this file, atomically (node_exporter's textfile collector)")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print nothing when the check passes (for cron's mail)")
	return c
}

// metricOf parses the left side of METRIC=N: fd-usage, or a state.
func metricOf(s string) (state inspect.TCPState, fd bool, err error) {
	switch strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(strings.TrimSpace(s))) {
	case "fdusage", "fd", "fds":
		return 0, true, nil
	}
	st, err := inspect.ParseState(s)
	return st, false, err
}

// parseThreshold parses METRIC=N.
func parseThreshold(flag, s string, allowFD bool) (inspect.TCPState, bool, int, error) {
	name, val, ok := strings.Cut(s, "=")
	if !ok {
		return 0, false, 0, flagErrorf("invalid %s %q: want STATE=N", flag, s)
	}
	st, fd, err := metricOf(name)
	if err != nil || (fd && !allowFD) {
		if fd {
			err = fmt.Errorf("fd usage has its own flag, --max-fd-usage")
		}
		return 0, false, 0, flagErrorf("invalid %s %q: %v", flag, s, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(val))
	if err != nil || n < 0 {
		return 0, false, 0, flagErrorf("invalid %s %q: want a count of 0 or more", flag, s)
	}
	if fd && n > 100 {
		return 0, false, 0, flagErrorf("invalid %s %q: fd usage is a percentage, 0-100", flag, s)
	}
	return st, fd, n, nil
}

// limits turns the threshold flags into report.CheckThresholds. Mistakes are flag
// errors.
func (o *CheckOptions) limits() (report.CheckThresholds, error) {
	l := report.CheckThresholds{States: map[inspect.TCPState]report.Level{}, Total: o.Total}
	type source struct {
		flag string
		n    int
	}
	warn := map[inspect.TCPState]source{}
	var fdWarn *source
	// set records a warning threshold. A default (flag "") gives way to
	// any flag; two flags that disagree are a mistake.
	set := func(st inspect.TCPState, fd bool, src source) error {
		if fd {
			if fdWarn != nil && fdWarn.flag != "" && src.flag != "" && fdWarn.n != src.n {
				return flagErrorf("fd usage given twice: %d%% (%s) and %d%% (%s)", fdWarn.n, fdWarn.flag, src.n, src.flag)
			}
			fdWarn = &src
			return nil
		}
		if prev, ok := warn[st]; ok && prev.flag != "" && src.flag != "" && prev.n != src.n {
			return flagErrorf("%s given twice: %d (%s) and %d (%s)", st, prev.n, prev.flag, src.n, src.flag)
		}
		warn[st] = src
		return nil
	}
	flagSource := func(name string, n int) source {
		if o.set[name] {
			return source{"--" + name, n}
		}
		return source{"", n} // a default: any other flag overrides it
	}
	switch {
	case o.MaxCloseWait >= 0:
		_ = set(inspect.CloseWait, false, flagSource("max-close-wait", o.MaxCloseWait))
	case o.MaxCloseWait < -1:
		return l, flagErrorf("invalid --max-close-wait %d: want a count, or -1 for no limit", o.MaxCloseWait)
	}
	switch {
	case o.MaxFinWait2 >= 0:
		_ = set(inspect.FinWait2, false, flagSource("max-fin-wait2", o.MaxFinWait2))
	case o.MaxFinWait2 < -1:
		return l, flagErrorf("invalid --max-fin-wait2 %d: want a count, or -1 for no limit", o.MaxFinWait2)
	}
	switch {
	case o.MaxFDUsage >= 0 && o.MaxFDUsage <= 100:
		_ = set(0, true, flagSource("max-fd-usage", o.MaxFDUsage))
	case o.MaxFDUsage != -1:
		return l, flagErrorf("invalid --max-fd-usage %d: want a percentage, 0-100, or -1 for no limit", o.MaxFDUsage)
	}
	for _, flag := range []struct {
		name    string
		vals    []string
		allowFD bool
	}{{"--max-state", o.MaxStates, false}, {"--warn", o.Warn, true}} {
		for _, s := range flag.vals {
			st, fd, n, err := parseThreshold(flag.name, s, flag.allowFD)
			if err != nil {
				return l, err
			}
			if err := set(st, fd, source{flag.name + " " + s, n}); err != nil {
				return l, err
			}
		}
	}
	crit := map[inspect.TCPState]int{}
	fdCrit := -1
	for _, s := range o.Crit {
		st, fd, n, err := parseThreshold("--crit", s, true)
		if err != nil {
			return l, err
		}
		if fd {
			fdCrit = n
			if fdWarn == nil { // critical only: warn at the same level
				fdWarn = &source{"--crit", n}
			}
			continue
		}
		crit[st] = n
		if _, ok := warn[st]; !ok {
			warn[st] = source{"--crit", n}
		}
	}
	for st, w := range warn {
		c, ok := crit[st]
		if !ok {
			c = w.n
		}
		if c < w.n {
			return l, flagErrorf("--crit %s=%d is below its warning threshold %d", st, c, w.n)
		}
		l.States[st] = report.Level{Warn: w.n, Crit: c}
	}
	if fdWarn != nil {
		c := fdCrit
		if c < 0 {
			c = max(fdWarn.n, defaultCritFDUsage)
		}
		if c < fdWarn.n {
			return l, flagErrorf("--crit fd-usage=%d is below its warning threshold %d", c, fdWarn.n)
		}
		l.FDUsage = &report.Level{Warn: fdWarn.n, Crit: c}
	}
	if len(l.States) == 0 && l.FDUsage == nil {
		return l, flagErrorf("no thresholds to check: every limit is off")
	}
	if o.MinAge < 0 {
		return l, flagErrorf("invalid --min-age %v: want a duration of 0 or more", o.MinAge)
	}
	return l, nil
}

func runCheck(ctx context.Context, opts *CheckOptions) error {
	limits, err := opts.limits()
	if err != nil {
		return err
	}
	so, err := opts.Scan.options()
	if err != nil {
		return err // a flag mistake, before any sampling
	}
	if hidden := hiddenStates(so.States, limits); len(hidden) > 0 {
		whose := "its threshold"
		if len(hidden) > 1 {
			whose = "their thresholds"
		}
		fmt.Fprintf(opts.ErrOut, "sockleak: warning: --state hides every socket in %s, so %s cannot be crossed\n",
			strings.Join(hidden, " and "), whose)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	after := opts.after
	if after == nil {
		after = time.After
	}
	// For a verdict (text, nagios) only the states with a threshold
	// matter: with netlink the kernel leaves the rest out, and with none to
	// match the fd walk only counts. JSON and the metrics show every state
	// and finding, so they need the whole landscape.
	var tune func(*inspect.Options)
	if (opts.Output == "text" || opts.Output == "nagios") && opts.Textfile == "" {
		need := make([]inspect.TCPState, 0, len(limits.States))
		for st := range limits.States {
			need = append(need, st)
		}
		if len(need) == 0 {
			need = []inspect.TCPState{inspect.Listen} // fd usage alone: no socket state is needed
		}
		tune = func(o *inspect.Options) { o.DumpStates = need }
	}
	sample := func(ctx context.Context) (*inspect.Snapshot, error) {
		return scan(ctx, &opts.Scan, opts.ErrOut, tune)
	}
	snap, err := watch.Stable(ctx, sample, opts.MinAge, after)
	if errors.Is(err, inspect.ErrNoMatch) && opts.AllowMissing {
		// Nothing to check is a pass: say so, and still write the
		// metrics so a textfile does not go stale.
		snap = &inspect.Snapshot{Time: time.Now(), ProcRoot: opts.Scan.ProcRoot, Selected: true,
			Warnings: []string{err.Error() + " (--allow-missing)"}}
	} else if err != nil {
		return err
	}
	r := report.Analyze(snap, report.DefaultThresholds)
	vs := report.Check(r, limits)
	// The verdict first: a textfile that cannot be written must not hide
	// what the check found. A Nagios plugin has one status line, so there
	// the write comes first and its failure is the status: UNKNOWN.
	writeTextfile := func() error {
		if opts.Textfile == "" {
			return nil
		}
		if err := report.WriteTextfile(opts.Textfile, r, limits, vs); err != nil {
			return fmt.Errorf("could not write --textfile: %w", err)
		}
		return nil
	}
	if opts.Output == "nagios" {
		if err := writeTextfile(); err != nil {
			return err
		}
	}
	code, err := checkOutput(opts, r, limits, vs)
	if err != nil {
		return err
	}
	if opts.Output != "nagios" {
		if err := writeTextfile(); err != nil {
			return fmt.Errorf("%w (the check ran: its result is above)", err)
		}
	}
	if code == exitOK {
		return nil
	}
	return &exitStatus{code} // exitThreshold, or a Nagios plugin's own codes
}

// hiddenStates returns the states with a threshold that a --state filter
// leaves out of the view.
func hiddenStates(filter []inspect.TCPState, l report.CheckThresholds) []string {
	if len(filter) == 0 {
		return nil
	}
	var hidden []string
	for st := range l.States {
		if !slices.Contains(filter, st) {
			hidden = append(hidden, st.String())
		}
	}
	slices.Sort(hidden)
	return hidden
}

// checkOutput prints the check's result in the format -o asks for and
// returns the exit code it calls for.
func checkOutput(opts *CheckOptions, r *report.Report, limits report.CheckThresholds, vs []report.Violation) (int, error) {
	var err error
	switch opts.Output {
	case "nagios":
		return report.Nagios(opts.Out, r, limits, vs)
	case "json":
		err = report.CheckJSON(opts.Out, r, limits, vs)
	case "prometheus":
		err = report.Prometheus(opts.Out, r, limits, vs)
	default:
		if len(vs) > 0 || !opts.Quiet {
			err = report.CheckText(opts.Out, r, limits, vs)
		}
	}
	if err != nil || len(vs) == 0 {
		return exitOK, err
	}
	return exitThreshold, nil
}
