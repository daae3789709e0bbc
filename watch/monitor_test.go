package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/inspect"
)

// landscape builds a sample at t0+at: process pid (start time start, fds
// open, soft limit) holding cw CLOSE_WAIT sockets to 10.0.0.5:7000 with
// inodes from base, and est ESTABLISHED ones.
type procSpec struct {
	pid      int
	start    uint64
	name     string
	cw, est  int
	cwBase   uint64 // first CLOSE_WAIT inode; consecutive after it
	fds      int
	limit    int64
	extraFDs int // fds that are not these sockets
}

func sample(at time.Duration, procs ...procSpec) Sample {
	s := Sample{Snap: snap(at), Start: map[int]uint64{}}
	for _, p := range procs {
		fds := p.fds
		if fds == 0 {
			fds = p.cw + p.est + p.extraFDs
		}
		s.Snap.Processes = append(s.Snap.Processes, inspect.Process{PID: p.pid, Name: p.name, FDs: fds, FDSoftLimit: p.limit})
		s.Start[p.pid] = p.start
		base := p.cwBase
		if base == 0 {
			base = uint64(p.pid) * 100000
		}
		for i := range p.cw {
			s.Snap.Sockets = append(s.Snap.Sockets, sock(inspect.CloseWait,
				fmt.Sprintf("10.0.0.7:%d", 30000+int(base%10000)+i), "10.0.0.5:7000", base+uint64(i), p.pid))
		}
		for i := range p.est {
			s.Snap.Sockets = append(s.Snap.Sockets, sock(inspect.Established,
				fmt.Sprintf("10.0.0.7:%d", 50000+i), "10.0.0.9:443", uint64(p.pid)*100000+50000+uint64(i), p.pid))
		}
	}
	return s
}

func TestMonitorTrend(t *testing.T) {
	m := NewMonitor(Config{Window: time.Minute, Rules: Thresholds{CloseWait: -1}})
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
	if p.CloseWaitOldest != 40*time.Second || p.CloseWaitPeer != "10.0.0.5:7000" {
		t.Errorf("oldest = %v to %q, want 40s to 10.0.0.5:7000", p.CloseWaitOldest, p.CloseWaitPeer)
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
	m := NewMonitor(Config{Window: time.Minute, Rules: Thresholds{CloseWait: -1, ETA: time.Hour}})
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

func TestMonitorAlerts(t *testing.T) {
	sec := time.Second
	leak := func(at time.Duration, cw int) Sample {
		return sample(at, procSpec{pid: 42, start: 1, name: "leaky", cw: cw, extraFDs: 5, limit: 1000})
	}
	for _, tt := range []struct {
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
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := transitions(NewMonitor(Config{Window: time.Minute, Rules: tt.rules}), tt.samples)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("transitions (-want +got):\n%s", diff)
			}
		})
	}
}

func noStart(s Sample) Sample {
	s.Start = nil
	return s
}

func TestMonitorAlertNamesEverything(t *testing.T) {
	m := NewMonitor(Config{Window: time.Minute, Rules: Thresholds{CloseWait: 4}})
	var st *Status
	for i := range 4 {
		st = m.Observe(sample(time.Duration(i)*10*time.Second, procSpec{pid: 42, start: 1, name: "leaky", cw: 2 * i, extraFDs: 4, limit: 64}))
	}
	if len(st.Alerts) != 1 {
		t.Fatalf("alerts = %+v, want one", st.Alerts)
	}
	a := st.Alerts[0]
	want := "pid 42 (leaky): 6 CLOSE_WAIT to 10.0.0.5:7000, oldest 20s, +12/min; 10/64 fds (16%), limit in ~5m [more than 4 in CLOSE_WAIT]"
	if got := a.Message(); got != want {
		t.Errorf("message = %q\nwant      %q", got, want)
	}
	if got := st.Processes[0].Firing; len(got) != 1 || got[0] != RuleCloseWait {
		t.Errorf("firing = %v", got)
	}
	var b bytes.Buffer
	if err := TextLines(&b, st); err != nil {
		t.Fatal(err)
	}
	wantText := "2026-11-25T10:00:30.000Z sample 4 (0s): 6 sockets (CLOSE_WAIT 6), 1 process; worst: pid 42 (leaky): CLOSE_WAIT 6 +12/min, oldest 20s, 10/64 fds, limit in ~5m\n" +
		"2026-11-25T10:00:30.000Z FIRING close_wait: " + want + "\n"
	if diff := cmp.Diff(wantText, b.String()); diff != "" {
		t.Errorf("text (-want +got):\n%s", diff)
	}

	b.Reset()
	if err := JSONLines(&b, st); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d JSON lines, want 2:\n%s", len(lines), b.String())
	}
	var sl SampleLine
	var al AlertLine
	if err := json.Unmarshal([]byte(lines[0]), &sl); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &al); err != nil {
		t.Fatal(err)
	}
	p := sl.Processes[0]
	if sl.Type != "sample" || sl.Seq != 4 || sl.States["CLOSE_WAIT"] != 6 || p.PID != 42 || p.StartTime != 1 ||
		p.RatesPerMinute["CLOSE_WAIT"] != 12 || p.SecondsToFDLimit == nil || *p.SecondsToFDLimit != 270 || p.CloseWaitOldest != 20 {
		t.Errorf("sample line = %s", lines[0])
	}
	if al.Type != "alert" || al.Status != "firing" || al.Rule != "close_wait" || al.PID != 42 || al.Count != 6 ||
		al.Peer != "10.0.0.5:7000" || al.AgeSeconds != 20 || al.RatePerMinute == nil || *al.RatePerMinute != 12 || al.Threshold != 4 || al.Message != want {
		t.Errorf("alert line = %s", lines[1])
	}
}

