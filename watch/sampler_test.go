package watch

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sockleak/sockleak/inspect"
)

func TestNewSampler(t *testing.T) {
	const root = "/host/proc"
	scanned := &inspect.Snapshot{Time: t0, Processes: []inspect.Process{{PID: 700}}}
	s, err := NewSampler(root, func(context.Context) (*inspect.Snapshot, error) { return scanned, nil })(context.Background())
	if err != nil || s.Snap != scanned {
		t.Fatalf("sample = %+v, %v; want the scan's snapshot", s, err)
	}

	// The selected processes are gone: an empty view, not a failure.
	gone := fmt.Errorf("%w: no process named nginx", inspect.ErrNoMatch)
	s, err = NewSampler(root, func(context.Context) (*inspect.Snapshot, error) { return nil, gone })(context.Background())
	if err != nil || s.Snap == nil || len(s.Snap.Sockets) != 0 || !s.Snap.Selected || s.Snap.ProcRoot != root ||
		len(s.Snap.Warnings) != 1 || s.Snap.Warnings[0] != gone.Error() || time.Since(s.Snap.Time) > time.Minute {
		t.Errorf("sample = %+v, %v; want an empty selected view now, warning %q", s.Snap, err, gone)
	}

	boom := errors.New("netlink: boom")
	if _, err := NewSampler(root, func(context.Context) (*inspect.Snapshot, error) { return nil, boom })(context.Background()); !errors.Is(err, boom) {
		t.Errorf("a failed scan: %v, want %v", err, boom)
	}
}
