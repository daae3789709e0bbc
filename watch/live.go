package watch

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// Live is the top-like view of sockleak watch on a terminal: the screen is
// redrawn at each sample with one row per process and the recent alerts.
// Start switches to the terminal's alternate screen and Stop restores it,
// so the shell's screen comes back as it was.
type Live struct {
	w     io.Writer
	color bool
	// size returns the terminal's columns and rows; 0 when unknown.
	size   func() (cols, rows int)
	recent []string // the latest alert lines, oldest first
	frame  []string // the lines last drawn, for Stop to leave on the screen
}

// maxRecentAlerts is how many alert lines the view keeps.
const maxRecentAlerts = 8

// NewLive returns a view writing to w. color false (NO_COLOR) draws
// without escape sequences for color; size may be nil.
func NewLive(w io.Writer, color bool, size func() (cols, rows int)) *Live {
	if size == nil {
		size = func() (int, int) { return 0, 0 }
	}
	return &Live{w: w, color: color, size: size}
}

// ANSI sequences: the alternate screen (xterm's 1049), cursor hidden and
// shown, home, erase to the end of the line and of the screen.
const (
	enterScreen = "\x1b[?1049h\x1b[?25l"
	leaveScreen = "\x1b[?25h\x1b[?1049l"
	home        = "\x1b[H"
	eraseLine   = "\x1b[K"
	eraseBelow  = "\x1b[J"
	bold        = "\x1b[1m"
	red         = "\x1b[31m"
	green       = "\x1b[32m"
	reset       = "\x1b[0m"
)

// Start takes over the screen.
func (v *Live) Start() error {
	_, err := io.WriteString(v.w, enterScreen)
	return err
}

// Stop gives the screen back as it was. With keep (a watch that ended
// on its own, after --count), it then prints the last frame there, so
// what the watch ended on stays on the terminal; stopped by the user
// (^C, SIGTERM), it leaves the screen as it was before.
func (v *Live) Stop(keep bool) error {
	out := leaveScreen
	if keep && len(v.frame) > 0 {
		out += strings.Join(v.frame, "\n") + "\n"
	}
	_, err := io.WriteString(v.w, out)
	return err
}

func (v *Live) paint(code, s string) string {
	if !v.color || code == "" {
		return s
	}
	return code + s + reset
}

// sparkBlocks are the eight levels of a sparkline.
var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws values (the window, oldest first) in at most width
// columns, scaled from their minimum to their maximum: the shape of the
// trend. More values than columns are put in width buckets of equal
// spans, each drawn at its highest value. A flat line sits at the bottom
// when it is zero, in the middle otherwise.
func Sparkline(values []int, width int) string {
	if len(values) > width && width > 0 {
		buckets := make([]int, width)
		for i := range buckets {
			buckets[i] = slices.Max(values[i*len(values)/width : (i+1)*len(values)/width])
		}
		values = buckets
	}
	if len(values) == 0 {
		return ""
	}
	lo, hi := slices.Min(values), slices.Max(values)
	var b strings.Builder
	for _, v := range values {
		i := 0
		switch {
		case hi > lo:
			i = ((v-lo)*(len(sparkBlocks)-1) + (hi-lo)/2) / (hi - lo)
		case hi > 0:
			i = len(sparkBlocks)/2 - 1 // flat, and not zero
		}
		b.WriteRune(sparkBlocks[i])
	}
	return b.String()
}

// Draw redraws the screen for a status.
func (v *Live) Draw(st *Status) error {
	cols, rows := v.size()
	if cols <= 0 {
		cols = 120
	}
	if rows <= 0 {
		rows = 40
	}
	v.remember(st.Alerts)
	// The alerts are wrapped, never cut: their ends (the count, the
	// limit, the rule's threshold) are what they say.
	alerts := []string{"", v.paint(bold, "ALERTS")}
	if len(v.recent) == 0 {
		alerts = append(alerts, "none")
	}
	for _, l := range v.recent {
		code := green
		if strings.Contains(l, " FIRING ") {
			code = red
		}
		for _, w := range wrapColumns(l, cols, alertIndent) {
			alerts = append(alerts, v.paint(code, w))
		}
	}
	var lines []string
	if st.Err != nil {
		lines = append(lines, v.paint(bold, fmt.Sprintf("sockleak watch · %s · sample %d", st.Time.Format("15:04:05"), st.Seq)))
		for _, w := range wrapColumns("sample failed: "+wording.Escape(st.Err.Error()), cols, "  ") {
			lines = append(lines, v.paint(red, w))
		}
	} else {
		lines = v.processes(st, cols, rows-len(alerts))
	}
	lines = append(lines, alerts...)
	if len(lines) > rows {
		// Too little room: the process table gives way to the alerts,
		// and where even they do not fit, the oldest go.
		lines = append(lines[:max(rows-len(alerts), 0)], alerts[max(len(alerts)-rows, 0):]...)
		lines = lines[:min(rows, len(lines))]
	}

	var b strings.Builder
	b.WriteString(home)
	for i, l := range lines {
		lines[i] = clip(l, cols)
		b.WriteString(lines[i])
		b.WriteString(eraseLine)
		if i < len(lines)-1 {
			b.WriteString("\n")
		}
	}
	b.WriteString(eraseBelow)
	v.frame = lines
	_, err := io.WriteString(v.w, b.String())
	return err
}

