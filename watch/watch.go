package watch

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// MinInterval is the shortest --interval: each sample is a scan of every
// process and socket, and a shorter interval would run them back to back.
const MinInterval = 100 * time.Millisecond

// Options are the settings of a sockleak watch, as its flags give them.
type Options struct {
	Interval time.Duration // --interval: between samples
	// Count stops after this many samples (--count). Optional: 0 runs
	// until ctx is done.
	Count  int
	Window time.Duration // --window: how far back trends look
	// Thresholds are the alerts' (--max-close-wait,
	// --max-close-wait-age, --max-fd-usage, --eta).
	Thresholds Thresholds
	// MaxWorkloads is how many workloads (processes, with --pid-label)
	// get metrics of their own (--max-workloads); the exporter sums the
	// rest.
	MaxWorkloads int
}

// Validate returns an error naming the first setting out of range by its
// flag, or nil.
func (o *Options) Validate() error {
	switch {
	case o.Interval < MinInterval:
		return fmt.Errorf("invalid --interval %v: want %v or more", o.Interval, MinInterval)
	case o.Count < 0:
		return fmt.Errorf("invalid --count %d: want 0 (no end) or more", o.Count)
	case o.Window < o.Interval:
		return fmt.Errorf("invalid --window %v: want at least the --interval (%v)", o.Window, o.Interval)
	case o.Thresholds.CloseWait < -1:
		return fmt.Errorf("invalid --max-close-wait %d: want 0 or more (-1: off)", o.Thresholds.CloseWait)
	case !(o.Thresholds.FDUsage >= 0 && o.Thresholds.FDUsage <= 100): // NaN too
		return fmt.Errorf("invalid --max-fd-usage %v: want a percentage", o.Thresholds.FDUsage)
	case o.Thresholds.MaxAge < 0 || o.Thresholds.ETA < 0:
		return errors.New("invalid --max-close-wait-age or --eta: want a duration of 0 (off) or more")
	case o.MaxWorkloads <= 0:
		return fmt.Errorf("invalid --max-workloads %d: want 1 or more", o.MaxWorkloads)
	}
	return nil
}

// Watch runs a Monitor with the options over sample's samples until ctx
// is done or Count samples were taken. Each status goes to the exporter
// (optional: nil) and to render. A first sample that fails ends it with
// that sample's error: a watch that cannot sample at all says so and
// stops; later failures are statuses like any other.
func Watch(ctx context.Context, o Options, sample SampleFunc, exp *Exporter, render func(*Status) error) error {
	mon := NewMonitor(Config{Window: o.Window, Thresholds: o.Thresholds})
	return mon.Run(ctx, RunConfig{Interval: o.Interval, Count: o.Count, Sample: sample}, func(st *Status) error {
		if exp != nil {
			exp.Update(st)
		}
		if st.Err != nil && st.Seq == 1 {
			return st.Err
		}
		return render(st)
	})
}
