package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/report"
	"github.com/sockleak/sockleak/watch"
)

// WatchOptions are the flags of sockleak watch.
type WatchOptions struct {
	Scan     ScanFlags
	Interval time.Duration // --interval: between samples
	Count    int           // --count: stop after this many samples. Optional: 0 runs until SIGINT/SIGTERM.
	Window   time.Duration // --window: how far back rates look
	// The alert rules (docs/flags.md): --max-close-wait (-1 off),
	// --max-close-wait-age (0 off), --max-fd-usage percent (-1 off), --eta
	// (0 off), --crash-loop (0 off). The deprecated --close-wait and
	// --max-age set the first two; --fd-usage (0 off) is fdUsageOld.
	CloseWait int
	MaxAge    time.Duration
	FDUsage   float64
	ETA       time.Duration
	CrashLoop int
	// Output is -o: text, json or live; "" picks live on a terminal and
	// text otherwise.
	Output string
	// Listen is --listen: serve /metrics and /healthz on this address.
	// Optional.
	Listen string
	// WebConfigFile is --web.config.file: TLS and basic auth for
	// --listen, as Prometheus exporters take them. Optional.
	WebConfigFile string
	// MaxWorkloads is --max-workloads (and the deprecated
	// --max-processes): workloads with series of their own; PIDLabel is
	// --pid-label: series per process, the cap counting processes.
	MaxWorkloads int
	PIDLabel     bool
	// Trace is --trace: trace's programs loaded for the watch, for exact
	// ages and, at the end, the stacks that opened the sockets held.
	Trace       bool
	Out, ErrOut io.Writer

	// listening is told the exporter's address once it listens (tests
	// listen on port 0). Optional.
	listening func(net.Addr)
	// fdUsageOld is the deprecated --fd-usage, whose off was 0; given
	// says which flags were.
	fdUsageOld float64
	given      func(name string) bool
}

// thresholds returns the alert rules the flags give, in watch's terms
// (where 0 is off for every rule but CLOSE_WAIT's count).
func (o *WatchOptions) thresholds() (watch.Thresholds, error) {
	fd := o.FDUsage
	if o.given != nil && o.given("fd-usage") {
		old := o.fdUsageOld
		if old == 0 {
			old = -1 // --fd-usage's off
		}
		if o.given("max-fd-usage") && old != fd {
			return watch.Thresholds{}, flagErrorf("--fd-usage %v and --max-fd-usage %v disagree: give --max-fd-usage alone", o.fdUsageOld, fd)
		}
		fd = old
	}
	switch {
	case fd == -1:
		fd = 0 // watch's off
	case !(fd > 0 && fd <= 100): // NaN too
		return watch.Thresholds{}, flagErrorf("invalid --max-fd-usage %v: want a percentage, more than 0 and at most 100, or -1 for off", fd)
	}
	return watch.Thresholds{CloseWait: o.CloseWait, MaxAge: o.MaxAge, FDUsage: fd, ETA: o.ETA, CrashLoop: o.CrashLoop}, nil
}

// watchLong is watch's help.
const watchLong = `Sample the host's TCP sockets (or those inspect's filters select) every
--interval and follow each process (by pid and start time, so a reused pid is
a new process) and each CLOSE_WAIT socket (by namespace and inode):

  - the growth of each state per process over --window, in sockets per minute
    (a least-squares fit), and of its descriptors, with the time left until
    its soft open-files limit at that pace;
  - how long each CLOSE_WAIT socket has sat in the state, from the kernel's
    lower bound of its age (netlink), so a leak older than the watch shows
    its age on the first sample;
  - alerts, printed once when they fire and once when they resolve: more than
    --max-close-wait sockets in CLOSE_WAIT (resolves at 3/4 of it), a
    CLOSE_WAIT socket older than --max-close-wait-age, fd usage at
    --max-fd-usage percent (resolves 5 points below), the fd limit less than
    --eta away (resolves when growth stops or the estimate is 1.5 times
    --eta), and a crash loop: --crash-loop processes of a workload ended
    near their fd limit within 10 minutes and it came back. Alerts are per
    workload (a unit, container or pod; a plain process by its name and
    command line), so they carry on when its pid changes, as do its
    CLOSE_WAIT growth and time to the limit. docs/flags.md has every flag,
    and the old names.

On a terminal the screen is redrawn at each sample (-o live), worst process
on top; otherwise (or with -o text) it prints one summary line per sample and
one line per alert, for logs; -o json prints one JSON object per line.

--listen serves the latest sample's metrics on /metrics for Prometheus and a
health check on /healthz; the scan runs on the sampling loop, never per
scrape. --web.config.file adds TLS and basic auth, in the format of the
Prometheus exporter-toolkit (as node_exporter's). It runs until SIGINT or SIGTERM, or --count samples (the live view
then leaves its last frame on the terminal).`

