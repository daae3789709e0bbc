package watch

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sockleak/sockleak/inspect"
)

func TestMonitorAlertNamesEverything(t *testing.T) {
	m := NewMonitor(Config{Window: time.Minute, Thresholds: Thresholds{CloseWait: 4}})
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
	// pid 42 started a tick after the boot, 2025-12-02T10:00:00Z.
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
	if sl.Type != "sample" || sl.Seq != 4 || sl.States["CLOSE_WAIT"] != 6 || p.PID != 42 || p.StartTime != "2025-12-02T10:00:00Z" ||
		sl.Time != "2026-11-25T10:00:30Z" || sl.SchemaVersion != 2 ||
		p.RatesPerMinute["CLOSE_WAIT"] != 12 || p.SecondsToFDLimit == nil || *p.SecondsToFDLimit != 270 || p.CloseWaitOldest != 20 {
		t.Errorf("sample line = %s", lines[0])
	}
	if al.Type != "alert" || al.Status != "firing" || al.StartTime != p.StartTime || al.Time != sl.Time || al.Rule != "close_wait" || al.PID != 42 || al.Count != 6 ||
		al.Peer != "10.0.0.5:7000" || al.AgeSeconds != 20 || al.RatePerMinute == nil || *al.RatePerMinute != 12 || al.Threshold != 4 || al.Message != want {
		t.Errorf("alert line = %s", lines[1])
	}
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
	full := base // at the limit: the trend says 0s, the line says what fails
	full.FDs, full.ETA = 100, 0
	for _, tt := range []struct {
		a    Alert
		want string
	}{
		{base, "pid 9 (db): 80/100 fds (80%) [80% of the fd limit or more]"},
		{withCW, "pid 9 (db): 3 CLOSE_WAIT to 10.0.0.5:7000, oldest 1m30s, +1.5/min; 80/100 fds (80%) [80% of the fd limit or more]"},
		{exited, "pid 9 (db) exited"},
		{eta, "pid 9 (db): 80/100 fds (80%), limit in ~2m [fd limit in less than 10m]"},
		{full, "pid 9 (db): 100/100 fds (100%), at its limit now: socket(), accept() and open() fail with EMFILE [80% of the fd limit or more]"},
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

// TestHeadlineAtLimit: a process at its soft fd limit has no time left to
// estimate: its line says what fails now, not "limit in ~0s", and the live
// view's LIMIT IN column says AT LIMIT.
func TestHeadlineAtLimit(t *testing.T) {
	p := ProcStatus{ProcKey: ProcKey{PID: 7}, Name: "svc", States: map[inspect.TCPState]int{inspect.CloseWait: 250}, FDs: 256, FDLimit: 256, ETA: 0}
	want := "pid 7 (svc): CLOSE_WAIT 250, 256/256 fds, at its limit now: socket(), accept() and open() fail with EMFILE"
	if got := p.Headline(); got != want {
		t.Errorf("Headline() = %q\nwant         %q", got, want)
	}
	for _, c := range liveColumns {
		if c.title == "LIMIT IN" {
			if got := c.value(&p); got != "AT LIMIT" {
				t.Errorf("LIMIT IN = %q, want AT LIMIT", got)
			}
			return
		}
	}
	t.Error("no LIMIT IN column in the live view")
}
