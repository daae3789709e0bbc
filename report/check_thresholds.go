package report

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sockleak/sockleak/inspect"
)

// Level is a pair of thresholds: a value above Warn is a warning, above
// Crit critical. sockleak check fails on either; Nagios tells them apart.
type Level struct {
	Warn, Crit int
}

func (lv Level) judge(value int) (Severity, int, bool) {
	switch {
	case value > lv.Crit:
		return Critical, lv.Crit, true
	case value > lv.Warn:
		return Warning, lv.Warn, true
	}
	return Info, 0, false
}

// CheckThresholds are the thresholds of sockleak check.
type CheckThresholds struct {
	// States caps the sockets in each state. States not in the map are
	// not checked.
	States map[inspect.TCPState]Level
	// FDUsage caps the share of its soft fd limit a process uses, in
	// percent. Nil: not checked. Always per process: a limit is.
	FDUsage *Level
	// Total checks the state caps against the host's totals instead of
	// each owner's: every process, the kernel's sockets (TIME_WAIT,
	// orphans) and unknown owners.
	Total bool
	// AcceptQueue fails the check for a listener whose server is not
	// accepting (the accept_queue finding), whatever the counts.
	AcceptQueue bool
	// MaxWorkloads bounds the workloads (processes with PIDLabel) with
	// metrics of their own besides those with a violation
	// (DefaultMaxWorkloads when 0); the rest are summed (SeriesCap).
	MaxWorkloads int
	// PIDLabel keys the metrics by process (pid and process labels)
	// instead of by workload.
	PIDLabel bool
}

func (l CheckThresholds) states() []inspect.TCPState {
	return slices.Sorted(maps.Keys(l.States))
}

// DumpStates returns the socket states a verdict needs from the kernel:
// those with a threshold. With netlink the kernel leaves the rest out,
// and with none to match the fd walk only counts. Fd usage alone needs no
// socket state, so then it asks for LISTEN alone, the fewest sockets.
//
// The accept-queue check needs the listeners (their queue and backlog)
// and the CLOSE_WAIT connections waiting in their queues.
func (l CheckThresholds) DumpStates() []inspect.TCPState {
	states := l.states()
	if l.AcceptQueue {
		states = append(states, inspect.Listen, inspect.CloseWait)
	}
	if len(states) == 0 {
		return []inspect.TCPState{inspect.Listen}
	}
	slices.Sort(states)
	return slices.Compact(states)
}

// HiddenWarning returns a warning when a --state filter leaves out of the view
// every socket in a state with a threshold, so that it cannot be crossed;
// "" when it does not.
func (l CheckThresholds) HiddenWarning(filter []inspect.TCPState) string {
	if len(filter) == 0 {
		return ""
	}
	var hidden []string
	for st := range l.States {
		if !slices.Contains(filter, st) {
			hidden = append(hidden, st.String())
		}
	}
	if len(hidden) == 0 {
		return ""
	}
	slices.Sort(hidden)
	whose := "its threshold"
	if len(hidden) > 1 {
		whose = "their thresholds"
	}
	return fmt.Sprintf("--state hides every socket in %s, so %s cannot be crossed", strings.Join(hidden, " and "), whose)
}

// describe renders the thresholds for a summary line: "max CLOSE_WAIT 0,
// fd usage 80%".
func (l CheckThresholds) describe() string {
	var parts []string
	where := ""
	if l.Total {
		where = " on the host" // fd usage is always per process
	}
	for _, st := range l.states() {
		parts = append(parts, fmt.Sprintf("%s %d%s", st, l.States[st].Warn, where))
	}
	if l.FDUsage != nil {
		parts = append(parts, fmt.Sprintf("fd usage %d%%", l.FDUsage.Warn))
	}
	if len(parts) == 0 {
		return "no thresholds"
	}
	return "max " + strings.Join(parts, ", ")
}

// DefaultWarnFDUsage and DefaultCritFDUsage are the warning and critical
// fd usage, in percent, of check (--max-fd-usage, and --crit's default)
// and of the fd_pressure finding (DefaultThresholds.FDPressure and
// FDPressureCritical): one definition for both.
const (
	DefaultWarnFDUsage = 80
	DefaultCritFDUsage = 95
)

