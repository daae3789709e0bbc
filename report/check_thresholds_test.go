package report

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/inspect"
)

// checkDefaults are check's settings with no flag given, changed by
// change.
func checkDefaults(change func(*CheckSettings)) CheckSettings {
	s := DefaultCheckSettings
	if change != nil {
		change(&s)
	}
	return s
}

func lvp(warn, crit int) *Level { return &Level{AtMost(warn), AtMost(crit)} }

var thresholdsTests = []struct {
	name     string
	settings CheckSettings
	states   map[inspect.TCPState]Level
	fd       *Level
	wantErr  string
}{
	{
		name:     "defaults",
		settings: checkDefaults(nil),
		states:   cwThreshold(0, DefaultCritCloseWait),
		fd:       lvp(80, 95),
	},
	{
		name:     "the accept queue not checked",
		settings: checkDefaults(func(s *CheckSettings) { s.NoAcceptQueue = true }),
		states:   cwThreshold(0, DefaultCritCloseWait),
		fd:       lvp(80, 95),
	},
	{
		name: "every setting",
		settings: checkDefaults(func(s *CheckSettings) {
			s.MaxCloseWait, s.MaxFinWait2, s.MaxFDUsage = 5, 100, 70
			s.CloseWaitGiven, s.FinWait2Given, s.FDUsageGiven = true, true, true
			s.MaxStates = []string{"last-ack=7", "SYN_RECV=1000"}
		}),
		states: map[inspect.TCPState]Level{inspect.CloseWait: {AtMost(5), AtMost(DefaultCritCloseWait)}, inspect.FinWait2: {AtMost(100), AtMost(100)}, inspect.LastAck: {AtMost(7), AtMost(7)}, inspect.SynRecv: {AtMost(1000), AtMost(1000)}},
		fd:     lvp(70, 95),
	},
	{
		name:     "any spelling of a state",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxStates = []string{"fin-wait-2=3", "time_wait=10000"} }),
		states:   map[inspect.TCPState]Level{inspect.CloseWait: {AtMost(0), AtMost(DefaultCritCloseWait)}, inspect.FinWait2: {AtMost(3), AtMost(3)}, inspect.TimeWait: {AtMost(10000), AtMost(10000)}},
		fd:       lvp(80, 95),
	},
	{
		name:     "--max-state overrides a default",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxStates = []string{"close-wait=9"} }),
		states:   cwThreshold(9, DefaultCritCloseWait),
		fd:       lvp(80, 95),
	},
	{
		name: "nagios levels",
		settings: checkDefaults(func(s *CheckSettings) {
			s.Warn = []string{"close-wait=10", "fd-usage=70"}
			s.Crit = []string{"close-wait=100", "fd_usage=90"}
		}),
		states: cwThreshold(10, 100),
		fd:     lvp(70, 90),
	},
	{
		name:     "a critical level alone also warns there",
		settings: checkDefaults(func(s *CheckSettings) { s.Crit = []string{"fin-wait2=50"} }),
		states:   map[inspect.TCPState]Level{inspect.CloseWait: {AtMost(0), AtMost(DefaultCritCloseWait)}, inspect.FinWait2: {AtMost(50), AtMost(50)}},
		fd:       lvp(80, 95),
	},
	{
		name:     "a critical fd usage alone also warns there",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxFDUsage, s.FDUsageGiven, s.Crit = -1, true, []string{"fd-usage=90"} }),
		states:   cwThreshold(0, DefaultCritCloseWait),
		fd:       lvp(90, 90),
	},
	{
		name:     "a warning above the default critical fd usage raises it",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxFDUsage, s.FDUsageGiven = 99, true }),
		states:   cwThreshold(0, DefaultCritCloseWait),
		fd:       lvp(99, 99),
	},
	{
		name: "limits off",
		settings: checkDefaults(func(s *CheckSettings) {
			s.MaxCloseWait, s.MaxFDUsage, s.MaxStates = -1, -1, []string{"last-ack=1"}
		}),
		states: map[inspect.TCPState]Level{inspect.LastAck: {AtMost(1), AtMost(1)}},
	},
	{
		name:     "a default and a flag that differ: the flag",
		settings: checkDefaults(func(s *CheckSettings) { s.Warn = []string{"fd-usage=60"} }),
		states:   cwThreshold(0, DefaultCritCloseWait),
		fd:       lvp(60, 95),
	},
	{
		name:     "unknown state",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxStates = []string{"half-open=3"} }),
		wantErr:  `invalid --max-state "half-open=3": unknown TCP state "half-open"`,
	},
	{
		name:     "no count",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxStates = []string{"close-wait"} }),
		wantErr:  `invalid --max-state "close-wait": want METRIC=RANGE`,
	},
	{
		name:     "bad count",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxStates = []string{"close-wait=many"} }),
		wantErr:  `invalid --max-state "close-wait=many": "many" is not a number`,
	},
	{
		name:     "negative count",
		settings: checkDefaults(func(s *CheckSettings) { s.Warn = []string{"close-wait=-3"} }),
		wantErr:  `invalid --warning "close-wait=-3": start 0 is above end -3`,
	},
	{
		name:     "bad critical level",
		settings: checkDefaults(func(s *CheckSettings) { s.Crit = []string{"close-wait=x"} }),
		wantErr:  `invalid --critical "close-wait=x": "x" is not a number`,
	},
	{
		name:     "negative max",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxCloseWait, s.CloseWaitGiven = -5, true }),
		wantErr:  "invalid --max-close-wait -5",
	},
	{
		name:     "negative max FIN_WAIT2",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxFinWait2, s.FinWait2Given = -2, true }),
		wantErr:  "invalid --max-fin-wait2 -2: want a count, or -1 for no limit",
	},
	{
		name:     "fd over 100",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxFDUsage, s.FDUsageGiven = 150, true }),
		wantErr:  "invalid --max-fd-usage 150: want a percentage",
	},
	{
		name:     "fd over 100 in --warn",
		settings: checkDefaults(func(s *CheckSettings) { s.Warn = []string{"fd-usage=101"} }),
		wantErr:  `invalid --warning "fd-usage=101": fd usage is a percentage, 0-100`,
	},
	{
		name:     "fd usage in --max-state, an alias of --warning",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxStates = []string{"fd-usage=50"} }),
		states:   cwThreshold(0, DefaultCritCloseWait),
		fd:       lvp(50, 95),
	},
	{
		name: "crit below warn",
		settings: checkDefaults(func(s *CheckSettings) {
			s.MaxCloseWait, s.CloseWaitGiven, s.Crit = 10, true, []string{"close-wait=5"}
		}),
		wantErr: "--critical close-wait=5: critical level 5 is below its warning level 10",
	},
	{
		name:     "fd crit below warn",
		settings: checkDefaults(func(s *CheckSettings) { s.Crit = []string{"fd-usage=70"} }),
		wantErr:  "--critical fd-usage=70: critical level 70 is below its warning level 80",
	},
	{
		name: "conflict",
		settings: checkDefaults(func(s *CheckSettings) {
			s.MaxCloseWait, s.CloseWaitGiven, s.MaxStates = 1, true, []string{"closewait=2"}
		}),
		wantErr: "CLOSE_WAIT given twice: 1 (--max-close-wait) and 2 (--max-state closewait=2)",
	},
	{
		name: "fd conflict",
		settings: checkDefaults(func(s *CheckSettings) {
			s.MaxFDUsage, s.FDUsageGiven, s.Warn = 70, true, []string{"fd=60"}
		}),
		wantErr: "fd usage given twice: 70 (--max-fd-usage) and 60 (--warning fd=60)",
	},
	{
		name: "ranges: the plugin syntax, several to a value",
		settings: checkDefaults(func(s *CheckSettings) {
			s.Warn = []string{"close-wait=~:20,fin-wait-2=10:", "established=@5:10"}
			s.Crit = []string{"close-wait=30", "fin-wait-2=5:,fd-usage=~:99"}
		}),
		states: map[inspect.TCPState]Level{
			inspect.CloseWait:   {Range{Start: math.Inf(-1), End: 20}, AtMost(30)},
			inspect.FinWait2:    {Range{Start: 10, End: math.Inf(1)}, Range{Start: 5, End: math.Inf(1)}},
			inspect.Established: {Range{Start: 5, End: 10, Inside: true}, Range{Start: 5, End: 10, Inside: true}},
		},
		fd: &Level{AtMost(80), Range{Start: math.Inf(-1), End: 99}},
	},
	{
		name:     "a minimum alone is its own critical level: no default to compare",
		settings: checkDefaults(func(s *CheckSettings) { s.Warn = []string{"close-wait=10:"} }),
		states:   map[inspect.TCPState]Level{inspect.CloseWait: {Range{Start: 10, End: math.Inf(1)}, Range{Start: 10, End: math.Inf(1)}}},
		fd:       lvp(80, 95),
	},
	{
		name:     "a critical range alone keeps the default warning",
		settings: checkDefaults(func(s *CheckSettings) { s.Crit = []string{"close-wait=10:"} }),
		states:   map[inspect.TCPState]Level{inspect.CloseWait: {AtMost(0), Range{Start: 10, End: math.Inf(1)}}},
		fd:       lvp(80, 95),
	},
	{
		name:     "an empty item in a list",
		settings: checkDefaults(func(s *CheckSettings) { s.Warn = []string{"close-wait=5,"} }),
		wantErr:  `invalid --warning "": want METRIC=RANGE`,
	},
	{
		name:     "fd usage below 0",
		settings: checkDefaults(func(s *CheckSettings) { s.Crit = []string{"fd=-1:90"} }),
		wantErr:  `invalid --critical "fd=-1:90": fd usage is a percentage, 0-100`,
	},
	{
		name:     "everything off",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxCloseWait, s.MaxFDUsage = -1, -1 }),
		wantErr:  "no thresholds to check",
	},
}

