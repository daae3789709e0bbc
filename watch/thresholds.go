package watch

import (
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// Thresholds are the alert thresholds of sockleak watch. Each alert fires
// once when its value crosses the threshold and resolves once when it falls
// back past a lower level (hysteresis), so a value hovering at the
// threshold does not flap.
type Thresholds struct {
	// CloseWait fires close_wait when a process holds more CLOSE_WAIT
	// sockets than this; it resolves at 3/4 of it or fewer. Negative: off.
	CloseWait int
	// MaxAge fires close_wait_age when a process's oldest CLOSE_WAIT socket
	// is this old; it resolves when no socket that old is left. 0: off.
	MaxAge time.Duration
	// FDUsage fires fd_usage when a process uses this percentage of its
	// soft fd limit or more; it resolves 5 points below. 0: off.
	FDUsage float64
	// ETA fires fd_limit_eta when a process's descriptors grow and the
	// trend reaches its soft limit in less than this; it resolves when
	// they stop growing or the estimate is 1.5 times ETA or more. 0: off.
	ETA time.Duration
}

// The alert rules.
const (
	RuleCloseWait    = "close_wait"
	RuleCloseWaitAge = "close_wait_age"
	RuleFDUsage      = "fd_usage"
	RuleFDLimitETA   = "fd_limit_eta"
)

var ruleOrder = []string{RuleCloseWait, RuleCloseWaitAge, RuleFDUsage, RuleFDLimitETA}

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
	}
	return 0
}

// evaluate applies the rules to a process and returns the transitions.
func (m *Monitor) evaluate(tr *procTrack, ps *ProcStatus, now time.Time) []Alert {
	r := m.cfg.Thresholds
	cwN := ps.States[inspect.CloseWait]
	usage := ps.FDUsage()
	type verdict struct{ fire, clear bool }
	verdicts := map[string]verdict{}
	if r.CloseWait >= 0 {
		verdicts[RuleCloseWait] = verdict{cwN > r.CloseWait, cwN <= r.CloseWait*3/4}
	}
	if r.MaxAge > 0 {
		verdicts[RuleCloseWaitAge] = verdict{cwN > 0 && ps.CloseWaitOldest() >= r.MaxAge, cwN == 0 || ps.CloseWaitOldest() < r.MaxAge}
	}
	if r.FDUsage > 0 {
		// Clear 5 points below the threshold or at nine tenths of it,
		// whichever is higher: below 50% the nine tenths (5% or less would
		// never clear 5 points below).
		verdicts[RuleFDUsage] = verdict{usage >= r.FDUsage, usage < max(r.FDUsage-5, r.FDUsage*0.9)}
	}
	if r.ETA > 0 {
		growing := ps.ETA >= 0
		verdicts[RuleFDLimitETA] = verdict{growing && ps.ETA < r.ETA, !growing || float64(ps.ETA) >= 1.5*float64(r.ETA)}
	}
	a := Alert{
		Time: now, ProcKey: ps.ProcKey, Name: ps.Name, State: inspect.CloseWait, Peer: ps.CloseWaitPeer,
		Count: cwN, Age: ps.CloseWaitOldest(), FDs: ps.FDs, FDLimit: ps.FDLimit, ETA: ps.ETA,
	}
	a.Rate, a.RateKnown = ps.Rates[inspect.CloseWait]
	tr.last = &a
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
				ps.Firing = append(ps.Firing, rule)
			}
			continue
		}
		t := a
		t.Rule, t.Firing, t.Threshold = rule, tr.firing[rule], m.threshold(rule)
		out = append(out, t)
		if t.Firing {
			ps.Firing = append(ps.Firing, rule)
		}
	}
	return out
}
