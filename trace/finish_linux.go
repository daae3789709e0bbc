package trace

import (
	"context"
	"errors"
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// Finish stops the recording and reports it: the sockets that sel selects
// (sel.States, the leak states, CLOSE_WAIT when empty) read from fsys now,
// joined to what was recorded and grouped by their named opening stack. A
// selection that matches no process any more gives an empty report.
func (r *Recorder) Finish(ctx context.Context, fsys inspect.FS, sel inspect.Options) (*Report, error) {
	rec, err := r.Stop()
	if err != nil {
		return nil, err
	}
	if len(sel.States) == 0 {
		sel.States = []inspect.TCPState{inspect.CloseWait}
	}
	sel.Now = func() time.Time { return rec.Ended }
	snap, err := inspect.Scan(ctx, fsys, sel)
	if errors.Is(err, inspect.ErrNoMatch) {
		snap, err = &inspect.Snapshot{}, nil
	}
	if err != nil {
		return nil, err
	}
	namer := NewNamer(fsys.Root())
	defer namer.Close()
	return Build(rec, snap, namer, sel.States), nil
}
