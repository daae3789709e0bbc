package watch

import (
	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
	"github.com/sockleak/sockleak/report"
)

// tellApart gives each process shown whose name another process shown
// shares, and its alerts, a short command line (report.ShortCmdline), as
// report's views do: three leaking python3 processes must not look the
// same. procs are the sample's processes, for their command lines.
func tellApart(st *Status, procs []inspect.Process) {
	byName := make(map[string]int, len(st.Processes))
	for i := range st.Processes {
		byName[st.Processes[i].Name]++
	}
	commands := map[int]string{}
	for i := range procs {
		if p := &procs[i]; byName[p.Name] > 1 {
			commands[p.PID] = report.ShortCmdline(p.Name, p.Cmdline)
		}
	}
	if len(commands) == 0 {
		return
	}
	for i := range st.Processes {
		st.Processes[i].Command = commands[st.Processes[i].PID]
	}
	for i := range st.Alerts {
		if c, ok := commands[st.Alerts[i].PID]; ok && !st.Alerts[i].Exited {
			st.Alerts[i].Command = c
		}
	}
}

// label is how a line names a process: its name, escaped (a process
// names itself: escape sequences, newlines, invalid UTF-8), and its
// command line (escaped by report.ShortCmdline) when the name is
// ambiguous.
func label(name, command string) string {
	if command == "" {
		return wording.Escape(name)
	}
	return wording.Escape(name) + " " + command
}
