package watch

import (
	"context"
	"errors"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/report"
)

// NewSampler returns a Monitor's sampler: a scan, and the start time of
// each process it holds (read from fsys), so that a reused PID reads as a
// new process. A scan whose selected processes are all gone (for now,
// inspect.ErrNoMatch) is an observation in a watch, not a failure: it
// samples an empty view, and their alerts resolve.
func NewSampler(fsys inspect.FS, scan Sampler) func(context.Context) (Sample, error) {
	return func(ctx context.Context) (Sample, error) {
		snap, err := scan(ctx)
		if errors.Is(err, inspect.ErrNoMatch) {
			snap, err = report.NoMatch(time.Now(), fsys.Root(), err.Error()), nil
		}
		if err != nil {
			return Sample{}, err
		}
		start := make(map[int]uint64, len(snap.Processes))
		for _, p := range snap.Processes {
			if t, err := fsys.StartTime(p.PID); err == nil {
				start[p.PID] = t
			}
		}
		return Sample{Snap: snap, Start: start}, nil
	}
}
