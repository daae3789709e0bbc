package run

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
	"github.com/sockleak/sockleak/watch"
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
	Leaks                 []watch.Leak
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

func groupLeaks(leaks []watch.Leak) []leakGroup {
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

func (r *Result) outcome() string {
	s := fmt.Sprintf("exit status %d", r.ExitCode)
	if r.Signal != "" {
		s = "killed by " + r.Signal
	}
	return fmt.Sprintf("%s, %s, %d samples of up to %s", s, wording.Round(r.Duration), r.Samples, wording.Count(r.MaxProcesses, "process", "processes"))
}
