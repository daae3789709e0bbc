package watch

import (
	"testing"
	"time"
)

// BenchmarkMonitorObserve measures what the Monitor adds to a sample on a
// busy host: 100,000 sockets over 200 processes, a fifth of them in
// CLOSE_WAIT, with a full window of history.
func BenchmarkMonitorObserve(b *testing.B) {
	var procs []procSpec
	for i := range 200 {
		procs = append(procs, procSpec{pid: 1000 + i, start: 1, name: "svc", cw: 100, est: 400, extraFDs: 10, limit: 65536})
	}
	m := NewMonitor(Config{Window: time.Minute, Thresholds: Thresholds{CloseWait: 50, MaxAge: time.Minute, FDUsage: 80, ETA: time.Minute}})
	samples := make([]Sample, 30)
	for i := range samples {
		samples[i] = sample(time.Duration(i)*2*time.Second, procs...)
	}
	for i := range samples {
		m.Observe(samples[i])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s := samples[i%len(samples)]
		s.Snap.Time = t0.Add(time.Duration(len(samples)+i) * 2 * time.Second)
		m.Observe(s)
	}
}