func newWatchCmd(runF func(context.Context, *WatchOptions) error) *cobra.Command {
	opts := &WatchOptions{}
	c := &cobra.Command{
		Use:   "watch",
		Short: "Sample sockets over time: which process leaks, how fast, and when it hits its fd limit",
		Long:  watchLong,
		Example: `  sockleak watch
  sockleak watch --name openser --interval 5s --window 10m
  sockleak watch -o json --count 30 > samples.jsonl
  sockleak watch --listen 127.0.0.1:9816 -o text`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.Out, opts.ErrOut = c.OutOrStdout(), c.ErrOrStderr()
			opts.given = c.Flags().Changed
			switch opts.Output {
			case "", "text", "json", "live":
			default:
				return flagErrorf("invalid -o %q: want text, json or live", opts.Output)
			}
			if opts.WebConfigFile != "" && opts.Listen == "" {
				return flagErrorf("--web.config.file needs --listen")
			}
			if err := opts.fdAlertsPossible(); err != nil {
				return err
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runWatch(c.Context(), opts)
		},
	}
	f := c.Flags()
	opts.Scan.register(f)
	f.DurationVar(&opts.Interval, "interval", 2*time.Second, "time between samples (at least "+watch.MinInterval.String()+")")
	f.IntVar(&opts.Count, "count", 0, "stop after this many samples (default: run until SIGINT or SIGTERM)")
	f.DurationVar(&opts.Window, "window", watch.DefaultWindow, "how far back growth rates look")
	registerAlertFlags(f, opts)
	f.DurationVar(&opts.ETA, "eta", 10*time.Minute, "alert when a process's growing fds reach its soft limit sooner than this, across its workload's restarts (0: off)")
	f.IntVar(&opts.CrashLoop, "crash-loop", watch.DefaultCrashLoop, fmt.Sprintf("alert when this many processes of a workload ended at %.0f%%+ of their fd limit within %v and it came back (0: off)",
		100*watch.CrashLoopUsage, watch.CrashLoopWindow))
	f.StringVarP(&opts.Output, "output", "o", "", "output: text, json or live (default: live on a terminal, else text)")
	f.StringVar(&opts.Listen, "listen", "", "serve Prometheus metrics on /metrics and a health check on /healthz at this address (e.g. 127.0.0.1:9816)")
	f.StringVar(&opts.WebConfigFile, "web.config.file", "", "serve --listen with TLS and basic auth as this web config file says (the Prometheus exporter-toolkit's format)")
	maxHelp := fmt.Sprintf("workloads (the worst first: firing alerts, soonest fd limit, CLOSE_WAIT, sockets) with metrics of their own; "+
		`the rest are summed as kind="other". With N, /metrics holds at most %d×(N+1)+%d series (%d for %d)`,
		len(inspect.States)+watch.OtherSeries, watch.MaxSeries(0)-len(inspect.States)-watch.OtherSeries,
		watch.MaxSeries(watch.DefaultMaxWorkloads), watch.DefaultMaxWorkloads)
	f.IntVar(&opts.MaxWorkloads, "max-workloads", watch.DefaultMaxWorkloads, maxHelp)
	f.IntVar(&opts.MaxWorkloads, "max-processes", watch.DefaultMaxWorkloads, "the same as --max-workloads")
	_ = f.MarkDeprecated("max-processes", "use --max-workloads") // the flag exists: cannot fail
	f.BoolVar(&opts.Trace, "trace", false, "load sockleak trace's BPF programs: exact ages (from the state change, not the first sample), and at the end the stacks that opened the sockets still held (root or CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE)")
	f.BoolVar(&opts.PIDLabel, "pid-label", false, "series per process, with pid and process labels (a restart starts new series; --max-workloads then counts processes)")
	return c
}

