package report

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/sockleak/sockleak/inspect"
)

// Level is a pair of thresholds, each a Range: a value it alerts on is a
// warning (Warn) or critical (Crit). sockleak check fails on either;
// Nagios tells them apart. Level{AtMost(w), AtMost(c)} is the plain
// form: above w, above c.
type Level struct {
	Warn, Crit Range
}

// judge returns the severity of value and the range it crossed.
func (lv Level) judge(value int) (Severity, Range, bool) {
	switch {
	case lv.Crit.Alert(float64(value)):
		return Critical, lv.Crit, true
	case lv.Warn.Alert(float64(value)):
		return Warning, lv.Warn, true
	}
	return Info, Range{}, false
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
// fd usage 80%"; a warning that is no plain maximum in its range syntax:
// "CLOSE_WAIT 10:20".
func (l CheckThresholds) describe() string {
	var parts []string
	where := ""
	if l.Total {
		where = " on the host" // fd usage is always per process
	}
	plain := true
	part := func(name string, r Range, unit string) string {
		if n, ok := r.Max(); ok {
			return fmt.Sprintf("%s %s%s", name, formatNumber(n), unit)
		}
		plain = false
		return fmt.Sprintf("%s %s%s", name, r, unit)
	}
	for _, st := range l.states() {
		parts = append(parts, part(st.String(), l.States[st].Warn, "")+where)
	}
	if l.FDUsage != nil {
		parts = append(parts, part("fd usage", l.FDUsage.Warn, "%"))
	}
	switch {
	case len(parts) == 0:
		return "no thresholds"
	case plain:
		return "max " + strings.Join(parts, ", ")
	}
	return "warning " + strings.Join(parts, ", ")
}

// DefaultWarnFDUsage and DefaultCritFDUsage are the warning and critical
// fd usage, in percent, of check (--max-fd-usage, and --critical's
// default) and of the fd_pressure finding (DefaultThresholds.FDPressure
// and FDPressureCritical): one definition for both.
const (
	DefaultWarnFDUsage = 80
	DefaultCritFDUsage = 95
)

// DefaultCritCloseWait is check's critical CLOSE_WAIT level: a process
// holding more than this many sockets its peers closed (for --min-age at
// least) is CRITICAL; from 1 to this many, WARNING. It is watch's alert
// level too (--max-close-wait).
const DefaultCritCloseWait = 100

// DefaultCheckSettings are check's settings when no flag says otherwise:
// a CLOSE_WAIT socket warns and more than DefaultCritCloseWait are
// critical, FIN_WAIT2 is not checked, and fd usage warns at
// DefaultWarnFDUsage and is critical above DefaultCritFDUsage.
var DefaultCheckSettings = CheckSettings{MaxCloseWait: 0, MaxFinWait2: -1, MaxFDUsage: DefaultWarnFDUsage}

// defaultCrit are the critical levels used where only a warning is set:
// the warning's when it is higher. fdMetric stands for fd usage.
var defaultCrit = map[inspect.TCPState]int{inspect.CloseWait: DefaultCritCloseWait, fdMetric: DefaultCritFDUsage}

// fdMetric is fd usage among the states in a threshold's key: no state
// is 0.
const fdMetric inspect.TCPState = 0

// CheckSettings are the threshold settings of sockleak check as its flags
// give them. Errors name the flags.
type CheckSettings struct {
	// MaxCloseWait and MaxFinWait2 are the most sockets allowed in
	// CLOSE_WAIT and FIN_WAIT2 (--max-close-wait, --max-fin-wait2): the
	// warning level; -1 does not check.
	MaxCloseWait, MaxFinWait2 int
	// MaxFDUsage is the most a process may use of its soft fd limit, in
	// percent, 0-100 (--max-fd-usage): the warning level; -1 does not
	// check.
	MaxFDUsage int
	// CloseWaitGiven, FinWait2Given and FDUsageGiven say that the three
	// above were given, not defaults: a default gives way to any other
	// setting of its threshold, while two given values that differ are a
	// mistake.
	CloseWaitGiven, FinWait2Given, FDUsageGiven bool
	// MaxStates are STATE=N pairs (the deprecated --max-state, the same
	// as Warn). Optional.
	MaxStates []string
	// Warn and Crit are METRIC=RANGE pairs, METRIC a state or fd-usage,
	// RANGE in the plugin syntax (ParseRange), several to a string with
	// commas (-w/--warning, -c/--critical, and the deprecated --warn and
	// --crit). Warn is the warning level, as the Max settings are; Crit
	// the critical level. Optional.
	Warn, Crit []string
	// Total applies the state thresholds to the host's totals.
	Total bool
	// NoAcceptQueue does not fail the check for a server that is not
	// accepting (CheckThresholds.AcceptQueue). Optional: checked unless
	// set.
	NoAcceptQueue bool
}

// source is where a threshold came from: a flag, or "" for a default.
type source struct {
	flag string
	r    Range
}

// levels gathers thresholds by metric (a state, or fdMetric), and the
// flag each came from.
type levels map[inspect.TCPState]source

// metricName names a metric in an error: a state, or fd usage.
func metricName(m inspect.TCPState) string {
	if m == fdMetric {
		return "fd usage"
	}
	return m.String()
}

// set records a threshold. A default (flag "") gives way to any flag;
// two flags that disagree are a mistake.
func (lv levels) set(m inspect.TCPState, src source) error {
	if prev, ok := lv[m]; ok && prev.flag != "" && src.flag != "" && prev.r != src.r {
		return fmt.Errorf("%s given twice: %s (%s) and %s (%s)", metricName(m), prev.r, prev.flag, src.r, src.flag)
	}
	lv[m] = src
	return nil
}

// Thresholds builds the thresholds the settings describe. Its errors are
// mistakes in the settings, worded for the flags.
//
// A metric with a warning and no critical level gets the default
// critical level (defaultCrit) when it is above a plain warning, else the
// warning's; one with a critical level alone warns at it too.
func (s CheckSettings) Thresholds() (CheckThresholds, error) {
	l := CheckThresholds{States: map[inspect.TCPState]Level{}, Total: s.Total, AcceptQueue: !s.NoAcceptQueue}
	warn, err := s.warnings()
	if err != nil {
		return l, err
	}
	crit := levels{}
	if err := parseLevels(crit, "--critical", s.Crit); err != nil {
		return l, err
	}
	for m, c := range crit {
		if _, ok := warn[m]; !ok {
			warn[m] = c // critical only: warn at the same level
		}
	}
	for _, m := range slices.Sorted(maps.Keys(warn)) { // the same mistake reported first, every run
		w := warn[m]
		c, ok := crit[m]
		wmax, plain := w.r.Max()
		switch {
		case ok:
			if cmax, cplain := c.r.Max(); plain && cplain && cmax < wmax {
				return l, fmt.Errorf("%s: critical level %s is below its warning level %s", c.flag, c.r, w.r)
			}
		case plain && float64(defaultCrit[m]) > wmax && defaultCrit[m] > 0:
			c.r = AtMost(defaultCrit[m])
		default:
			c.r = w.r
		}
		lv := Level{Warn: w.r, Crit: c.r}
		if m == fdMetric {
			l.FDUsage = &lv
		} else {
			l.States[m] = lv
		}
	}
	if len(l.States) == 0 && l.FDUsage == nil {
		return l, errors.New("no thresholds to check: every limit is off")
	}
	return l, nil
}

// warnings gathers the warning levels of the Max settings, MaxStates and
// Warn.
func (s CheckSettings) warnings() (levels, error) {
	w := levels{}
	for _, mx := range []struct {
		flag   string
		metric inspect.TCPState
		n      int
		given  bool
		want   string
	}{
		{"--max-close-wait", inspect.CloseWait, s.MaxCloseWait, s.CloseWaitGiven, "a count,"},
		{"--max-fin-wait2", inspect.FinWait2, s.MaxFinWait2, s.FinWait2Given, "a count,"},
		{"--max-fd-usage", fdMetric, s.MaxFDUsage, s.FDUsageGiven, "a percentage, 0-100,"},
	} {
		switch {
		case mx.n == -1:
			continue
		case mx.n < -1 || mx.metric == fdMetric && mx.n > 100:
			return nil, fmt.Errorf("invalid %s %d: want %s or -1 for no limit", mx.flag, mx.n, mx.want)
		}
		src := source{r: AtMost(mx.n)} // a default: any other flag overrides it
		if mx.given {
			src.flag = mx.flag
		}
		_ = w.set(mx.metric, src) // the first of each: no conflict
	}
	if err := parseLevels(w, "--max-state", s.MaxStates); err != nil {
		return nil, err
	}
	if err := parseLevels(w, "--warning", s.Warn); err != nil {
		return nil, err
	}
	return w, nil
}

// parseLevels parses METRIC=RANGE pairs given to flag (several to a value
// with commas) into lv.
func parseLevels(lv levels, flag string, vals []string) error {
	for _, val := range vals {
		for _, one := range strings.Split(val, ",") {
			m, r, err := parseThreshold(flag, one)
			if err != nil {
				return err
			}
			if err := lv.set(m, source{flag + " " + one, r}); err != nil {
				return err
			}
		}
	}
	return nil
}

// metricOf parses the left side of METRIC=RANGE: fd-usage, or a state.
func metricOf(s string) (inspect.TCPState, error) {
	switch strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(strings.TrimSpace(s))) {
	case "fdusage", "fd", "fds":
		return fdMetric, nil
	}
	return inspect.ParseState(s)
}

// parseThreshold parses METRIC=RANGE, given to flag.
func parseThreshold(flag, s string) (inspect.TCPState, Range, error) {
	name, val, ok := strings.Cut(s, "=")
	if !ok {
		return 0, Range{}, fmt.Errorf("invalid %s %q: want METRIC=RANGE, e.g. close-wait=10 or fd-usage=90", flag, s)
	}
	m, err := metricOf(name)
	if err != nil {
		return 0, Range{}, fmt.Errorf("invalid %s %q: %v", flag, s, err)
	}
	r, err := ParseRange(strings.TrimSpace(val))
	if err != nil {
		return 0, Range{}, fmt.Errorf("invalid %s %q: %v", flag, s, err)
	}
	if m == fdMetric && (r.Start < 0 && !math.IsInf(r.Start, -1) || r.End > 100 && !math.IsInf(r.End, 1)) {
		return 0, Range{}, fmt.Errorf("invalid %s %q: fd usage is a percentage, 0-100", flag, s)
	}
	return m, r, nil
}