// DefaultCheckSettings are check's settings when no flag says otherwise:
// any CLOSE_WAIT socket fails, FIN_WAIT2 is not checked, and fd usage
// warns at DefaultWarnFDUsage.
var DefaultCheckSettings = CheckSettings{MaxCloseWait: 0, MaxFinWait2: -1, MaxFDUsage: DefaultWarnFDUsage}

// CheckSettings are the threshold settings of sockleak check as its flags
// give them. Errors name the flags.
type CheckSettings struct {
	// MaxCloseWait and MaxFinWait2 are the most sockets allowed in
	// CLOSE_WAIT and FIN_WAIT2 (--max-close-wait, --max-fin-wait2); -1
	// does not check.
	MaxCloseWait, MaxFinWait2 int
	// MaxFDUsage is the most a process may use of its soft fd limit, in
	// percent, 0-100 (--max-fd-usage); -1 does not check.
	MaxFDUsage int
	// CloseWaitGiven, FinWait2Given and FDUsageGiven say that the three
	// above were given, not defaults: a default gives way to any other
	// setting of its threshold, while two given values that differ are a
	// mistake.
	CloseWaitGiven, FinWait2Given, FDUsageGiven bool
	// MaxStates are STATE=N pairs (--max-state), any state, any spelling.
	// Optional.
	MaxStates []string
	// Warn and Crit are METRIC=N pairs, METRIC a state or fd-usage
	// (--warn, --crit): Warn is the same as the Max settings, Crit the
	// critical level. Optional.
	Warn, Crit []string
	// Total applies the state thresholds to the host's totals.
	Total bool
	// NoAcceptQueue does not fail the check for a server that is not
	// accepting (CheckThresholds.AcceptQueue). Optional: checked unless
	// set.
	NoAcceptQueue bool
}

// source is where a warning threshold came from: a flag, or "" for a
// default.
type source struct {
	flag string
	n    int
}

// warnings gathers the warning thresholds, by state and for fd usage
// (nil: none).
type warnings struct {
	states map[inspect.TCPState]source
	fd     *source
}

// set records a warning threshold. A default (flag "") gives way to any
// flag; two flags that disagree are a mistake.
func (w *warnings) set(st inspect.TCPState, fd bool, src source) error {
	if fd {
		if w.fd != nil && w.fd.flag != "" && src.flag != "" && w.fd.n != src.n {
			return fmt.Errorf("fd usage given twice: %d%% (%s) and %d%% (%s)", w.fd.n, w.fd.flag, src.n, src.flag)
		}
		w.fd = &src
		return nil
	}
	if prev, ok := w.states[st]; ok && prev.flag != "" && src.flag != "" && prev.n != src.n {
		return fmt.Errorf("%s given twice: %d (%s) and %d (%s)", st, prev.n, prev.flag, src.n, src.flag)
	}
	w.states[st] = src
	return nil
}

// Thresholds builds the thresholds the settings describe. Its errors are
// mistakes in the settings, worded for the flags.
func (s CheckSettings) Thresholds() (CheckThresholds, error) {
	l := CheckThresholds{States: map[inspect.TCPState]Level{}, Total: s.Total, AcceptQueue: !s.NoAcceptQueue}
	w, err := s.warnings()
	if err != nil {
		return l, err
	}
	crit := map[inspect.TCPState]int{}
	fdCrit := -1
	for _, c := range s.Crit {
		st, fd, n, err := parseThreshold("--crit", c, true)
		if err != nil {
			return l, err
		}
		if fd {
			fdCrit = n
			if w.fd == nil { // critical only: warn at the same level
				w.fd = &source{"--crit", n}
			}
			continue
		}
		crit[st] = n
		if _, ok := w.states[st]; !ok {
			w.states[st] = source{"--crit", n}
		}
	}
	for st, warn := range w.states {
		c, ok := crit[st]
		if !ok {
			c = warn.n
		}
		if c < warn.n {
			return l, fmt.Errorf("--crit %s=%d is below its warning threshold %d", st, c, warn.n)
		}
		l.States[st] = Level{Warn: warn.n, Crit: c}
	}
	if w.fd != nil {
		c := fdCrit
		if c < 0 {
			c = max(w.fd.n, DefaultCritFDUsage)
		}
		if c < w.fd.n {
			return l, fmt.Errorf("--crit fd-usage=%d is below its warning threshold %d", c, w.fd.n)
		}
		l.FDUsage = &Level{Warn: w.fd.n, Crit: c}
	}
	if len(l.States) == 0 && l.FDUsage == nil {
		return l, errors.New("no thresholds to check: every limit is off")
	}
	return l, nil
}

