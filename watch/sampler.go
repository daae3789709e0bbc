package watch

import (
	"context"
	"errors"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/report"
)

// NewSampler returns a Monitor's sampler: a scan (whose processes carry
// their start times, so that a reused PID reads as a new process). A scan
// whose selected processes are all gone (for now, inspect.ErrNoMatch) is
// an observation in a watch, not a failure: it samples an empty view of
// fsys's root, and their alerts resolve.
func NewSampler(fsys inspect.FS, scan Sampler) func(context.Context) (Sample, error) {
	return func(ctx context.Context) (Sample, error) {
		snap, err := scan(ctx)
		if errors.Is(err, inspect.ErrNoMatch) {
			snap, err = report.NoMatch(time.Now(), fsys.Root(), err.Error()), nil
		}
		if err != nil {
			return Sample{}, err
		}
		return Sample{Snap: snap}, nil
	}
}
