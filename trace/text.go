package trace

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sockleak/sockleak/internal/symbolize"
	"github.com/sockleak/sockleak/internal/wording"
)

// maxSocketLines is how many sockets of a group the text lists.
const maxSocketLines = 10

// WriteJSON writes the report as one JSON document.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for a terminal: a summary line, then each
// group (the code that opened it, its sockets with the exact time each
// entered its state, the whole stack, outermost frame last), then the
// programs' counters. Host text (names, paths, functions) is escaped.
func WriteText(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	held := 0
	for _, g := range r.Groups {
		held += g.Count
	}
	states := strings.Join(r.States, ", ")
	fmt.Fprintf(bw, "sockleak trace: recorded %s (%s to %s): %s opened, %s still held in %s\n",
		wording.Round(r.Ended.Sub(r.Started)), clock(r.Started), clock(r.Ended),
		wording.Count(int(r.Counters.Opened), "TCP socket", "TCP sockets"), wording.Plural(held, "socket"), states)
	if r.Unrecorded > 0 {
		fmt.Fprintf(bw, "(%s in %s opened before the trace started, or not recorded: no stack)\n",
			wording.Count(r.Unrecorded, "other socket", "other sockets"), states)
	}
	for _, g := range r.Groups {
		writeGroup(bw, g, r.Ended)
	}
	c := r.Counters
	fmt.Fprintf(bw, "\ncounters: %d opened, %d state changes, %d closed; dropped: %d (table of %d full), %d without a stack\n",
		c.Opened, c.Changes, c.Closed, c.DroppedFull, r.Capacity, c.DroppedStack)
	return bw.Flush()
}

func writeGroup(w io.Writer, g Group, end time.Time) {
	by := "code not named (see the stack)"
	if g.OpenedBy != nil {
		by = frameText(*g.OpenedBy)
	}
	var states []string
	for s, n := range g.States {
		states = append(states, fmt.Sprintf("%d %s", n, s))
	}
	fmt.Fprintf(w, "\n%s (%s) opened by %s\n", wording.Plural(g.Count, "socket"), strings.Join(states, ", "), by)
	var peers []string
	for _, p := range g.Peers {
		peers = append(peers, fmt.Sprintf("%s ×%d", p.Peer, p.Count))
	}
	fmt.Fprintf(w, "  peers: %s\n", strings.Join(peers, ", "))
	for i, h := range g.Sockets {
		if i == maxSocketLines {
			fmt.Fprintf(w, "  … and %d more\n", len(g.Sockets)-i)
			break
		}
		fmt.Fprintf(w, "  %s: %s → %s %s\n", owners(h.Owners), h.Local, h.Peer, since(h, end))
	}
	fmt.Fprintln(w, "  stack (innermost first):")
	for _, f := range g.Stack.Frames {
		fmt.Fprintf(w, "    %s\n", frameText(f))
	}
	if g.Stack.Note != "" {
		fmt.Fprintf(w, "    (%s)\n", wording.Escape(g.Stack.Note))
	}
}

// since is "CLOSE_WAIT since 14:02:11.304, 3m12s", or a bound when the
// trace did not see the change.
func since(h Held, end time.Time) string {
	age := wording.Round(end.Sub(h.Since))
	switch h.Bound {
	case "before":
		return fmt.Sprintf("%s since before %s (accepted in it), over %s", h.State, clock(h.Since), age)
	case "after":
		return fmt.Sprintf("%s since after %s (entered after the trace ended)", h.State, clock(h.Since))
	}
	return fmt.Sprintf("%s since %s, %s", h.State, clock(h.Since), age)
}

func owners(os []Owner) string {
	if len(os) == 0 {
		return "no owner"
	}
	var parts []string
	for _, o := range os {
		s := fmt.Sprintf("pid %d %s", o.PID, wording.Escape(o.Name))
		if o.Workload != "" {
			s += " (" + wording.Escape(o.Workload) + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func frameText(f symbolize.Frame) string { return wording.Escape(f.String()) }

func clock(t time.Time) string { return t.Format("15:04:05.000") }