// TestMonitorForgets churns sockets and processes: the Monitor's state
// follows the latest sample, not the run's length.
func TestMonitorForgets(t *testing.T) {
	m := NewMonitor(Config{Window: 10 * time.Second, Rules: Thresholds{CloseWait: 5, MaxAge: time.Second}})
	for i := range 1000 {
		// Every sample: 3 processes with new pids, each with 20 new sockets.
		var ps []procSpec
		for j := range 3 {
			pid := 1000 + 3*i + j
			ps = append(ps, procSpec{pid: pid, start: uint64(i), name: "churn", cw: 20, cwBase: uint64(pid) * 1000, extraFDs: 3, limit: 1024})
		}
		st := m.Observe(sample(time.Duration(i)*time.Second, ps...))
		if len(st.Processes) != 3 {
			t.Fatalf("sample %d: %d processes, want 3", i, len(st.Processes))
		}
	}
	if len(m.procs) != 3 || len(m.tracker.seen) != 60 || len(m.tracker.procs) != 0 {
		t.Errorf("after 1000 churning samples: %d processes, %d sockets tracked; want 3 and 60", len(m.procs), len(m.tracker.seen))
	}
	// A process that stays keeps only the window's points.
	m = NewMonitor(Config{Window: 10 * time.Second})
	for i := range 1000 {
		m.Observe(sample(time.Duration(i)*time.Second, procSpec{pid: 1, name: "init", est: 1}))
	}
	for _, tr := range m.procs {
		if len(tr.points) != 11 || cap(tr.points) > 64 {
			t.Errorf("%d points (capacity %d), want the window's 11", len(tr.points), cap(tr.points))
		}
	}
}

func TestRun(t *testing.T) {
	t.Run("count", func(t *testing.T) {
		tick := make(chan time.Time)
		calls := 0
		sampler := func(context.Context) (Sample, error) {
			calls++
			if calls == 2 {
				return Sample{}, errors.New("proc went away")
			}
			return sample(time.Duration(calls)*time.Second, procSpec{pid: 1, name: "x", est: calls}), nil
		}
		var seqs []string
		done := make(chan error)
		go func() {
			done <- NewMonitor(Config{}).Run(context.Background(), RunConfig{Count: 4, Sample: sampler, Tick: tick},
				func(st *Status) error {
					s := fmt.Sprint(st.Seq)
					if st.Err != nil {
						s += " " + st.Err.Error()
					}
					seqs = append(seqs, s)
					return nil
				})
		}()
		for range 3 {
			tick <- t0
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"1", "2 proc went away", "3", "4"}, seqs); diff != "" {
			t.Errorf("statuses (-want +got):\n%s", diff)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		n := 0
		err := NewMonitor(Config{}).Run(ctx, RunConfig{Tick: make(chan time.Time),
			Sample: func(context.Context) (Sample, error) { n++; cancel(); return sample(0), nil }},
			func(*Status) error { t.Error("a sample cut short by cancel was emitted"); return nil })
		if err != nil || n != 1 {
			t.Errorf("Run = %v after %d samples; want nil after 1", err, n)
		}
	})
	t.Run("emit fails", func(t *testing.T) {
		broken := errors.New("broken pipe")
		err := NewMonitor(Config{}).Run(context.Background(), RunConfig{Interval: time.Hour,
			Sample: func(context.Context) (Sample, error) { return sample(0), nil }},
			func(*Status) error { return broken })
		if !errors.Is(err, broken) {
			t.Errorf("Run = %v, want %v", err, broken)
		}
	})
}