// alertIndent indents an alert's continuation lines under its text, past
// the time.
const alertIndent = "         "

// wrapColumns word-wraps s (plain text) into lines of at most cols
// columns, the lines after the first indented. A word longer than a line
// is cut where the line ends.
func wrapColumns(s string, cols int, indent string) []string {
	var out []string
	line, width := "", 0
	for _, word := range strings.Fields(s) {
		n := utf8.RuneCountInString(word)
		switch {
		case width == 0:
		case width+1+n <= cols:
			line, width = line+" ", width+1
		default:
			out = append(out, line)
			line, width = indent, utf8.RuneCountInString(indent)
		}
		for width+n > cols && width < cols {
			// A word that does not fit on a line of its own: cut it.
			r := []rune(word)
			k := cols - width
			out = append(out, line+string(r[:k]))
			word, n = string(r[k:]), n-k
			line, width = indent, utf8.RuneCountInString(indent)
		}
		line, width = line+word, width+n
	}
	return append(out, line)
}

// joinColumns joins parts with " · " into lines of at most cols columns,
// breaking between parts: a headline that does not fit goes on to a
// second line instead of losing its end.
func joinColumns(parts []string, cols int) []string {
	var out []string
	line := ""
	for _, p := range parts {
		switch {
		case line == "":
			line = p
		case utf8.RuneCountInString(line)+3+utf8.RuneCountInString(p) <= cols:
			line += " · " + p
		default:
			out = append(out, line)
			line = p
		}
	}
	return append(out, line)
}

// remember keeps the latest maxRecentAlerts alert lines.
func (v *Live) remember(alerts []Alert) {
	for i := range alerts {
		a := &alerts[i]
		line := fmt.Sprintf("%s %s %s: %s", a.Time.Format("15:04:05"), a.verb(), a.Rule, a.Message())
		v.recent = append(v.recent, line)
	}
	if n := len(v.recent) - maxRecentAlerts; n > 0 {
		v.recent = append(v.recent[:0], v.recent[n:]...)
	}
}

// processes returns the lines above the alerts: the headline, the counts
// by state, and the process table, as much of it as fits in cols and the
// rows the alerts leave.
func (v *Live) processes(st *Status, cols, rows int) []string {
	total, parts := stateCounts(st.States)
	head := []string{"sockleak watch", st.Time.Format("15:04:05"), fmt.Sprintf("sample %d (%s)", st.Seq, wording.Round(st.Took)),
		fmt.Sprintf("%s, %s", wording.Plural(total, "TCP socket"), wording.Count(len(st.Processes), "process", "processes"))}
	if st.Denied > 0 {
		head = append(head, fmt.Sprintf("%d not inspectable", st.Denied))
	}
	if st.Errors > 0 {
		head = append(head, wording.Plural(st.Errors, "failed sample"))
	}
	var lines []string
	for _, l := range joinColumns(head, cols) {
		lines = append(lines, v.paint(bold, l))
	}
	lines = append(lines, joinColumns(parts, cols)...)
	for i := range st.Workloads {
		if w := &st.Workloads[i]; slices.Contains(w.Firing, RuleCrashLoop) {
			l := "CRASH LOOP: " + wording.Escape(w.Name) + " " + crashLoopPhrase(w.LimitExits())
			for _, w := range wrapColumns(l, cols, "  ") {
				lines = append(lines, v.paint(red, w))
			}
		}
	}
	lines = append(lines, "")
	// As many columns as fit, most important first; the sparkline
	// takes what they leave, up to 30.
	columns := liveColumnsFor(st.Processes)
	ncols, width := 0, 0
	for _, c := range columns {
		if width+c.width > cols {
			break
		}
		ncols, width = ncols+1, width+c.width
	}
	spark := min(30, cols-width-2)
	if spark < len("CW TREND") {
		spark = 0
	}
	var header strings.Builder
	for _, c := range columns[:ncols] {
		header.WriteString(c.cell(c.title))
	}
	if spark > 0 {
		header.WriteString("  CW TREND")
	}
	lines = append(lines, v.paint(bold, strings.TrimRight(header.String(), " ")))
	// Room for the rows: what the alerts leave (rows), less the lines
	// above and one for "… more".
	room := rows - len(lines) - 1
	for i := range st.Processes {
		if i >= max(room, 1) {
			lines = append(lines, "… "+wording.Count(len(st.Processes)-i, "more process", "more processes"))
			break
		}
		lines = append(lines, v.row(&st.Processes[i], columns[:ncols], spark))
	}
	return lines
}

