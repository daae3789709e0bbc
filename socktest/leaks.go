package socktest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// leak is a socket the check blames, with why and where it was opened.
type leak struct {
	inspect.OwnSocket
	why    string
	opened opening // zero when the test opened it through no hook
	// accepted is true when opened is the listener's that accepted it.
	accepted bool
}

// look reads this process's sockets once and returns the leaks among
// them.
func look(c *config) ([]leak, error) {
	since := registry.next()
	// Only a socket that may be a leak needs its addresses, and a
	// listener, which may have accepted one; the others are the
	// baseline's.
	socks, err := readSockets(func(s *inspect.Socket) bool {
		return s.State == inspect.Listen || c.blame(s) != "" && !slices.Contains(c.states, s.State)
	})
	if err != nil {
		return nil, err
	}
	registry.prune(socks, since)
	return judge(socks, c, registry.lookup), nil
}

// judge returns the leaks among socks, by descriptor, each socket once
// (a dup'ed descriptor is the same socket), with where it was opened as
// openedAt knows it.
func judge(socks []inspect.OwnSocket, c *config, openedAt func(inode uint64) (opening, bool)) []leak {
	var out []leak
	seen := make(map[uint64]bool, len(socks))
	for _, s := range socks {
		if seen[s.Inode] || c.ignored(&s.Socket) {
			continue
		}
		seen[s.Inode] = true
		if why := c.blame(&s.Socket); why != "" {
			l := leak{OwnSocket: s, why: why}
			if o, ok := openedAt(s.Inode); ok {
				l.opened = o
			}
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b leak) int { return cmp.Compare(a.FD, b.FD) })
	attributeAccepted(out, socks, openedAt)
	return out
}

// attributeAccepted gives a leaked connection that no hook saw opened the
// opening of the listener it was accepted on (same local port, on its
// address or the wildcard), if a hook saw that: a server's connections
// are accepted by code the test does not call.
func attributeAccepted(leaks []leak, socks []inspect.OwnSocket, openedAt func(uint64) (opening, bool)) {
	for i := range leaks {
		l := &leaks[i]
		if len(l.opened.pcs) > 0 || l.State == inspect.Listen {
			continue
		}
		for _, s := range socks {
			if s.State != inspect.Listen || s.Local.Port() != l.Local.Port() ||
				!(s.Local.Addr() == l.Local.Addr() || s.Local.Addr().IsUnspecified()) {
				continue
			}
			if o, ok := openedAt(s.Inode); ok {
				l.opened, l.accepted = o, true
				break
			}
		}
	}
}

// ignored reports whether an option allows s.
func (c *config) ignored(s *inspect.Socket) bool {
	return slices.Contains(c.states, s.State) ||
		(c.listeners && s.State == inspect.Listen) ||
		slices.Contains(c.ports, s.Local.Port()) ||
		(s.Remote.IsValid() && slices.Contains(c.ports, s.Remote.Port())) ||
		(s.Remote.IsValid() && slices.ContainsFunc(c.peers, func(p inspect.Peer) bool { return p.Match(s.Remote) }))
}

// blame says why s is a leak, or "" when it is not: CLOSE_WAIT always
// (but for a socket already in CLOSE_WAIT at the baseline: not this
// test's), and any socket not in the baseline.
func (c *config) blame(s *inspect.Socket) string {
	before, known := c.baseline[s.Inode]
	switch {
	case s.State == inspect.CloseWait && !(known && before == inspect.CloseWait):
		return "the peer closed it; only a close() by this process ends CLOSE_WAIT"
	case known:
		return ""
	case c.baseline == nil:
		return "still open at the end"
	}
	return "opened since the baseline and still open"
}

// leakError lists the leaks the last look found.
type leakError struct {
	leaks  []leak
	waited time.Duration
}

func (e *leakError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "socktest: %s", wording.Count(len(e.leaks), "leaked socket", "leaked sockets"))
	if e.waited > 0 {
		fmt.Fprintf(&b, ", still there after %v", wording.Round(e.waited))
	}
	b.WriteString(":")
	for i := range e.leaks {
		b.WriteString("\n")
		e.leaks[i].describe(&b)
	}
	return b.String()
}

// describe writes the leak's line, and below it where it was opened.
func (l *leak) describe(b *strings.Builder) {
	fmt.Fprintf(b, "  %v %v", l.State, l.Local)
	if l.Remote.IsValid() {
		fmt.Fprintf(b, " → %v", l.Remote)
	}
	switch {
	case l.HasAge:
		fmt.Fprintf(b, ", in %v for at least %v", l.State, wording.Round(time.Duration(l.AgeMs)*time.Millisecond))
	case l.HasIdle && l.State != inspect.Listen && l.Remote.IsValid():
		fmt.Fprintf(b, ", idle %v", wording.Round(time.Duration(l.IdleMs)*time.Millisecond))
	}
	fmt.Fprintf(b, ", fd %d: %s", l.FD, l.why)
	frames := l.opened.frames()
	if len(frames) == 0 {
		return
	}
	if l.accepted {
		b.WriteString("\n      accepted on the listener opened at")
	} else {
		b.WriteString("\n      opened at")
	}
	for i, f := range frames {
		if i > 0 {
			b.WriteString("\n               ")
		}
		fmt.Fprintf(b, " %s (%s:%d)", f.Function, f.File, f.Line)
	}
}
