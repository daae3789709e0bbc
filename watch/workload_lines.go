package watch

import (
	"fmt"
	"math"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// subject is who an alert is about: its workload and process when it is
// a unit, container or pod ("leaky.service (pid 4242, python3)"), as the
// findings of sockleak inspect; the process otherwise.
func (a *Alert) subject() string {
	if a.Workload.Named() && a.PID == 0 {
		return wording.Escape(a.WorkloadName)
	}
	return who(&a.Workload, a.WorkloadName, a.PID, a.Name, a.Command)
}

// who names a process in a line, led by its workload when that has a
// name of its own, as report's findings: "leaky.service (pid 4242,
// python3)"; "pid 4242 (python3)" otherwise. Everything is escaped.
func who(w *inspect.Workload, workloadName string, pid int, name, command string) string {
	if w.Named() {
		return fmt.Sprintf("%s (pid %d, %s)", wording.Escape(workloadName), pid, label(name, command))
	}
	return fmt.Sprintf("pid %d (%s)", pid, label(name, command))
}

// crashLoopPhrase says how a workload's processes ended: "restarted 3
// times in 10m, each time at 95-100% of its fd limit".
func crashLoopPhrase(exits []Exit) string {
	if len(exits) == 0 {
		return "no process ended at its fd limit"
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, e := range exits {
		lo, hi = min(lo, e.Usage()), max(hi, e.Usage())
	}
	at := fmt.Sprintf("%.0f%%", lo)
	if math.Round(lo) != math.Round(hi) {
		at = fmt.Sprintf("%.0f–%.0f%%", lo, hi)
	}
	times := wording.Plural(len(exits), "time")
	if len(exits) == 1 {
		return fmt.Sprintf("ended once in %s at %s of its fd limit", formatAge(CrashLoopWindow), at)
	}
	return fmt.Sprintf("restarted %s in %s, each time at %s of its fd limit", times, formatAge(CrashLoopWindow), at)
}

// WorkloadSample is one workload of a sample line: its processes summed,
// its CLOSE_WAIT growth and time to the fd limit across restarts, and
// its processes that ended near their fd limit.
type WorkloadSample struct {
	WorkloadLine
	Processes int `json:"processes"`
	CloseWait int `json:"close_wait"`
	// CloseWaitRatePerMinute is the CLOSE_WAIT growth over the window,
	// carried over the processes that ended; null until 3 samples.
	CloseWaitRatePerMinute *float64   `json:"close_wait_rate_per_minute"`
	SecondsToFDLimit       *float64   `json:"seconds_to_fd_limit"`
	FDLimitExits           []ExitLine `json:"fd_limit_exits"`
	Firing                 []string   `json:"firing"`
}

// ExitLine is a process that ended near its fd limit.
type ExitLine struct {
	PID         int    `json:"pid"`
	StartTime   string `json:"start_time,omitempty"` // RFC 3339; absent when the boot time is unknown
	Time        string `json:"time"`                 // the first sample without it, RFC 3339
	FDsOpen     int    `json:"fds_open"`
	FDSoftLimit int64  `json:"fd_soft_limit"`
}

func workloadLine(name string, w inspect.Workload) *WorkloadLine {
	if w.Kind == "" {
		return nil
	}
	return &WorkloadLine{Name: name, Workload: w}
}

func workloadSamples(ws []WorkloadStatus, bootTime uint64) []WorkloadSample {
	out := make([]WorkloadSample, 0, len(ws))
	for i := range ws {
		w := &ws[i]
		wl := w.Workload
		if wl.Kind == "" {
			wl.Kind = inspect.KindProcess
		}
		l := WorkloadSample{
			WorkloadLine: WorkloadLine{Name: w.Name, Workload: wl}, Processes: w.Processes, CloseWait: w.CloseWait,
			SecondsToFDLimit: etaSeconds(w.ETA), FDLimitExits: exitLines(w.LimitExits(), bootTime), Firing: append([]string{}, w.Firing...),
		}
		if l.FDLimitExits == nil {
			l.FDLimitExits = []ExitLine{}
		}
		if w.RateKnown {
			r := w.Rate
			l.CloseWaitRatePerMinute = &r
		}
		out = append(out, l)
	}
	return out
}

func exitLines(exits []Exit, bootTime uint64) []ExitLine {
	var out []ExitLine
	for _, e := range exits {
		out = append(out, ExitLine{PID: e.PID, StartTime: startTime(bootTime, e.Start), Time: wording.Timestamp(e.At),
			FDsOpen: e.FDs, FDSoftLimit: e.FDLimit})
	}
	return out
}