// registerAlertFlags registers the alert rules' flags, and the old names
// they replace (docs/flags.md).
func registerAlertFlags(f *pflag.FlagSet, opts *WatchOptions) {
	cw := report.DefaultCritCloseWait
	f.IntVar(&opts.CloseWait, "max-close-wait", cw, "alert when a workload holds more CLOSE_WAIT sockets than this (-1: off)")
	f.DurationVar(&opts.MaxAge, "max-close-wait-age", 5*time.Minute, "alert when a CLOSE_WAIT socket is this old (0: off)")
	f.Float64Var(&opts.FDUsage, "max-fd-usage", report.DefaultWarnFDUsage, "alert when a process uses this percentage of its soft fd limit (-1: off)")
	f.IntVar(&opts.CloseWait, "close-wait", cw, "the same as --max-close-wait")
	f.DurationVar(&opts.MaxAge, "max-age", 5*time.Minute, "the same as --max-close-wait-age")
	f.Float64Var(&opts.fdUsageOld, "fd-usage", report.DefaultWarnFDUsage, "--max-fd-usage, with 0 for off")
	for old, now := range map[string]string{"close-wait": "--max-close-wait", "max-age": "--max-close-wait-age", "fd-usage": "--max-fd-usage (-1: off)"} {
		_ = f.MarkDeprecated(old, "use "+now) // the flags exist: cannot fail
	}
}

// fdAlertsPossible refuses the fd alerts asked for (--max-fd-usage,
// --eta) where other processes' limits cannot be read: they could never
// fire. The defaults stay, idle.
func (o *WatchOptions) fdAlertsPossible() error {
	if o.given("max-fd-usage") && o.FDUsage > 0 || o.given("fd-usage") && o.fdUsageOld > 0 || o.given("eta") && o.ETA > 0 {
		if err := fdLimitsUnknown(); err != nil {
			return fmt.Errorf("--max-fd-usage, --eta: %w", err)
		}
	}
	return nil
}

// watchFS opens the proc root a watch samples. The bpf backend's program
// is loaded now, once for every sample, and what the load parsed (the
// kernel's BTF, several MB) is freed before the first sample rather than
// carried into its peak.
func watchFS(f *ScanFlags) (inspect.FS, error) {
	so, err := f.options()
	if err != nil {
		return inspect.FS{}, err
	}
	fsys, err := inspect.NewFS(f.ProcRoot)
	if err != nil {
		return inspect.FS{}, err
	}
	if inspect.Preload(fsys, so.Backend) {
		debug.FreeOSMemory()
	}
	return fsys, nil
}

func runWatch(ctx context.Context, opts *WatchOptions) error {
	th, err := opts.thresholds()
	if err != nil {
		return err
	}
	wo := watch.Options{
		Interval: opts.Interval, Count: opts.Count, Window: opts.Window, MaxWorkloads: opts.MaxWorkloads, Thresholds: th,
	}
	if err := wo.Validate(); err != nil {
		return &flagError{err}
	}
	fsys, err := watchFS(&opts.Scan)
	if err != nil {
		return err
	}
	ctx, stop := interruptible(ctx)
	defer stop()

	cols, rows, tty := terminalSize(opts.Out)
	output := watch.ResolveOutput(opts.Output, tty)
	// -v's notes go to stderr, except under the live view, which they
	// would scribble over.
	notes := opts.ErrOut
	if output == "live" {
		notes = io.Discard
	}
	sample := watch.NewSampler(fsys.Root(), func(ctx context.Context) (*inspect.Snapshot, error) {
		return scan(ctx, &opts.Scan, notes, nil)
	})
	var wt *watchTrace
	if opts.Trace {
		if wt, err = startWatchTrace(opts, fsys); err != nil {
			return err
		}
		sample = wt.sampler(sample)
	}

	var exp *watch.Exporter
	if opts.Listen != "" {
		exp = watch.NewExporter(wo.MaxWorkloads, opts.PIDLabel)
		srv, err := watch.Serve(watch.ServeOptions{Addr: opts.Listen, Interval: opts.Interval, Version: versionString(),
			WebConfigFile: opts.WebConfigFile, Log: notes}, exp)
		if err != nil {
			return fmt.Errorf("--listen: %w", err)
		}
		defer srv.Shutdown() //nolint:errcheck // scrapes cut short at exit are the scraper's to retry
		fmt.Fprintf(opts.ErrOut, "sockleak: serving metrics on http://%s/metrics\n", srv.Addr())
		if opts.listening != nil {
			opts.listening(srv.Addr())
		}
	}

	size := func() (int, int) {
		if c, r, ok := terminalSize(opts.Out); ok {
			return c, r
		}
		return cols, rows
	}
	render, done, err := watch.NewRender(output, opts.Out, os.Getenv("NO_COLOR") == "", size)
	if err != nil {
		return err
	}
	if wt != nil {
		render = wt.render(render)
	}
	err = watch.Watch(ctx, wo, sample, exp, render)
	// A watch that ended on its own (--count) leaves its last frame on
	// the terminal; one the user stopped gives the screen back as it was.
	done(err == nil && ctx.Err() == nil) //nolint:errcheck // the terminal is going away with us
	if wt != nil {
		if rerr := wt.report(opts); err == nil {
			err = rerr
		}
	}
	return err
}
