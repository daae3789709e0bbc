package watch

import (
	"context"
	"errors"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/report"
)

// SampleFunc takes one sample for a Monitor.
type SampleFunc func(ctx context.Context) (Sample, error)

// NewSampler returns a Monitor's sampler: a scan (whose processes carry
// their start times, so that a reused PID reads as a new process). A scan
// whose selected processes are all gone (for now, inspect.ErrNoMatch) is
// an observation in a watch, not a failure: it samples an empty view of
// procRoot, and their alerts resolve.
func NewSampler(procRoot string, scan ScanFunc) SampleFunc {
	return func(ctx context.Context) (Sample, error) {
		snap, err := scan(ctx)
		if errors.Is(err, inspect.ErrNoMatch) {
			snap, err = report.NoMatch(time.Now(), procRoot, err.Error()), nil
		}
		if err != nil {
			return Sample{}, err
		}
		return Sample{Snap: snap}, nil
	}
}
