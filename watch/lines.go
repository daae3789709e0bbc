package watch

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// formatRate prints a growth in sockets per minute: +34/min, -0.5/min.
func formatRate(r float64) string {
	if math.Abs(r) >= 10 {
		return fmt.Sprintf("%+.0f/min", r)
	}
	return fmt.Sprintf("%+.1f/min", r)
}

// atLimitNow says what a process at or over its soft fd limit suffers:
// there is no time left to estimate.
const atLimitNow = "at its limit now: socket(), accept() and open() fail with EMFILE"

// atLimit reports whether fds have reached a known soft limit.
func atLimit(fds int, limit int64) bool { return limit > 0 && int64(fds) >= limit }

// limitPhrase is what a line says of the fd limit's future: when it will
// be reached, that it is reached, or nothing when neither is known.
func limitPhrase(fds int, limit int64, eta time.Duration) string {
	switch {
	case atLimit(fds, limit):
		return ", " + atLimitNow
	case eta >= 0:
		return ", limit in " + formatETA(eta)
	}
	return ""
}

// formatETA prints a time to the fd limit, roughly: ~45s, ~2m, ~3h10m.
func formatETA(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("~%ds", int(d.Round(time.Second)/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("~%dm", int(d.Round(time.Minute)/time.Minute))
	case d < 100*time.Hour:
		d = d.Round(time.Minute)
		return fmt.Sprintf("~%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("~%dd", int(d/(24*time.Hour)))
}

// formatAge prints a socket's age: 45s, 2m10s, 3h10m.
func formatAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		d = d.Round(time.Second)
		if d%time.Minute == 0 {
			return strings.TrimSuffix(d.String(), "0s")
		}
		return d.String()
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

func formatFDs(fds int, limit int64) string {
	switch {
	case limit > 0:
		return fmt.Sprintf("%d/%d fds", fds, limit)
	case limit == inspect.Unlimited:
		return fmt.Sprintf("%d fds (no limit)", fds)
	}
	return fmt.Sprintf("%d fds", fds)
}

// Headline is a process's state in one line, as in
// "pid 4242 (openser): CLOSE_WAIT 1987 +34/min, 1987/2048 fds, limit in ~2m",
// led by its workload when it has one ("openser.service (pid 4242,
// openser): ...").
func (p *ProcStatus) Headline() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: CLOSE_WAIT %d", who(&p.Workload, p.WorkloadName, p.PID, p.Name, p.Command), p.States[inspect.CloseWait])
	if r, ok := p.Rates[inspect.CloseWait]; ok {
		b.WriteString(" " + formatRate(r))
	}
	if p.CloseWaitOldest() > 0 {
		b.WriteString(", oldest " + formatAge(p.CloseWaitOldest()))
	}
	b.WriteString(", " + formatFDs(p.FDs, p.FDLimit))
	b.WriteString(limitPhrase(p.FDs, p.FDLimit, p.ETA))
	return b.String()
}

// Message says what an alert is about, in one line.
func (a *Alert) Message() string {
	var b strings.Builder
	b.WriteString(a.subject())
	if a.Exited {
		b.WriteString(" exited")
		return b.String()
	}
	b.WriteString(": ")
	if a.Rule == RuleCrashLoop {
		b.WriteString(crashLoopPhrase(a.Exits) + "; now ")
	}
	// An fd alert of a process with no socket in the state says nothing
	// of the state.
	if a.Count > 0 || a.Rule == RuleCloseWait || a.Rule == RuleCloseWaitAge {
		fmt.Fprintf(&b, "%d %s", a.Count, a.State)
		if a.Peer != "" {
			b.WriteString(" to " + a.Peer)
		}
		if a.Age > 0 {
			b.WriteString(", oldest " + formatAge(a.Age))
		}
		if a.RateKnown {
			b.WriteString(", " + formatRate(a.Rate))
		}
		if a.OpenedBy != "" {
			b.WriteString(", opened by " + wording.Escape(a.OpenedBy))
		}
		b.WriteString("; ")
	}
	b.WriteString(formatFDs(a.FDs, a.FDLimit))
	if a.FDLimit > 0 {
		fmt.Fprintf(&b, " (%.0f%%)", 100*float64(a.FDs)/float64(a.FDLimit))
	}
	b.WriteString(limitPhrase(a.FDs, a.FDLimit, a.ETA))
	switch a.Rule {
	case RuleCloseWait:
		fmt.Fprintf(&b, " [more than %g in CLOSE_WAIT]", a.Threshold)
	case RuleCloseWaitAge:
		fmt.Fprintf(&b, " [CLOSE_WAIT for %s or longer]", formatAge(time.Duration(a.Threshold*float64(time.Second))))
	case RuleFDUsage:
		fmt.Fprintf(&b, " [%g%% of the fd limit or more]", a.Threshold)
	case RuleFDLimitETA:
		fmt.Fprintf(&b, " [fd limit in less than %s]", formatAge(time.Duration(a.Threshold*float64(time.Second))))
	case RuleCrashLoop:
		fmt.Fprintf(&b, " [%g ends at %.0f%%+ of the fd limit in %s]", a.Threshold, 100*CrashLoopUsage, formatAge(CrashLoopWindow))
	}
	return b.String()
}

func (a *Alert) verb() string {
	if a.Firing {
		return "FIRING"
	}
	return "RESOLVED"
}

const lineTime = "2006-01-02T15:04:05.000Z07:00"

// TextLines writes a status as append-only lines for logs: one summary line,
// then one line per alert transition.
func TextLines(w io.Writer, st *Status) error {
	var b strings.Builder
	ts := st.Time.Format(lineTime)
	if st.Err != nil {
		fmt.Fprintf(&b, "%s sample %d failed: %s\n", ts, st.Seq, wording.Escape(st.Err.Error()))
		_, err := io.WriteString(w, b.String())
		return err
	}
	total, parts := stateCounts(st.States)
	fmt.Fprintf(&b, "%s sample %d (%s): %s", ts, st.Seq, wording.Round(st.Took), wording.Plural(total, "socket"))
	if len(parts) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, ", %s", wording.Count(len(st.Processes), "process", "processes"))
	if st.Denied > 0 {
		fmt.Fprintf(&b, ", %d not inspectable", st.Denied)
	}
	if len(st.Processes) > 0 {
		if p := &st.Processes[0]; p.States[inspect.CloseWait] > 0 || len(p.Firing) > 0 {
			b.WriteString("; worst: " + p.Headline())
		}
	}
	for i := range st.Workloads {
		if w := &st.Workloads[i]; slices.Contains(w.Firing, RuleCrashLoop) {
			b.WriteString("; " + wording.Escape(w.Name) + " " + crashLoopPhrase(w.LimitExits()))
		}
	}
	b.WriteByte('\n')
	for i := range st.Alerts {
		a := &st.Alerts[i]
		fmt.Fprintf(&b, "%s %s %s: %s\n", a.Time.Format(lineTime), a.verb(), a.Rule, a.Message())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// SampleLine is the JSON form of a sample (type "sample"), or of a failed
// one (type "error"). Its fields are an API: within a schema version they
// are only ever added.
type SampleLine struct {
	Type          string         `json:"type"` // "sample" or "error"
	SchemaVersion int            `json:"schema_version"`
	Seq           int            `json:"seq"`
	Time          string         `json:"time"` // RFC 3339, wording.Timestamp
	Error         string         `json:"error,omitempty"`
	TookSeconds   float64        `json:"took_seconds"`
	States        map[string]int `json:"states"`
	Inspected     int            `json:"processes_inspected"`
	Denied        int            `json:"processes_denied"`
	Errors        int            `json:"sample_errors"`
	Processes     []ProcessLine  `json:"processes"`
	// Workloads are the workloads with CLOSE_WAIT sockets, a firing alert,
	// or a process that ended near its fd limit in the last 10 minutes.
	Workloads []WorkloadSample `json:"workloads"`
	Warnings  []string         `json:"warnings"`
}

// ProcessLine is one process of a sample line.
type ProcessLine struct {
	PID         int            `json:"pid"`
	StartTime   string         `json:"start_time,omitempty"` // RFC 3339; absent when the boot time is unknown
	Name        string         `json:"name"`
	Command     string         `json:"command,omitempty"` // when another process shown has the same name
	User        string         `json:"user"`
	States      map[string]int `json:"states"`
	Sockets     int            `json:"sockets"`
	FDsOpen     int            `json:"fds_open"`
	FDSoftLimit int64          `json:"fd_soft_limit"` // -1 unlimited, 0 unknown
	// RatesPerMinute is each state's growth over the window (least
	// squares); absent until the window holds 3 samples.
	RatesPerMinute   map[string]float64 `json:"rates_per_minute"`
	FDRatePerMinute  float64            `json:"fd_rate_per_minute"`
	SecondsToFDLimit *float64           `json:"seconds_to_fd_limit"` // null unless the fds grow toward a known limit
	CloseWaitOldest  float64            `json:"close_wait_oldest_seconds"`
	CloseWaitPeer    string             `json:"close_wait_peer"`
	// OldestSeconds is, for each close-handshake state the process holds
	// (CLOSE_WAIT, FIN_WAIT1, FIN_WAIT2, LAST_ACK, CLOSING), how long its
	// oldest socket has been seen in it.
	OldestSeconds map[string]float64 `json:"oldest_seconds"`
	Firing        []string           `json:"firing"`
	// Workload is what the process belongs to (inspect.Workload), with
	// its name: absent when its cgroup could not be read.
	Workload *WorkloadLine `json:"workload,omitempty"`
}

// WorkloadLine is a process's workload in a line: its name (its key
// across restarts) and the fields of inspect.Workload.
type WorkloadLine struct {
	Name string `json:"name"`
	inspect.Workload
}

// AlertLine is the JSON form of an alert transition (type "alert").
type AlertLine struct {
	Type             string   `json:"type"` // "alert"
	SchemaVersion    int      `json:"schema_version"`
	Time             string   `json:"time"`
	Rule             string   `json:"rule"`
	Status           string   `json:"status"` // "firing" or "resolved"
	Exited           bool     `json:"exited"` // resolved because the process exited
	PID              int      `json:"pid"`
	StartTime        string   `json:"start_time,omitempty"`
	Name             string   `json:"name"`
	Command          string   `json:"command,omitempty"` // when another process shown has the same name
	State            string   `json:"state"`
	Peer             string   `json:"peer"`
	Count            int      `json:"count"`
	AgeSeconds       float64  `json:"age_seconds"`
	RatePerMinute    *float64 `json:"rate_per_minute"` // null until the window holds 3 samples
	FDsOpen          int      `json:"fds_open"`
	FDSoftLimit      int64    `json:"fd_soft_limit"`
	SecondsToFDLimit *float64 `json:"seconds_to_fd_limit"`
	Threshold        float64  `json:"threshold"`
	Message          string   `json:"message"`
	// Workload is the workload the alert is about (alerts are per
	// workload; pid is its process the alert names); FDLimitExits are,
	// for crash_loop, its processes that ended near their fd limit.
	Workload     *WorkloadLine `json:"workload,omitempty"`
	FDLimitExits []ExitLine    `json:"fd_limit_exits,omitempty"`
	// OpenedBy is, under watch --trace, the code that opened the sockets
	// counted.
	OpenedBy string `json:"opened_by,omitempty"`
}

// LinesSchemaVersion is the version of SampleLine and AlertLine. 2:
// start_time is an RFC 3339 timestamp (it was clock ticks after boot, a
// number), and times are to the second in UTC (they had nanoseconds).
const LinesSchemaVersion = 2

// startTime is when the process whose PID/stat start time is ticks
// started, as the lines write times; "" when the boot time is unknown.
func startTime(bootTime, ticks uint64) string {
	return wording.Timestamp(inspect.System{BootTime: bootTime}.ProcessStart(ticks))
}

func etaSeconds(d time.Duration) *float64 {
	if d < 0 {
		return nil
	}
	s := d.Seconds()
	return &s
}

// JSONLines writes a status as one JSON object per line: the sample, then
// one per alert transition.
func JSONLines(w io.Writer, st *Status) error {
	ts := wording.Timestamp(st.Time)
	line := SampleLine{
		Type: "sample", SchemaVersion: LinesSchemaVersion, Seq: st.Seq, Time: ts, TookSeconds: st.Took.Seconds(),
		States: map[string]int{}, Inspected: st.Inspected, Denied: st.Denied, Errors: st.Errors,
		Processes: make([]ProcessLine, 0, len(st.Processes)), Warnings: append([]string{}, st.Warnings...),
	}
	if st.Err != nil {
		line.Type, line.Error = "error", st.Err.Error()
	}
	for s, n := range st.States {
		line.States[s.String()] = n
	}
	for i := range st.Processes {
		p := &st.Processes[i]
		pl := ProcessLine{
			PID: p.PID, StartTime: startTime(st.BootTime, p.Start), Name: p.Name, Command: p.Command, User: p.User, States: map[string]int{}, Sockets: p.Sockets,
			FDsOpen: p.FDs, FDSoftLimit: p.FDLimit, RatesPerMinute: map[string]float64{}, FDRatePerMinute: p.FDRate,
			SecondsToFDLimit: etaSeconds(p.ETA), CloseWaitOldest: p.CloseWaitOldest().Seconds(), CloseWaitPeer: p.CloseWaitPeer,
			Firing: append([]string{}, p.Firing...),
		}
		if p.Workload.Kind != "" {
			pl.Workload = &WorkloadLine{Name: p.WorkloadName, Workload: p.Workload}
		}
		pl.OldestSeconds = map[string]float64{}
		for s, d := range p.Oldest {
			pl.OldestSeconds[s.String()] = d.Seconds()
		}
		for s, n := range p.States {
			pl.States[s.String()] = n
		}
		for s, r := range p.Rates {
			pl.RatesPerMinute[s.String()] = r
		}
		line.Processes = append(line.Processes, pl)
	}
	line.Workloads = workloadSamples(st.Workloads, st.BootTime)
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(line); err != nil {
		return err
	}
	for i := range st.Alerts {
		a := &st.Alerts[i]
		status := "resolved"
		if a.Firing {
			status = "firing"
		}
		var rate *float64
		if a.RateKnown {
			rate = &a.Rate
		}
		if err := enc.Encode(AlertLine{
			Type: "alert", SchemaVersion: LinesSchemaVersion, Time: wording.Timestamp(a.Time),
			Rule: a.Rule, Status: status, Exited: a.Exited, PID: a.PID, StartTime: startTime(st.BootTime, a.Start), Name: a.Name, Command: a.Command,
			State: a.State.String(), Peer: a.Peer, Count: a.Count, AgeSeconds: a.Age.Seconds(),
			RatePerMinute: rate, FDsOpen: a.FDs, FDSoftLimit: a.FDLimit, SecondsToFDLimit: etaSeconds(a.ETA),
			Threshold: a.Threshold, Message: a.Message(), Workload: workloadLine(a.WorkloadName, a.Workload),
			FDLimitExits: exitLines(a.Exits, st.BootTime), OpenedBy: a.OpenedBy,
		}); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// stateCounts totals a sample's sockets and lists the states held, in
// kernel order, as "CLOSE_WAIT 12".
func stateCounts(states map[inspect.TCPState]int) (total int, parts []string) {
	for _, s := range inspect.States {
		if n := states[s]; n > 0 {
			total += n
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
	}
	return total, parts
}