// warnings gathers the warning thresholds of the Max settings and of
// Warn.
func (s CheckSettings) warnings() (*warnings, error) {
	w := &warnings{states: map[inspect.TCPState]source{}}
	given := func(name string, n int, given bool) source {
		if given {
			return source{"--" + name, n}
		}
		return source{"", n} // a default: any other flag overrides it
	}
	switch {
	case s.MaxCloseWait >= 0:
		_ = w.set(inspect.CloseWait, false, given("max-close-wait", s.MaxCloseWait, s.CloseWaitGiven))
	case s.MaxCloseWait < -1:
		return nil, fmt.Errorf("invalid --max-close-wait %d: want a count, or -1 for no limit", s.MaxCloseWait)
	}
	switch {
	case s.MaxFinWait2 >= 0:
		_ = w.set(inspect.FinWait2, false, given("max-fin-wait2", s.MaxFinWait2, s.FinWait2Given))
	case s.MaxFinWait2 < -1:
		return nil, fmt.Errorf("invalid --max-fin-wait2 %d: want a count, or -1 for no limit", s.MaxFinWait2)
	}
	switch {
	case s.MaxFDUsage >= 0 && s.MaxFDUsage <= 100:
		_ = w.set(0, true, given("max-fd-usage", s.MaxFDUsage, s.FDUsageGiven))
	case s.MaxFDUsage != -1:
		return nil, fmt.Errorf("invalid --max-fd-usage %d: want a percentage, 0-100, or -1 for no limit", s.MaxFDUsage)
	}
	for _, flag := range []struct {
		name    string
		vals    []string
		allowFD bool
	}{{"--max-state", s.MaxStates, false}, {"--warn", s.Warn, true}} {
		for _, v := range flag.vals {
			st, fd, n, err := parseThreshold(flag.name, v, flag.allowFD)
			if err != nil {
				return nil, err
			}
			if err := w.set(st, fd, source{flag.name + " " + v, n}); err != nil {
				return nil, err
			}
		}
	}
	return w, nil
}

// IsFDUsagePair reports whether a --warn or --crit METRIC=N pair is on
// fd usage.
func IsFDUsagePair(s string) bool {
	name, _, _ := strings.Cut(s, "=")
	_, fd, err := metricOf(name)
	return err == nil && fd
}

// metricOf parses the left side of METRIC=N: fd-usage, or a state.
func metricOf(s string) (state inspect.TCPState, fd bool, err error) {
	switch strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(strings.TrimSpace(s))) {
	case "fdusage", "fd", "fds":
		return 0, true, nil
	}
	st, err := inspect.ParseState(s)
	return st, false, err
}

// parseThreshold parses METRIC=N, given to flag.
func parseThreshold(flag, s string, allowFD bool) (inspect.TCPState, bool, int, error) {
	name, val, ok := strings.Cut(s, "=")
	if !ok {
		return 0, false, 0, fmt.Errorf("invalid %s %q: want STATE=N", flag, s)
	}
	st, fd, err := metricOf(name)
	if err != nil || (fd && !allowFD) {
		if fd {
			err = errors.New("fd usage has its own flag, --max-fd-usage")
		}
		return 0, false, 0, fmt.Errorf("invalid %s %q: %v", flag, s, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(val))
	if err != nil || n < 0 {
		return 0, false, 0, fmt.Errorf("invalid %s %q: want a count of 0 or more", flag, s)
	}
	if fd && n > 100 {
		return 0, false, 0, fmt.Errorf("invalid %s %q: fd usage is a percentage, 0-100", flag, s)
	}
	return st, fd, n, nil
}
