// Package watch follows TCP sockets over time. It holds:
//
//   - Persisting and Stable (stable.go): the sockets that stayed in their
//     state from one sample to a later one, for sockleak check --min-age;
//   - the Tracker (tracker.go): when each socket of a set of processes
//     entered a leak state and how long it sat there. sockleak run
//     (package run) reports its leaks, and the Monitor follows its
//     sockets' ages with it; it lives here so that both can use it;
//   - the Monitor of sockleak watch (monitor.go), which turns each sample
//     into a Status (status.go): each process's trends and time to its fd
//     limit (trend.go), alerts against the Thresholds, with hysteresis
//     (thresholds.go), and Run, the sampling loop (loop.go);
//   - sockleak watch itself: its Options and Watch, which runs the Monitor
//     (watch.go), the sampler that feeds it (sampler.go), its outputs,
//     text and JSON lines (lines.go) or the live terminal view (live.go),
//     picked in output.go, and the Prometheus exporter (metrics.go) with
//     the HTTP server of its /metrics and /healthz (serve.go).
//
// It takes its samples and ticks from the caller, and the Monitor's clock
// is each snapshot's Time, so tests drive it without sleeping.
package watch
