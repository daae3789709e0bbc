package watch

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sockleak/sockleak/inspect"
)

func TestMonitorTrend(t *testing.T) {
	m := NewMonitor(Config{Window: time.Minute, Thresholds: Thresholds{CloseWait: -1}})
	var st *Status
	// +2 CLOSE_WAIT every 10 s: 12/min, and the fds with them.
	for i := range 6 {
		st = m.Observe(sample(time.Duration(i)*10*time.Second,
			procSpec{pid: 42, start: 7, name: "openser", cw: 2 * i, est: 3, extraFDs: 10, limit: 100}))
		if i < minTrendPoints-1 && len(st.Processes[0].Rates) != 0 {
			t.Errorf("sample %d: rates %v before %d samples", i, st.Processes[0].Rates, minTrendPoints)
		}
	}
	p := st.Processes[0]
	if p.PID != 42 || p.Start != 7 || p.Name != "openser" || p.States[inspect.CloseWait] != 10 || p.Sockets != 13 || p.FDs != 23 {
		t.Fatalf("process = %+v", p)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if !near(p.Rates[inspect.CloseWait], 12) || !near(p.Rates[inspect.Established], 0) || !near(p.FDRate, 12) {
		t.Errorf("rates = %v, fd rate %v; want CLOSE_WAIT 12/min, ESTABLISHED 0, fds 12/min", p.Rates, p.FDRate)
	}
	// 77 fds left at 12/min: 6m25s.
	if want := time.Duration(77.0 / 12 * float64(time.Minute)); p.ETA != want {
		t.Errorf("ETA = %v, want %v", p.ETA, want)
	}
	if diff := cmp.Diff([]int{0, 2, 4, 6, 8, 10}, p.History); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	// Inodes 4200000.. entered CLOSE_WAIT at t=10s (the first two): 40s ago.
	if p.CloseWaitOldest() != 40*time.Second || p.CloseWaitPeer != "10.0.0.5:7000" {
		t.Errorf("oldest = %v to %q, want 40s to 10.0.0.5:7000", p.CloseWaitOldest(), p.CloseWaitPeer)
	}
	if got := p.Headline(); got != "pid 42 (openser): CLOSE_WAIT 10 +12/min, oldest 40s, 23/100 fds, limit in ~6m" {
		t.Errorf("headline = %q", got)
	}

	// The window is a minute: after a flat minute the trend is flat.
	for i := 6; i < 13; i++ {
		st = m.Observe(sample(time.Duration(i)*10*time.Second,
			procSpec{pid: 42, start: 7, name: "openser", cw: 10, est: 3, extraFDs: 10, limit: 100}))
	}
	p = st.Processes[0]
	if p.Rates[inspect.CloseWait] != 0 || p.FDRate != 0 || p.ETA != -1 || len(p.History) != 7 {
		t.Errorf("after a flat window: rates %v, fd rate %v, ETA %v, %d points; want 0, 0, -1, 7", p.Rates, p.FDRate, p.ETA, len(p.History))
	}
}

// TestMonitorNoETAForABlip checks that a descriptor or two opened within
// the window is not projected to the limit: the line through it is steep,
// but it is not a leak.
func TestMonitorNoETAForABlip(t *testing.T) {
	m := NewMonitor(Config{Window: time.Minute, Thresholds: Thresholds{CloseWait: -1, ETA: time.Hour}})
	var st *Status
	for i, extra := range []int{10, 10, 11, 12, 12} { // two fds in 40 s: a line reaching 100 in about half an hour
		st = m.Observe(sample(time.Duration(i)*10*time.Second, procSpec{pid: 42, start: 7, name: "openser", est: 3, extraFDs: extra, limit: 100}))
	}
	if p := st.Processes[0]; p.FDRate <= 0 || p.ETA != -1 || len(st.Alerts) != 0 {
		t.Errorf("after +%d fds: fd rate %v, ETA %v, alerts %v; want a positive rate, no ETA (-1), no alert", 12-10, p.FDRate, p.ETA, st.Alerts)
	}
	st = m.Observe(sample(50*time.Second, procSpec{pid: 42, start: 7, name: "openser", est: 3, extraFDs: 10 + minETAGrowth, limit: 100}))
	if p := st.Processes[0]; p.ETA <= 0 {
		t.Errorf("after +%d fds: ETA %v, want an estimate", minETAGrowth, p.ETA)
	}
}

func TestSlopePerMinute(t *testing.T) {
	for _, tt := range []struct {
		name string
		ys   []float64
		want float64
	}{
		{"flat", []float64{5, 5, 5}, 0},
		{"line", []float64{0, 1, 2, 3}, 6}, // one per 10 s
		{"falling", []float64{9, 6, 3}, -18},
		{"noisy", []float64{0, 2, 1, 3}, 4.8}, // least squares: 0.08/s
	} {
		t.Run(tt.name, func(t *testing.T) {
			var pts []point
			for i, y := range tt.ys {
				pts = append(pts, point{at: t0.Add(time.Duration(i) * 10 * time.Second), fds: int32(y)})
			}
			if got := slopePerMinute(pts, func(p *point) float64 { return float64(p.fds) }); math.Abs(got-tt.want) > 1e-9 {
				t.Errorf("slope = %v, want %v", got, tt.want)
			}
		})
	}
}
