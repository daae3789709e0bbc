package watch

import (
	"context"
	"time"
)

// Loop calls sample at once, then on every tick, until done is closed or
// ctx is cancelled. tick is a time.Ticker's channel in production.
func Loop(ctx context.Context, tick <-chan time.Time, done <-chan struct{}, sample func()) {
	for {
		// Stop without one more sample when done is already closed.
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		default:
		}
		sample()
		select {
		case <-tick:
		case <-done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// RunConfig configures Monitor.Run.
type RunConfig struct {
	// Interval is the time between samples.
	Interval time.Duration
	// Count stops after this many samples. Optional: 0 runs until ctx is
	// done.
	Count int
	// Sample takes one sample.
	Sample SampleFunc
	// Tick replaces the interval's ticker: tests send on it. Optional.
	Tick <-chan time.Time
}

// Run samples at once and then every interval until ctx is done or Count
// samples were taken, and hands each status (a failed sample's has Err
// set) to emit. It returns nil when it stops for ctx or Count, and emit's
// error if emit fails (which stops it).
func (m *Monitor) Run(ctx context.Context, cfg RunConfig, emit func(*Status) error) error {
	tick := cfg.Tick
	if tick == nil {
		t := time.NewTicker(cfg.Interval)
		defer t.Stop()
		tick = t.C
	}
	done := make(chan struct{})
	var emitErr error
	n := 0
	Loop(ctx, tick, done, func() {
		start := time.Now()
		s, err := cfg.Sample(ctx)
		if ctx.Err() != nil {
			close(done) // a sample cut short by the end is no sample
			return
		}
		var st *Status
		if err != nil {
			st = m.Failed(start, err)
		} else {
			if s.Took == 0 {
				s.Took = time.Since(start)
			}
			st = m.Observe(s)
		}
		n++
		if emitErr = emit(st); emitErr != nil || (cfg.Count > 0 && n >= cfg.Count) {
			close(done)
		}
	})
	return emitErr
}
