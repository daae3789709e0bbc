package report

import "github.com/sockleak/sockleak/inspect"

// Measurement is the worst value of one metric with a threshold, whether
// or not it crossed one: the value of the owner of the worst severity, the
// highest of those (the host's with Total). Nagios performance data is
// made of them.
type Measurement struct {
	Metric string
	State  inspect.TCPState // 0 for fd usage
	Value  int
	Level  Level
}

// Measure returns the worst value of every metric with a threshold, states in
// kernel order and fd usage last.
func Measure(r *Report, l CheckThresholds) []Measurement {
	var out []Measurement
	owners := l.owners(r)
	for _, st := range l.states() {
		m := Measurement{Metric: st.Label(), State: st, Level: l.States[st]}
		var w worst
		for _, o := range owners {
			if n := o.states[st]; o.judged(n) {
				w.weigh(m.Level, n)
			}
		}
		m.Value = w.value
		out = append(out, m)
	}
	if l.FDUsage != nil {
		m := Measurement{Metric: MetricFDUsage, Level: *l.FDUsage}
		var w worst
		for _, p := range r.fdChecked() {
			if p.FDSoftLimit > 0 {
				w.weigh(m.Level, percent(usagePercent(p.FDs, p.FDSoftLimit)))
			}
		}
		m.Value = w.value
		out = append(out, m)
	}
	return out
}

// worst keeps the worst of the values weighed: the one of the highest
// severity, the highest of those (a minimum's alert is one too).
type worst struct {
	value int
	sev   Severity
	seen  bool
}

func (w *worst) weigh(lv Level, n int) {
	sev, _, _ := lv.judge(n)
	if !w.seen || sev > w.sev || sev == w.sev && n > w.value {
		w.value, w.sev, w.seen = n, sev, true
	}
}