func TestCheckSettingsThresholds(t *testing.T) {
	for _, tt := range thresholdsTests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := tt.settings.Thresholds()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.states, l.States); diff != "" {
				t.Errorf("states (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.fd, l.FDUsage); diff != "" {
				t.Errorf("fd usage (-want +got):\n%s", diff)
			}
			if l.Total != tt.settings.Total {
				t.Errorf("total = %v, want %v", l.Total, tt.settings.Total)
			}
			if l.AcceptQueue == tt.settings.NoAcceptQueue {
				t.Errorf("accept queue checked = %v with NoAcceptQueue %v", l.AcceptQueue, tt.settings.NoAcceptQueue)
			}
		})
	}
}

func TestDumpStates(t *testing.T) {
	for _, tt := range []struct {
		name string
		l    CheckThresholds
		want []inspect.TCPState
	}{
		{"the states with a threshold, in kernel order", CheckThresholds{States: map[inspect.TCPState]Level{inspect.LastAck: {}, inspect.CloseWait: {}}, FDUsage: lvp(80, 95)},
			[]inspect.TCPState{inspect.CloseWait, inspect.LastAck}},
		{"fd usage alone: LISTEN, the fewest", CheckThresholds{FDUsage: lvp(80, 95)}, []inspect.TCPState{inspect.Listen}},
		{"the accept queue: the listeners and the CLOSE_WAIT in their queues", CheckThresholds{
			States: map[inspect.TCPState]Level{inspect.FinWait2: {}}, AcceptQueue: true},
			[]inspect.TCPState{inspect.FinWait2, inspect.CloseWait, inspect.Listen}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.l.DumpStates()); diff != "" {
				t.Errorf("DumpStates (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHiddenWarning(t *testing.T) {
	l := CheckThresholds{States: map[inspect.TCPState]Level{inspect.CloseWait: {}, inspect.FinWait2: {}}}
	for _, tt := range []struct {
		name   string
		filter []inspect.TCPState
		want   string
	}{
		{"no filter", nil, ""},
		{"every checked state shown", []inspect.TCPState{inspect.CloseWait, inspect.FinWait2, inspect.Established}, ""},
		{"one hidden", []inspect.TCPState{inspect.CloseWait}, "--state hides every socket in FIN_WAIT2, so its threshold cannot be crossed"},
		{"both hidden", []inspect.TCPState{inspect.Established}, "--state hides every socket in CLOSE_WAIT and FIN_WAIT2, so their thresholds cannot be crossed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.HiddenWarning(tt.filter); got != tt.want {
				t.Errorf("HiddenWarning(%v) = %q, want %q", tt.filter, got, tt.want)
			}
		})
	}
}

// FuzzParseThreshold: --warning, --critical and --max-state take
// METRIC=RANGE from people and scripts. Whatever the text, the parser
// never panics, and what it accepts is a valid state or fd usage (a
// percentage: no finite bound outside 0-100) with a range that prints
// back as itself.
func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"close-wait=0", "fd-usage=90", "FIN_WAIT2=10:", "fd=101", "close-wait=-1", "=", "close-wait",
		"estab= 3 ", "x=y", "last-ack=@1:5", "fd=~:80.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, r, err := parseThreshold("--warning", s)
		if err != nil {
			if !strings.Contains(err.Error(), "--warning") {
				t.Errorf("error %q does not name the flag", err)
			}
			return
		}
		switch {
		case m == fdMetric && (r.Start < 0 && !math.IsInf(r.Start, -1) || r.End > 100 && !math.IsInf(r.End, 1)):
			t.Errorf("%q: fd usage %v accepted", s, r)
		case m != fdMetric && !m.Valid():
			t.Errorf("%q: state %d is not valid", s, m)
		}
		if back, err := ParseRange(r.String()); err != nil || back != r {
			t.Errorf("%q: range %+v prints as %q, parsed back as %+v, %v", s, r, r, back, err)
		}
	})
}
