package watch

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// Result is what sockleak run saw while its command ran.
type Result struct {
	Command []string
	// ExitCode is the command's exit status; Signal names the signal that
	// killed it ("" if it exited).
	ExitCode int
	Signal   string
	Duration time.Duration
	// Samples and MaxProcesses: how many samples were taken, and the most
	// processes of the tree one sample held.
	Samples, MaxProcesses int
	Interval, Grace       time.Duration
	LeakStates            []inspect.TCPState
	Leaks                 []Leak
	Peak                  map[inspect.TCPState]int
	Warnings              []string
}

// leakGroup counts a holder's leaks in one state to one peer.
type leakGroup struct {
	pid   int
	name  string
	state inspect.TCPState
	peer  string
	count int
	held  time.Duration // the longest
	open  int           // still in the state at the last sample
}

func groupLeaks(leaks []Leak) []leakGroup {
	type key struct {
		pid   int
		state inspect.TCPState
		peer  string
	}
	idx := map[key]int{}
	var out []leakGroup
	for _, l := range leaks {
		k := key{l.PID, l.State, l.Peer}
		j, ok := idx[k]
		if !ok {
			j = len(out)
			idx[k] = j
			out = append(out, leakGroup{pid: l.PID, name: l.Name, state: l.State, peer: l.Peer})
		}
		g := &out[j]
		g.count++
		g.held = max(g.held, l.Held())
		if l.Open {
			g.open++
		}
	}
	slices.SortStableFunc(out, func(a, b leakGroup) int { return cmp.Compare(b.count, a.count) })
	return out
}

func stateNames(states []inspect.TCPState) string {
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = s.String()
	}
	return strings.Join(names, " or ")
}

// round keeps durations readable: 1.93s, 250ms.
func round(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

func (r *Result) outcome() string {
	s := fmt.Sprintf("exit status %d", r.ExitCode)
	if r.Signal != "" {
		s = "killed by " + r.Signal
	}
	return fmt.Sprintf("%s, %s, %d samples of up to %s", s, round(r.Duration), r.Samples, wording.Count(r.MaxProcesses, "process", "processes"))
}

// Text renders the result for a CI log: the leaks grouped by process,
// state and peer, the command line of each leaking process, and the peak
// count per state.
func Text(w io.Writer, r *Result) error {
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
			held := "longest at least " + round(g.held).String()
			switch g.open {
			case g.count:
				held += ", open at exit"
			case 0:
				held += ", closed"
			default:
				held += fmt.Sprintf(", %d open at exit", g.open)
			}
			pid, name := fmt.Sprint(g.pid), g.name
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
			fmt.Fprintf(&b, "%d  %s  %s\n", l.PID, l.Name, l.Cmdline)
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
		fmt.Fprintf(&b, "warning: %s\n", warn)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Document is the JSON form of a Result. Its fields are an API: within a
// schema version they are only ever added.
type Document struct {
	SchemaVersion   int            `json:"schema_version"`
	Command         []string       `json:"command"`
	ExitCode        int            `json:"exit_code"`
	Signal          string         `json:"signal"` // "" unless a signal killed the command
	DurationSeconds float64        `json:"duration_seconds"`
	Samples         int            `json:"samples"`
	MaxProcesses    int            `json:"max_processes"`
	IntervalSeconds float64        `json:"interval_seconds"`
	GraceSeconds    float64        `json:"grace_seconds"`
	LeakStates      []string       `json:"leak_states"`
	Leaks           []LeakDoc      `json:"leaks"`
	Peak            map[string]int `json:"peak"` // the most sockets held at once, by state
	Warnings        []string       `json:"warnings"`
}

// LeakDoc is one socket that sat in a leak state for the grace or longer.
type LeakDoc struct {
	PID         int     `json:"pid"` // 0 when its holder could not be named
	Name        string  `json:"name"`
	Cmdline     string  `json:"cmdline"`
	State       string  `json:"state"`
	Local       string  `json:"local"`
	Remote      string  `json:"remote"`
	Peer        string  `json:"peer"`
	Inode       uint64  `json:"inode"`
	NetNS       uint64  `json:"netns"`
	Since       string  `json:"since"`     // RFC 3339, first sample that saw it in the state
	LastSeen    string  `json:"last_seen"` // RFC 3339, last sample that did
	HeldSeconds float64 `json:"held_seconds"`
	Open        bool    `json:"open"` // still in the state at the last sample
}

// DocumentSchemaVersion is the version of Document.
const DocumentSchemaVersion = 1

// JSON writes the result as one indented JSON document.
func JSON(w io.Writer, r *Result) error {
	d := Document{
		SchemaVersion: DocumentSchemaVersion, Command: r.Command, ExitCode: r.ExitCode, Signal: r.Signal,
		DurationSeconds: r.Duration.Seconds(), Samples: r.Samples, MaxProcesses: r.MaxProcesses,
		IntervalSeconds: r.Interval.Seconds(), GraceSeconds: r.Grace.Seconds(),
		LeakStates: []string{}, Leaks: make([]LeakDoc, 0, len(r.Leaks)), Peak: map[string]int{},
		Warnings: append([]string{}, r.Warnings...),
	}
	if d.Command == nil {
		d.Command = []string{}
	}
	for _, st := range r.LeakStates {
		d.LeakStates = append(d.LeakStates, st.String())
	}
	for st, n := range r.Peak {
		d.Peak[st.String()] = n
	}
	for _, l := range r.Leaks {
		d.Leaks = append(d.Leaks, LeakDoc{
			PID: l.PID, Name: l.Name, Cmdline: l.Cmdline, State: l.State.String(),
			Local: l.Local.String(), Remote: l.Remote.String(), Peer: l.Peer, Inode: l.Inode, NetNS: l.NetNS,
			Since: l.Since.Format(time.RFC3339Nano), LastSeen: l.LastSeen.Format(time.RFC3339Nano),
			HeldSeconds: l.Held().Seconds(), Open: l.Open,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(d)
}
