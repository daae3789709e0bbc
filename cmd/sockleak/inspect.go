package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/report"
)

// InspectOptions are the flags of sockleak inspect.
type InspectOptions struct {
	Scan    ScanFlags
	Output  string // -o: text or json (table: the deprecated name of text)
	Sockets bool   // --sockets: list every socket
	Top     int    // --top: peers per process and state
	// MinAge: the findings leave out CLOSE_WAIT and FIN_WAIT2 sockets
	// younger than this by the kernel's bound; 0 counts every socket.
	MinAge time.Duration
	Out    io.Writer
	ErrOut io.Writer
}

func newInspectCmd(runF func(context.Context, *InspectOptions) error) *cobra.Command {
	opts := &InspectOptions{}
	c := &cobra.Command{
		Use:   "inspect",
		Short: "Show processes, their TCP sockets by state and peer, fd usage, and a diagnosis",
		Long: `Show, in one screen, which process holds which TCP state to which peer, its
file descriptors against its limit, and what is wrong: findings first, then
processes, then their top peers. Findings never fail inspect: use 'check' to
alert.

The findings leave out sockets in CLOSE_WAIT or FIN_WAIT2 for less than
--min-age (default 3s) by the kernel's own lower bound of their age (tcp_info,
read over netlink; the AGE column and age_ms): a client that closes a moment
after its peer's FIN is no leak. They are still listed. --min-age 0 counts
every socket; without the bound (the proc backend) every socket counts.`,
		Example: `  sockleak inspect
  sockleak inspect --state close-wait --sockets
  sockleak inspect --pid 4242 -o json
  sockleak inspect --proc-root /host/proc`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.Out, opts.ErrOut = c.OutOrStdout(), c.ErrOrStderr()
			switch opts.Output {
			case "table":
				// Every other command calls its person's output text.
				fmt.Fprintln(opts.ErrOut, "sockleak: -o table has been deprecated, use -o text")
				opts.Output = "text"
			case "text", "json":
			default:
				return flagErrorf("invalid -o %q: want text or json", opts.Output)
			}
			if opts.MinAge < 0 {
				return flagErrorf("invalid --min-age %v: want a duration of 0 or more", opts.MinAge)
			}
			if opts.Top < 1 {
				return flagErrorf("invalid --top %d: want 1 or more peers per process and state", opts.Top)
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runInspect(c.Context(), opts)
		},
	}
	opts.Scan.register(c.Flags())
	c.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text (tables, for a person) or json")
	c.Flags().BoolVar(&opts.Sockets, "sockets", false, "list every socket, grouped by process")
	c.Flags().IntVar(&opts.Top, "top", 5, "peers to show per process and state")
	c.Flags().DurationVar(&opts.MinAge, "min-age", report.DefaultMinAge, minAgeUsage+" for the findings (still listed)")
	return c
}

// minAgeUsage is the start of --min-age's usage line, check's and
// inspect's.
const minAgeUsage = "count only CLOSE_WAIT and FIN_WAIT2 sockets in their state this long " +
	"by the kernel's bound of their age, in one pass (0: every socket)"

// scan runs the collection the scan flags describe; tune adjusts the
// options a command needs beyond the flags (optional). With -v, how the
// scan went goes to errOut.
func scan(ctx context.Context, f *ScanFlags, errOut io.Writer, tune func(*inspect.Options)) (*inspect.Snapshot, error) {
	o, err := f.options()
	if err != nil {
		return nil, err
	}
	if tune != nil {
		tune(&o)
	}
	fsys, err := inspect.NewFS(f.ProcRoot)
	if err != nil {
		return nil, err
	}
	// What a scan allocates stays live until it ends (the socket table,
	// the owners), so a collection during it frees nothing, and it costs:
	// marking the new socket table maps its untouched pages to the zero
	// page, and each first write to one then takes a copy-on-write fault
	// and a TLB shootdown of the other cores. At 100k sockets that made
	// the dump a third slower. The collector is back on before analysis.
	defer pauseGC()()
	snap, err := inspect.Scan(ctx, fsys, o)
	if err == nil && f.Verbose {
		fmt.Fprintf(errOut, "sockleak: read sockets with the %s backend from %s: %d sockets, %d processes\n",
			snap.Backend, snap.ProcRoot, len(snap.Sockets), len(snap.Processes))
		for _, n := range snap.Notes {
			fmt.Fprintf(errOut, "sockleak: note: %s\n", n)
		}
	}
	return snap, err
}

func runInspect(ctx context.Context, opts *InspectOptions) error {
	// Idle times cost a little per socket: ask only when they are shown.
	idle := func(o *inspect.Options) { o.IdleTimes = opts.Sockets || opts.Output == "json" }
	snap, err := scan(ctx, &opts.Scan, opts.ErrOut, idle)
	if err != nil {
		return err
	}
	th := report.DefaultThresholds
	th.MinAge = opts.MinAge
	r := report.Analyze(snap, th)
	if opts.Output == "json" {
		err = report.JSON(opts.Out, r)
	} else {
		err = report.Table(opts.Out, r, report.TableOptions{Top: opts.Top, Sockets: opts.Sockets})
	}
	if err != nil {
		return err
	}
	// The document on stdout, its warnings on stderr (JSON also carries
	// them).
	return report.Warnings(opts.ErrOut, snap.Warnings)
}

// gcPause is the collector's pause during scans. Scans that overlap (the
// commands of parallel tests, in one process) share it, and the last to
// end restores the collector: a plain SetGCPercent(-1) and its restore,
// interleaved, could leave it off for good.
var gcPause struct {
	sync.Mutex
	scans   int
	percent int // the setting to restore
}

// pauseGC turns the collector off until the returned resume is called.
func pauseGC() (resume func()) {
	gcPause.Lock()
	defer gcPause.Unlock()
	if gcPause.scans == 0 {
		gcPause.percent = debug.SetGCPercent(-1)
	}
	gcPause.scans++
	return func() {
		gcPause.Lock()
		defer gcPause.Unlock()
		if gcPause.scans--; gcPause.scans == 0 {
			debug.SetGCPercent(gcPause.percent)
		}
	}
}
