package main

import (
	"context"
	"fmt"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/trace"
	"github.com/sockleak/sockleak/watch"
)

// watchTrace is watch --trace: trace's programs loaded for the whole
// watch, so that ages are exact, and trace's report at the end.
type watchTrace struct {
	rec     *trace.Recorder
	fsys    inspect.FS
	sel     inspect.Options
	openers *trace.Openers
	live    map[uint64]trace.Socket // the last sample's Peek
}

func startWatchTrace(opts *WatchOptions, fsys inspect.FS) (*watchTrace, error) {
	sel, err := opts.Scan.options()
	if err != nil {
		return nil, err
	}
	topts := trace.Options{}
	if len(sel.PIDs) == 1 {
		topts.PID = sel.PIDs[0]
	}
	rec, err := trace.Start(topts)
	if err != nil {
		return nil, fmt.Errorf("--trace: %w", err)
	}
	if len(sel.States) == 0 {
		sel.States = watch.HandshakeStates
	}
	return &watchTrace{rec: rec, fsys: fsys, sel: sel, openers: trace.NewOpeners(rec, fsys.Root())}, nil
}

// sampler gives each sample's sockets that the trace saw enter their
// state their exact age.
func (w *watchTrace) sampler(sample watch.SampleFunc) watch.SampleFunc {
	return func(ctx context.Context) (watch.Sample, error) {
		s, err := sample(ctx)
		if err != nil || s.Snap == nil {
			return s, err
		}
		live, err := w.rec.Peek()
		if err != nil {
			return s, err
		}
		trace.ExactAges(s.Snap, live)
		w.live = live
		return s, nil
	}
}

// render names, in each firing alert about sockets in a state, the code
// that opened most of them.
func (w *watchTrace) render(render func(*watch.Status) error) func(*watch.Status) error {
	return func(st *watch.Status) error {
		w.openers.Forget()
		for i := range st.Alerts {
			a := &st.Alerts[i]
			if !a.Firing || a.Count == 0 {
				continue
			}
			if f := w.openers.Of(w.live, a.PID, a.State); f != nil {
				a.OpenedBy = f.String()
			}
		}
		return render(st)
	}
}

// report stops the trace and writes what it found: the sockets opened
// during the watch still held in a close-handshake state, by the stack
// that opened them.
func (w *watchTrace) report(opts *WatchOptions) error {
	defer w.openers.Close()
	rep, err := w.rec.Finish(context.Background(), w.fsys, w.sel)
	if err != nil {
		return err
	}
	return trace.WriteText(opts.ErrOut, rep)
}