// liveColumn is a column of the live view: its title, its width with the
// space before it, and its value for a process.
type liveColumn struct {
	title string
	width int
	left  bool // left-aligned
	value func(p *ProcStatus) string
}

func (c liveColumn) cell(s string) string {
	w := c.width - 1
	if c.left {
		return fmt.Sprintf(" %-*s", w, s)
	}
	return fmt.Sprintf(" %*s", w, s)
}

// liveColumns are the live view's columns, most important first: on a
// narrow terminal the last ones go. At 80 columns the view shows who
// leaks, how much, against what limit, how fast and how soon.
var liveColumns = []liveColumn{
	{"PID", 8, false, func(p *ProcStatus) string { return fmt.Sprint(p.PID) }},
	{"PROCESS", 13, true, func(p *ProcStatus) string { return truncate(label(p.Name, p.Command), 12) }},
	{"CLOSE_WAIT", 11, false, func(p *ProcStatus) string { return dash(p.States[inspect.CloseWait]) }},
	{"FDS", 17, true, func(p *ProcStatus) string {
		if p.FDLimit > 0 {
			return fmt.Sprintf("%d/%d %.0f%%", p.FDs, p.FDLimit, p.FDUsage())
		}
		return fmt.Sprint(p.FDs)
	}},
	{"CW RATE", 9, false, func(p *ProcStatus) string {
		if r, ok := p.Rates[inspect.CloseWait]; ok {
			return formatRate(r)
		}
		return "-"
	}},
	{"LIMIT IN", 9, false, func(p *ProcStatus) string {
		switch {
		case atLimit(p.FDs, p.FDLimit):
			return "AT LIMIT"
		case p.ETA >= 0:
			return formatETA(p.ETA)
		}
		return "-"
	}},
	{"OLDEST", 8, false, func(p *ProcStatus) string {
		if p.CloseWaitOldest() > 0 {
			return formatAge(p.CloseWaitOldest())
		}
		return "-"
	}},
	{"FIN_WAIT2", 10, false, func(p *ProcStatus) string { return dash(p.States[inspect.FinWait2]) }},
	{"OTHER", 8, false, func(p *ProcStatus) string {
		return dash(p.Sockets - p.States[inspect.CloseWait] - p.States[inspect.FinWait2])
	}},
}

// workloadColumn replaces PROCESS when a process shown runs in a unit,
// container or pod: that is its name across restarts, and the PID column
// names the process.
var workloadColumn = liveColumn{"WORKLOAD", 21, true, func(p *ProcStatus) string {
	if p.Workload.Named() {
		return truncate(wording.Escape(p.WorkloadName), 20)
	}
	return truncate(label(p.Name, p.Command), 20)
}}

// liveColumnsFor returns the columns for these processes.
func liveColumnsFor(procs []ProcStatus) []liveColumn {
	for i := range procs {
		if procs[i].Workload.Named() {
			cols := slices.Clone(liveColumns)
			cols[1] = workloadColumn
			return cols
		}
	}
	return liveColumns
}

func dash(n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

func (v *Live) row(p *ProcStatus, columns []liveColumn, spark int) string {
	var b strings.Builder
	for _, c := range columns {
		b.WriteString(c.cell(c.value(p)))
	}
	line := strings.TrimRight(b.String(), " ")
	if spark > 0 {
		line = b.String() + "  " + Sparkline(p.History, spark)
	}
	if len(p.Firing) > 0 {
		return v.paint(red, line)
	}
	return line
}

// clip cuts a line to cols columns, escape sequences aside (they sit at
// its ends: cutting the visible text keeps them whole).
func clip(s string, cols int) string {
	prefix, suffix := "", ""
	if strings.HasPrefix(s, "\x1b[") {
		i := strings.IndexByte(s, 'm')
		prefix, s = s[:i+1], s[i+1:]
	}
	if strings.HasSuffix(s, reset) {
		s, suffix = strings.TrimSuffix(s, reset), reset
	}
	r := []rune(s)
	if len(r) > cols {
		r = r[:cols]
	}
	return prefix + string(r) + suffix
}
