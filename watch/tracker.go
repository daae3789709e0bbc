package watch

import (
	"cmp"
	"slices"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/report"
)

// Tracker follows the sockets of a set of processes from sample to sample
// and remembers when each entered a leak state. sockleak run (package
// run) keeps everything it saw for its report; the Monitor follows the
// ages of the HandshakeStates with one and prunes it each sample
// (forget). It lives in watch, which run imports, so that both use it.
type Tracker struct {
	leakStates []inspect.TCPState
	seen       map[trackKey]*Leak
	procs      map[int]inspect.Process
	peak       map[inspect.TCPState]int
	samples    int
	maxProcs   int
	last       time.Time
}

type trackKey struct {
	Key
	State inspect.TCPState
}

// NewTracker tracks the sockets in the given leak states.
func NewTracker(leakStates []inspect.TCPState) *Tracker {
	return &Tracker{
		leakStates: slices.Clone(leakStates),
		seen:       map[trackKey]*Leak{},
		procs:      map[int]inspect.Process{},
		peak:       map[inspect.TCPState]int{},
	}
}

// Leak is a socket seen in a leak state: since when, until when.
type Leak struct {
	inspect.Socket
	// Peer is the remote IP of an inbound connection (its local port is
	// listened on), so one client's many ports read as one peer; the
	// remote IP:port of an outbound one, as in sockleak inspect.
	Peer string
	// PID, Name and Cmdline are the first holder's, as it was last seen.
	PID           int
	Name, Cmdline string
	// Since is when it was in the state already: the earliest of the
	// first sample that saw it there and the kernel's bound (Socket.AgeMs,
	// when known); LastSeen is the last sample. Without the bound the
	// socket entered the state up to one interval before Since: Held is
	// a lower bound either way.
	Since, LastSeen time.Time
	// Open is true if it was still in the state at the last sample.
	Open bool
}

// Held is how long the socket was seen in its state.
func (l Leak) Held() time.Duration { return l.LastSeen.Sub(l.Since) }

// Observe records one sample, taken at snap.Time.
func (t *Tracker) Observe(snap *inspect.Snapshot) {
	now := snap.Time
	t.samples++
	t.last = now
	t.maxProcs = max(t.maxProcs, len(snap.Processes))
	for _, p := range snap.Processes {
		// A process caught exiting (a zombie) has no command line left:
		// keep the one it had.
		if old, ok := t.procs[p.PID]; ok && p.Cmdline == "" {
			p.Cmdline = old.Cmdline
		}
		t.procs[p.PID] = p
	}
	listening := snap.ListenIndex()
	counts := map[inspect.TCPState]int{}
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		counts[s.State]++
		if len(s.PIDs) == 0 || !slices.Contains(t.leakStates, s.State) {
			continue // an orphan is the kernel's: no process leaks it
		}
		k := trackKey{KeyOf(s), s.State}
		l := t.seen[k]
		if l == nil {
			// A socket's addresses do not change, nor does its peer.
			l = &Leak{Since: now, Peer: report.PeerName(s, listening)}
			t.seen[k] = l
		}
		// The kernel's bound says how long it has been in the state
		// already: a socket older than the first sample that sees it
		// (older than the watch) gets its age at once.
		if since := entered(s, now); since.Before(l.Since) {
			l.Since = since
		}
		l.Socket = *s
		l.LastSeen = now
	}
	for st, n := range counts {
		t.peak[st] = max(t.peak[st], n)
	}
}

// entered is the latest time the socket can have entered its state, by
// the kernel's bound (Socket.AgeMs), or now when the bound is unknown.
func entered(s *inspect.Socket, now time.Time) time.Time {
	if !s.HasAge {
		return now
	}
	return now.Add(-time.Duration(s.AgeMs) * time.Millisecond)
}

// Samples is the number of samples observed.
func (t *Tracker) Samples() int { return t.samples }

// MaxProcesses is the most processes one sample held.
func (t *Tracker) MaxProcesses() int { return t.maxProcs }

// Peak returns the most sockets the processes held at once in each state.
func (t *Tracker) Peak() map[inspect.TCPState]int {
	out := make(map[inspect.TCPState]int, len(t.peak))
	for st, n := range t.peak {
		out[st] = n
	}
	return out
}

// Leaks returns the sockets seen in a leak state for grace or longer,
// by holder, state, peer, then the longest held first.
func (t *Tracker) Leaks(grace time.Duration) []Leak {
	var out []Leak
	for _, l := range t.seen {
		if l.Held() < grace {
			continue
		}
		c := *l
		c.Open = c.LastSeen.Equal(t.last)
		if len(c.PIDs) > 0 {
			c.PID = c.PIDs[0]
			p := t.procs[c.PID]
			c.Name, c.Cmdline = p.Name, p.Cmdline
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Leak) int {
		return cmp.Or(cmp.Compare(a.PID, b.PID), cmp.Compare(a.State, b.State), a.Remote.Compare(b.Remote),
			cmp.Compare(b.Held(), a.Held()), cmp.Compare(a.Inode, b.Inode), a.Local.Compare(b.Local))
	})
	return out
}

// forget drops the sockets and processes the latest sample did not hold,
// so that a long watch keeps no state for what is gone. (Tracker keeps
// everything for sockleak run's report; watch prunes it each sample.)
func (t *Tracker) forget() {
	for k, l := range t.seen {
		if !l.LastSeen.Equal(t.last) {
			delete(t.seen, k)
		}
	}
	clear(t.procs)
}
