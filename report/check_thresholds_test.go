package report

import (
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

func lvp(warn, crit int) *Level { return &Level{warn, crit} }

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
		states:   cwThreshold(0, 0),
		fd:       lvp(80, 95),
	},
	{
		name:     "the accept queue not checked",
		settings: checkDefaults(func(s *CheckSettings) { s.NoAcceptQueue = true }),
		states:   cwThreshold(0, 0),
		fd:       lvp(80, 95),
	},
	{
		name: "every setting",
		settings: checkDefaults(func(s *CheckSettings) {
			s.MaxCloseWait, s.MaxFinWait2, s.MaxFDUsage = 5, 100, 70
			s.CloseWaitGiven, s.FinWait2Given, s.FDUsageGiven = true, true, true
			s.MaxStates = []string{"last-ack=7", "SYN_RECV=1000"}
		}),
		states: map[inspect.TCPState]Level{inspect.CloseWait: {5, 5}, inspect.FinWait2: {100, 100}, inspect.LastAck: {7, 7}, inspect.SynRecv: {1000, 1000}},
		fd:     lvp(70, 95),
	},
	{
		name:     "any spelling of a state",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxStates = []string{"fin-wait-2=3", "time_wait=10000"} }),
		states:   map[inspect.TCPState]Level{inspect.CloseWait: {0, 0}, inspect.FinWait2: {3, 3}, inspect.TimeWait: {10000, 10000}},
		fd:       lvp(80, 95),
	},
	{
		name:     "--max-state overrides a default",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxStates = []string{"close-wait=9"} }),
		states:   cwThreshold(9, 9),
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
		states:   map[inspect.TCPState]Level{inspect.CloseWait: {0, 0}, inspect.FinWait2: {50, 50}},
		fd:       lvp(80, 95),
	},
	{
		name:     "a critical fd usage alone also warns there",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxFDUsage, s.FDUsageGiven, s.Crit = -1, true, []string{"fd-usage=90"} }),
		states:   cwThreshold(0, 0),
		fd:       lvp(90, 90),
	},
	{
		name:     "a warning above the default critical fd usage raises it",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxFDUsage, s.FDUsageGiven = 99, true }),
		states:   cwThreshold(0, 0),
		fd:       lvp(99, 99),
	},
	{
		name: "limits off",
		settings: checkDefaults(func(s *CheckSettings) {
			s.MaxCloseWait, s.MaxFDUsage, s.MaxStates = -1, -1, []string{"last-ack=1"}
		}),
		states: map[inspect.TCPState]Level{inspect.LastAck: {1, 1}},
	},
	{
		name:     "a default and a flag that differ: the flag",
		settings: checkDefaults(func(s *CheckSettings) { s.Warn = []string{"fd-usage=60"} }),
		states:   cwThreshold(0, 0),
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
		wantErr:  `invalid --max-state "close-wait": want STATE=N`,
	},
	{
		name:     "bad count",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxStates = []string{"close-wait=many"} }),
		wantErr:  `want a count of 0 or more`,
	},
	{
		name:     "negative count",
		settings: checkDefaults(func(s *CheckSettings) { s.Warn = []string{"close-wait=-3"} }),
		wantErr:  `want a count of 0 or more`,
	},
	{
		name:     "bad critical level",
		settings: checkDefaults(func(s *CheckSettings) { s.Crit = []string{"close-wait=x"} }),
		wantErr:  `invalid --crit "close-wait=x": want a count of 0 or more`,
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
		wantErr:  `invalid --warn "fd-usage=101": fd usage is a percentage, 0-100`,
	},
	{
		name:     "fd in --max-state",
		settings: checkDefaults(func(s *CheckSettings) { s.MaxStates = []string{"fd-usage=50"} }),
		wantErr:  "fd usage has its own flag",
	},
	{
		name: "crit below warn",
		settings: checkDefaults(func(s *CheckSettings) {
			s.MaxCloseWait, s.CloseWaitGiven, s.Crit = 10, true, []string{"close-wait=5"}
		}),
		wantErr: "--crit CLOSE_WAIT=5 is below its warning threshold 10",
	},
	{
		name:     "fd crit below warn",
		settings: checkDefaults(func(s *CheckSettings) { s.Crit = []string{"fd-usage=70"} }),
		wantErr:  "--crit fd-usage=70 is below its warning threshold 80",
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
		wantErr: "fd usage given twice: 70% (--max-fd-usage) and 60% (--warn fd=60)",
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

// FuzzParseThreshold: --warn, --crit and --max-state take METRIC=N from
// people and scripts. Whatever the text, the parser never panics, and what
// it accepts is a valid state or fd usage with a count of 0 or more (fd
// usage a percentage), only where fd usage is allowed.
func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"close-wait=0", "fd-usage=90", "FIN_WAIT2=10", "fd=101", "close-wait=-1", "=", "close-wait", "estab= 3 ", "x=y"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, allowFD bool) {
		st, fd, n, err := parseThreshold("--warn", s, allowFD)
		if err != nil {
			if !strings.Contains(err.Error(), "--warn") {
				t.Errorf("error %q does not name the flag", err)
			}
			return
		}
		switch {
		case n < 0:
			t.Errorf("%q: a negative count %d", s, n)
		case fd && (!allowFD || n > 100):
			t.Errorf("%q: fd usage %d accepted (allowed %v)", s, n, allowFD)
		case !fd && !st.Valid():
			t.Errorf("%q: state %d is not valid", s, st)
		}
	})
}