func TestAlertMessage(t *testing.T) {
	base := Alert{Rule: RuleFDUsage, Firing: true, ProcKey: ProcKey{PID: 9}, Name: "db", State: inspect.CloseWait,
		FDs: 80, FDLimit: 100, ETA: -1, Threshold: 80}
	withCW := base
	withCW.Count, withCW.Peer, withCW.Age, withCW.Rate, withCW.RateKnown = 3, "10.0.0.5:7000", 90*time.Second, 1.5, true
	exited := base
	exited.Firing, exited.Exited = false, true
	eta := base
	eta.Rule, eta.ETA, eta.Threshold = RuleFDLimitETA, 90*time.Second, 600
	for _, tt := range []struct {
		a    Alert
		want string
	}{
		{base, "pid 9 (db): 80/100 fds (80%) [80% of the fd limit or more]"},
		{withCW, "pid 9 (db): 3 CLOSE_WAIT to 10.0.0.5:7000, oldest 1m30s, +1.5/min; 80/100 fds (80%) [80% of the fd limit or more]"},
		{exited, "pid 9 (db) exited"},
		{eta, "pid 9 (db): 80/100 fds (80%), limit in ~2m [fd limit in less than 10m]"},
	} {
		if got := tt.a.Message(); got != tt.want {
			t.Errorf("Message() = %q\nwant        %q", got, tt.want)
		}
	}
}

func TestFormats(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{formatRate(34.4), "+34/min"}, {formatRate(0.25), "+0.2/min"}, {formatRate(-12), "-12/min"},
		{formatETA(44 * time.Second), "~44s"}, {formatETA(130 * time.Second), "~2m"},
		{formatETA(3*time.Hour + 10*time.Minute), "~3h10m"}, {formatETA(1000 * time.Hour), "~41d"},
		{formatAge(130 * time.Second), "2m10s"}, {formatAge(3 * time.Minute), "3m"}, {formatAge(2*time.Hour + 5*time.Minute), "2h5m"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

// TestMonitorHandshakeAges checks the age of each close-handshake state a
// process holds, and that only CLOSE_WAIT sockets name its CLOSE_WAIT peer.
func TestMonitorHandshakeAges(t *testing.T) {
	m := NewMonitor(Config{Window: time.Minute, Rules: Thresholds{CloseWait: -1}})
	at := func(d time.Duration, socks ...inspect.Socket) Sample {
		s := Sample{Snap: snap(d, socks...), Start: map[int]uint64{42: 1}}
		s.Snap.Processes = []inspect.Process{{PID: 42, Name: "svc", FDs: 10, FDSoftLimit: 100}}
		return s
	}
	fw2 := sock(inspect.FinWait2, "10.0.0.7:40000", "10.0.0.9:80", 1, 42) // half-closed, held
	cw := sock(inspect.CloseWait, "10.0.0.7:40001", "10.0.0.5:7000", 2, 42)
	est := sock(inspect.Established, "10.0.0.7:40002", "10.0.0.9:443", 3, 42)
	m.Observe(at(0, fw2, est))
	m.Observe(at(10*time.Second, fw2, est, cw))
	st := m.Observe(at(25*time.Second, fw2, est, cw))
	p := st.Processes[0]
	want := map[inspect.TCPState]time.Duration{inspect.FinWait2: 25 * time.Second, inspect.CloseWait: 15 * time.Second}
	if diff := cmp.Diff(want, p.Oldest); diff != "" {
		t.Errorf("ages (-want +got):\n%s", diff)
	}
	if p.CloseWaitOldest != 15*time.Second || p.CloseWaitPeer != "10.0.0.5:7000" {
		t.Errorf("CLOSE_WAIT oldest %v to %q, want 15s to 10.0.0.5:7000 (not the FIN_WAIT2 socket's peer)", p.CloseWaitOldest, p.CloseWaitPeer)
	}
}

// TestMonitorOrderSoonestFirst checks that a process growing towards its
// fd limit ranks above one that holds more CLOSE_WAIT sockets but does
// not grow.
func TestMonitorOrderSoonestFirst(t *testing.T) {
	m := NewMonitor(Config{Window: time.Minute, Rules: Thresholds{CloseWait: -1}})
	var st *Status
	for i := range 4 {
		st = m.Observe(sample(time.Duration(i)*10*time.Second,
			procSpec{pid: 7, start: 1, name: "stuck", cw: 55, extraFDs: 9, limit: 64},
			procSpec{pid: 42, start: 1, name: "leaky", cw: 5 * i, extraFDs: 4, limit: 256},
		))
	}
	if len(st.Processes) != 2 || st.Processes[0].PID != 42 || st.Processes[0].ETA <= 0 {
		t.Errorf("order = %+v, want pid 42 (growing, a limit ahead) before pid 7", st.Processes)
	}
}
