package run

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// WriteText renders the result for a CI log: the leaks grouped by process,
// state and peer, the command line of each leaking process, and the peak
// count per state.
func WriteText(w io.Writer, r *Result) error {
	var b strings.Builder
	states := stateNames(r.LeakStates)
	if len(r.Leaks) == 0 {
		fmt.Fprintf(&b, "sockleak run: no socket sat in %s for %s or longer (%s)\n", states, r.Grace, r.outcome())
	} else {
		noun := "sockets"
		if len(r.Leaks) == 1 {
			noun = "socket"
		}
		fmt.Fprintf(&b, "sockleak run: %d %s sat in %s for %s or longer (%s)\n\n", len(r.Leaks), noun, states, r.Grace, r.outcome())
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprint(tw, "PID\tPROCESS\tSTATE\tPEER\tSOCKETS\tHELD\n")
		for _, g := range groupLeaks(r.Leaks) {
			held := "longest at least " + wording.Round(g.held).String()
			switch g.open {
			case g.count:
				held += ", open at exit"
			case 0:
				held += ", closed"
			default:
				held += fmt.Sprintf(", %d open at exit", g.open)
			}
			pid, name := fmt.Sprint(g.pid), wording.Escape(g.name)
			if g.pid == 0 {
				pid, name = "?", "(exited)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", pid, name, g.state, g.peer, g.count, held)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		b.WriteString("\nPROCESSES\n")
		done := map[int]bool{}
		for _, l := range r.Leaks {
			if l.PID == 0 || done[l.PID] {
				continue
			}
			done[l.PID] = true
			fmt.Fprintf(&b, "%d  %s  %s\n", l.PID, wording.Escape(l.Name), wording.Escape(l.Cmdline))
		}
	}
	var peaks []string
	for _, st := range inspect.States {
		if n := r.Peak[st]; n > 0 || slices.Contains(r.LeakStates, st) {
			peaks = append(peaks, fmt.Sprintf("%s %d", st, n))
		}
	}
	fmt.Fprintf(&b, "peak: %s\n", strings.Join(peaks, " · "))
	for _, warn := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", wording.Escape(warn))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
