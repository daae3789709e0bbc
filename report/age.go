package report

import (
	"fmt"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// leakState reports whether a build-up of sockets in st is a leak the
// findings and Check judge by age: CLOSE_WAIT (this side's) and FIN_WAIT2
// (the peer's).
func leakState(st inspect.TCPState) bool {
	return st == inspect.CloseWait || st == inspect.FinWait2
}

// tooYoung reports whether s is in a leak state for less than minAge by
// the kernel's lower bound of its age: a socket passing through on its way
// to close(), not a leak. A socket whose age is unknown is never too young.
func tooYoung(s *inspect.Socket, minAge time.Duration) bool {
	return minAge > 0 && s.HasAge && leakState(s.State) && time.Duration(s.AgeMs)*time.Millisecond < minAge
}

// youngNotes says, once per state, how many sockets the findings and the
// check left out for being younger than MinAge.
func (r *Report) youngNotes() []string {
	var out []string
	for _, st := range []inspect.TCPState{inspect.FinWait2, inspect.CloseWait} {
		n := 0
		for _, states := range r.Young {
			n += states[st]
		}
		if n > 0 {
			out = append(out, fmt.Sprintf("%s in %s younger than %s not counted as leaked (--min-age)",
				wording.Plural(n, "socket"), st, wording.Round(r.MinAge)))
		}
	}
	return out
}

// ageCell renders the lower bound of the time a socket has been in its
// state, like "≥12s", or "-" when it is unknown.
func ageCell(s inspect.Socket) string {
	if !s.HasAge {
		return "-"
	}
	return "≥" + shortDuration(time.Duration(s.AgeMs)*time.Millisecond)
}

// shortDuration renders a duration to a tenth of a second under a minute,
// to the second above: "850ms", "3.2s", "3m12s".
func shortDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.String()
	case d < time.Minute:
		return d.Truncate(100 * time.Millisecond).String()
	}
	return d.Truncate(time.Second).String()
}
