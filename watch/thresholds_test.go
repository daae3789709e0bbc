package watch

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sockleak/sockleak/inspect"
)

// transitions runs a Monitor over samples and returns each sample's alert
// transitions as "rule firing|resolved" strings.
func transitions(m *Monitor, samples []Sample) [][]string {
	var out [][]string
	for _, s := range samples {
		st := m.Observe(s)
		var got []string
		for _, a := range st.Alerts {
			v := "resolved"
			if a.Firing {
				v = "firing"
			}
			if a.Exited {
				v += " (exited)"
			}
			got = append(got, fmt.Sprintf("%d %s %s", a.PID, a.Rule, v))
		}
		out = append(out, got)
	}
	return out
}

const sec = time.Second

// leak is a sample of pid 42 holding cw CLOSE_WAIT sockets.
func leak(at time.Duration, cw int) Sample {
	return sample(at, procSpec{pid: 42, start: 1, name: "leaky", cw: cw, extraFDs: 5, limit: 1000})
}

// alertCases are samples and the alert transitions each must cause.
var alertCases = []struct {
	name    string
	rules   Thresholds
	samples []Sample
	want    [][]string
}{
	{
		name:  "close_wait fires above the threshold, resolves at 3/4, once per transition",
		rules: Thresholds{CloseWait: 10},
		samples: []Sample{leak(0, 5), leak(sec, 11), leak(2*sec, 12), leak(3*sec, 9), leak(4*sec, 8),
			leak(5*sec, 7), leak(6*sec, 11)},
		want: [][]string{nil, {"42 close_wait firing"}, nil, nil, nil, {"42 close_wait resolved"}, {"42 close_wait firing"}},
	},
	{
		name:    "threshold 0: any CLOSE_WAIT fires",
		rules:   Thresholds{CloseWait: 0},
		samples: []Sample{leak(0, 0), leak(sec, 1), leak(2*sec, 0)},
		want:    [][]string{nil, {"42 close_wait firing"}, {"42 close_wait resolved"}},
	},
	{
		name:  "close_wait_age: the same socket for max-age; resolves when it closes",
		rules: Thresholds{CloseWait: -1, MaxAge: 30 * sec},
		samples: []Sample{leak(0, 1), leak(10*sec, 2), leak(29*sec, 2), leak(30*sec, 2), leak(40*sec, 2),
			leak(50*sec, 0), leak(60*sec, 1)},
		want: [][]string{nil, nil, nil, {"42 close_wait_age firing"}, nil, {"42 close_wait_age resolved"}, nil},
	},
	{
		name:  "fd_usage fires at the percentage, resolves 5 points below",
		rules: Thresholds{CloseWait: -1, FDUsage: 80},
		samples: []Sample{
			sample(0, procSpec{pid: 9, name: "db", fds: 79, limit: 100}),
			sample(sec, procSpec{pid: 9, name: "db", fds: 80, limit: 100}),
			sample(2*sec, procSpec{pid: 9, name: "db", fds: 76, limit: 100}),
			sample(3*sec, procSpec{pid: 9, name: "db", fds: 74, limit: 100}),
			sample(4*sec, procSpec{pid: 9, name: "db", fds: 500, limit: inspect.Unlimited}),
		},
		want: [][]string{nil, {"9 fd_usage firing"}, nil, {"9 fd_usage resolved"}, nil},
	},
	{
		name:  "fd_usage at 5%: resolves at nine tenths, not below zero",
		rules: Thresholds{CloseWait: -1, FDUsage: 5},
		samples: []Sample{
			sample(0, procSpec{pid: 9, name: "db", fds: 6, limit: 100}),
			sample(sec, procSpec{pid: 9, name: "db", fds: 5, limit: 100}),
			sample(2*sec, procSpec{pid: 9, name: "db", fds: 4, limit: 100}),
		},
		want: [][]string{{"9 fd_usage firing"}, nil, {"9 fd_usage resolved"}},
	},
	{
		name:  "fd_limit_eta fires when the trend nears the limit, resolves when growth stops",
		rules: Thresholds{CloseWait: -1, ETA: 2 * time.Minute},
		samples: []Sample{
			// +60 fds/min toward 1000: 900 left (15m), then 400, then 100 (1m40s).
			leak(0, 0), leak(10*sec, 10), leak(20*sec, 20), leak(30*sec, 30),
			sample(40*sec, procSpec{pid: 42, start: 1, name: "leaky", cw: 40, fds: 900, limit: 1000}),
			sample(50*sec, procSpec{pid: 42, start: 1, name: "leaky", cw: 40, fds: 900, limit: 1000}),
		},
		want: [][]string{nil, nil, nil, nil, {"42 fd_limit_eta firing"}, nil},
	},
	{
		name:  "a process that exits resolves its alerts; a reused pid is a new process",
		rules: Thresholds{CloseWait: 1},
		samples: []Sample{
			leak(0, 3),
			sample(sec, procSpec{pid: 42, start: 2, name: "other", cw: 3, cwBase: 7}),
			sample(2 * sec),
		},
		want: [][]string{{"42 close_wait firing"}, {"42 close_wait resolved (exited)", "42 close_wait firing"}, // the old process first
			{"42 close_wait resolved (exited)"}},
	},
	{
		name:    "a start time that could not be read keeps the process it was",
		rules:   Thresholds{CloseWait: 1},
		samples: []Sample{leak(0, 3), noStart(leak(sec, 3)), leak(2*sec, 3)},
		want:    [][]string{{"42 close_wait firing"}, nil, nil},
	},
}

func TestMonitorAlerts(t *testing.T) {
	for _, tt := range alertCases {
		t.Run(tt.name, func(t *testing.T) {
			got := transitions(NewMonitor(Config{Window: time.Minute, Thresholds: tt.rules}), tt.samples)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("transitions (-want +got):\n%s", diff)
			}
		})
	}
}

// noStart is s with its start times unknown, as when a stat file raced.
func noStart(s Sample) Sample {
	procs := slices.Clone(s.Snap.Processes)
	for i := range procs {
		procs[i].StartTime = 0
	}
	snap := *s.Snap
	snap.Processes = procs
	s.Snap = &snap
	return s
}
