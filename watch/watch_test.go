package watch

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	ok := Options{Interval: time.Second, Window: time.Minute, MaxWorkloads: 1, Thresholds: Thresholds{CloseWait: -1}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("%+v: %v", ok, err)
	}
	for _, tt := range []struct {
		change func(*Options)
		want   string
	}{
		{func(o *Options) { o.Interval = 0 }, "invalid --interval 0s: want 100ms or more"},
		{func(o *Options) { o.Interval = time.Nanosecond }, "invalid --interval 1ns: want 100ms or more"},
		{func(o *Options) { o.Thresholds.CloseWait = -2 }, "invalid --max-close-wait -2: want 0 or more (-1: off)"},
		{func(o *Options) { o.Thresholds.FDUsage = math.NaN() }, "invalid --max-fd-usage NaN: want a percentage"},
		{func(o *Options) { o.Count = -1 }, "invalid --count -1: want 0 (no end) or more"},
		{func(o *Options) { o.Window = time.Millisecond }, "invalid --window 1ms: want at least the --interval (1s)"},
		{func(o *Options) { o.Thresholds.FDUsage = 101 }, "invalid --max-fd-usage 101: want a percentage"},
		{func(o *Options) { o.Thresholds.ETA = -time.Second }, "invalid --max-close-wait-age or --eta: want a duration of 0 (off) or more"},
		{func(o *Options) { o.MaxWorkloads = 0 }, "invalid --max-workloads 0: want 1 or more"},
	} {
		o := ok
		tt.change(&o)
		if err := o.Validate(); err == nil || err.Error() != tt.want {
			t.Errorf("Validate() = %v, want %q", err, tt.want)
		}
	}
}

// TestWatch: the exporter and render see each status; a failed first
// sample ends the watch with its error, and the exporter sees it.
func TestWatch(t *testing.T) {
	o := Options{Interval: time.Hour, Count: 1, Window: time.Hour, MaxWorkloads: 1, Thresholds: Thresholds{CloseWait: -1}}
	exp := NewExporter(1, false)
	var seqs []int
	render := func(st *Status) error { seqs = append(seqs, st.Seq); return nil }
	good := func(context.Context) (Sample, error) { return sample(0, procSpec{pid: 1, name: "x", est: 1}), nil }
	if err := Watch(context.Background(), o, good, exp, render); err != nil || len(seqs) != 1 {
		t.Fatalf("Watch = %v after rendering %v; want nil after one status (--count 1)", err, seqs)
	}
	if err := exp.Health(t0, time.Hour); err != nil {
		t.Errorf("exporter health = %v, want the sample", err)
	}

	seqs = nil
	exp = NewExporter(1, false)
	failing := func(context.Context) (Sample, error) { return Sample{}, errors.New("no /proc") }
	if err := Watch(context.Background(), o, failing, exp, render); err == nil || err.Error() != "no /proc" || len(seqs) != 0 {
		t.Errorf("Watch = %v after rendering %v; want the first sample's error, nothing rendered", err, seqs)
	}
	if err := exp.Health(t0, time.Hour); err == nil || !strings.Contains(err.Error(), "no /proc") {
		t.Errorf("exporter health = %v, want the failed sample", err)
	}
}
