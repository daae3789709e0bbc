package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/sockleak/sockleak/internal/wording"
)

// Nagios plugin exit codes (Monitoring Plugins Development Guidelines,
// "Plugin Return Codes").
const (
	NagiosOK       = 0
	NagiosWarning  = 1
	NagiosCritical = 2
	NagiosUnknown  = 3
)

// NagiosMaxViolations is how many violations the long output lists, worst
// first; a last line says how many more there are. A plugin's output is
// kept by the monitoring server for every check: 2000 leaking processes
// must not make 2000 lines.
const NagiosMaxViolations = 20

var nagiosWords = [...]string{NagiosOK: "OK", NagiosWarning: "WARNING", NagiosCritical: "CRITICAL", NagiosUnknown: "UNKNOWN"}

// Nagios writes a check as a Nagios (Icinga, Naemon, Sensu) plugin does
// and returns the plugin's exit code. The first line is the status and
// the worst violation, then performance data after a '|':
//
//	SOCKLEAK CRITICAL - pid 4242 (openser) 1987 CLOSE_WAIT to 10.0.0.5:7000 | close_wait=1987;0;0;0; fd_usage=98%;80;90;0;100
//
// Each further line is one violation (the plugin's long output), at most
// NagiosMaxViolations of them, then "... and N more violations". The
// performance data holds, for every metric with a threshold, the worst owner's
// value with the warning and critical levels in the plugin range syntax
// (Range.String): a plain number N means "alert above N", as sockleak's
// maximums do; a range given (-w close-wait=10:20) shows as given.
func Nagios(w io.Writer, r *Report, l CheckThresholds, vs []Violation) (int, error) {
	code := NagiosOK
	switch Status(vs) {
	case Warning:
		code = NagiosWarning
	case Critical:
		code = NagiosCritical
	}
	var b strings.Builder
	fmt.Fprintf(&b, "SOCKLEAK %s - ", nagiosWords[code])
	if len(vs) == 0 {
		fmt.Fprintf(&b, "no threshold exceeded; %s inspected", wording.Count(len(r.Snapshot.Processes), "process", "processes"))
	} else {
		b.WriteString(nagiosText(vs[0].Summary()))
		if len(vs) > 1 {
			fmt.Fprintf(&b, " (and %d more)", len(vs)-1)
		}
	}
	sep := " | "
	for _, m := range Measure(r, l) {
		b.WriteString(sep)
		sep = " "
		if m.State == 0 {
			fmt.Fprintf(&b, "%s=%d%%;%s;%s;0;100", m.Metric, m.Value, m.Level.Warn, m.Level.Crit)
		} else {
			fmt.Fprintf(&b, "%s=%d;%s;%s;0;", m.Metric, m.Value, m.Level.Warn, m.Level.Crit)
		}
	}
	b.WriteByte('\n')
	for _, v := range vs[:min(len(vs), NagiosMaxViolations)] {
		fmt.Fprintf(&b, "%s: %s\n", strings.ToUpper(v.Severity.String()), nagiosText(v.Message()))
	}
	if n := len(vs) - NagiosMaxViolations; n > 0 {
		fmt.Fprintf(&b, "... and %s\n", wording.Plural(n, "more violation"))
	}
	_, err := io.WriteString(w, b.String())
	return code, err
}

// NagiosError writes the plugin line for a check that could not run and
// returns NagiosUnknown.
func NagiosError(w io.Writer, err error) int {
	fmt.Fprintf(w, "SOCKLEAK UNKNOWN - %s\n", nagiosText(err.Error()))
	return NagiosUnknown
}

// nagiosText keeps a '|' in a process name from starting the performance
// data, and a newline from ending the status line: an error's newlines
// become spaces, and whatever else is not printable is escaped (names
// were escaped already; escaping again changes nothing).
func nagiosText(s string) string {
	return strings.ReplaceAll(wording.Escape(strings.ReplaceAll(s, "\n", " ")), "|", "/")
}
