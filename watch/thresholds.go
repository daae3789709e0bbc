package watch

import (
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// Thresholds are the alert thresholds of sockleak watch. Alerts are
// per workload (its processes summed, the worst of them for fd usage and
// time to the limit), so they carry on when its pid changes. Each alert fires
// once when its value crosses the threshold and resolves once when it falls
// back past a lower level (hysteresis), so a value hovering at the
// threshold does not flap.
type Thresholds struct {
	// CloseWait fires close_wait when a workload holds more CLOSE_WAIT
	// sockets than this; it resolves at 3/4 of it or fewer. Negative: off.
	CloseWait int
	// MaxAge fires close_wait_age when a workload's oldest CLOSE_WAIT socket
	// is this old; it resolves when no socket that old is left. 0: off.
	MaxAge time.Duration
	// FDUsage fires fd_usage when a process of a workload uses this
	// percentage of its soft fd limit or more; it resolves 5 points below.
	// 0: off.
	FDUsage float64
	// ETA fires fd_limit_eta when a workload's descriptors grow toward a
	// process's soft limit, across restarts (WorkloadStatus.ETA), and
	// reach it in less than this; it resolves when they stop growing or
	// the estimate is 1.5 times ETA or more. 0: off.
	ETA time.Duration
	// CrashLoop fires crash_loop when this many processes of a workload
	// ended at CrashLoopUsage of their fd limit or more within
	// CrashLoopWindow and the workload came back; it resolves when fewer
	// are left in the window. 0: off.
	CrashLoop int
}

// The alert rules.
const (
	RuleCloseWait    = "close_wait"
	RuleCloseWaitAge = "close_wait_age"
	RuleFDUsage      = "fd_usage"
	RuleFDLimitETA   = "fd_limit_eta"
	RuleCrashLoop    = "crash_loop"
)

var ruleOrder = []string{RuleCloseWait, RuleCloseWaitAge, RuleFDUsage, RuleFDLimitETA, RuleCrashLoop}

// threshold is a rule's threshold, in the rule's unit: sockets, seconds,
// percent.
func (m *Monitor) threshold(rule string) float64 {
	r := m.cfg.Thresholds
	switch rule {
	case RuleCloseWait:
		return float64(r.CloseWait)
	case RuleCloseWaitAge:
		return r.MaxAge.Seconds()
	case RuleFDUsage:
		return r.FDUsage
	case RuleFDLimitETA:
		return r.ETA.Seconds()
	case RuleCrashLoop:
		return float64(r.CrashLoop)
	}
	return 0
}

// evaluate applies the rules to a workload present at this sample and
// returns the transitions.
func (m *Monitor) evaluate(tr *wlTrack, w *WorkloadStatus, now time.Time) []Alert {
	r := m.cfg.Thresholds
	cwN := w.CloseWait
	usage := -1.0
	if w.FDLimit > 0 {
		usage = 100 * float64(w.FDs) / float64(w.FDLimit)
	}
	verdicts := map[string]verdict{}
	if r.CloseWait >= 0 {
		verdicts[RuleCloseWait] = verdict{cwN > r.CloseWait, cwN <= r.CloseWait*3/4}
	}
	if r.MaxAge > 0 {
		verdicts[RuleCloseWaitAge] = verdict{cwN > 0 && w.Oldest >= r.MaxAge, cwN == 0 || w.Oldest < r.MaxAge}
	}
	if r.FDUsage > 0 {
		// Clear 5 points below the threshold or at nine tenths of it,
		// whichever is higher: below 50% the nine tenths (5% or less would
		// never clear 5 points below).
		verdicts[RuleFDUsage] = verdict{usage >= r.FDUsage, usage < max(r.FDUsage-5, r.FDUsage*0.9)}
	}
	if r.ETA > 0 {
		growing := w.ETA >= 0
		verdicts[RuleFDLimitETA] = verdict{growing && w.ETA < r.ETA, !growing || float64(w.ETA) >= 1.5*float64(r.ETA)}
	}
	m.crashLoopVerdict(verdicts, w)
	a := Alert{
		Time: now, ProcKey: w.Lead, Name: w.LeadName, Command: w.LeadCommand, WorkloadName: w.Name, Workload: w.Workload,
		State: inspect.CloseWait, Peer: w.CloseWaitPeer, Count: cwN, Age: w.Oldest, FDs: w.FDs, FDLimit: w.FDLimit,
		ETA: w.ETA, Rate: w.Rate, RateKnown: w.RateKnown, Exits: w.LimitExits(),
	}
	tr.last = &a
	return m.transitions(tr, w, a, verdicts)
}

// verdict is whether a rule's condition holds (fire) and whether it has
// fallen back past its resolution level (clear).
type verdict struct{ fire, clear bool }

// crashLoopVerdict adds the crash loop rule's verdict: fire when the
// workload's processes ended near their fd limit CrashLoop times within
// CrashLoopWindow and it came back (it has a process now); clear when
// fewer than that are left in the window.
func (m *Monitor) crashLoopVerdict(verdicts map[string]verdict, w *WorkloadStatus) {
	n := m.cfg.Thresholds.CrashLoop
	if n <= 0 {
		return
	}
	exits := len(w.LimitExits())
	verdicts[RuleCrashLoop] = verdict{exits >= n && w.Processes > 0, exits < n}
}

// transitions applies the verdicts to the workload's firing rules and
// returns an alert for each rule that fired or resolved.
func (m *Monitor) transitions(tr *wlTrack, w *WorkloadStatus, a Alert, verdicts map[string]verdict) []Alert {
	var out []Alert
	for _, rule := range ruleOrder {
		v, ok := verdicts[rule]
		switch {
		case !ok:
			continue
		case !tr.firing[rule] && v.fire:
			tr.firing[rule] = true
		case tr.firing[rule] && v.clear:
			delete(tr.firing, rule)
		default:
			if tr.firing[rule] {
				w.Firing = append(w.Firing, rule)
			}
			continue
		}
		t := a
		t.Rule, t.Firing, t.Threshold = rule, tr.firing[rule], m.threshold(rule)
		out = append(out, t)
		if t.Firing {
			w.Firing = append(w.Firing, rule)
		}
	}
	return out
}

// gone resolves the alerts of a workload without processes at this
// sample: at once for a plain process (it exited), but only once it has
// been gone for the window for a unit, container or pod, which its
// supervisor restarts: a service that dies of its leak keeps its alerts
// (and its crash loop fires) across the restart.
func (m *Monitor) gone(tr *wlTrack, w *WorkloadStatus, now time.Time) []Alert {
	if tr.workload.Named() && now.Sub(tr.present) < m.cfg.Window {
		for _, rule := range ruleOrder {
			if tr.firing[rule] {
				w.Firing = append(w.Firing, rule)
			}
		}
		return nil
	}
	var out []Alert
	for _, rule := range ruleOrder {
		if tr.firing[rule] && tr.last != nil {
			a := *tr.last
			a.Time, a.Rule, a.Firing, a.Exited = now, rule, false, true
			a.Threshold = m.threshold(rule)
			out = append(out, a)
		}
	}
	clear(tr.firing)
	return out
}
