package watch

import (
	"context"
	"net/netip"
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// Key identifies a socket across samples: its network namespace and
// inode. Sockets no process holds (TIME_WAIT, orphans) have inode 0 and
// are told apart by their addresses, unique within a namespace at any one
// time.
type Key struct {
	NetNS, Inode  uint64
	Local, Remote netip.AddrPort
}

// KeyOf returns the socket's key.
func KeyOf(s *inspect.Socket) Key {
	if s.Inode != 0 {
		return Key{NetNS: s.NetNS, Inode: s.Inode}
	}
	return Key{NetNS: s.NetNS, Local: s.Local, Remote: s.Remote}
}

// Persisting returns last with only the sockets that were already in the
// same state in first: a socket that entered its state after the first
// sample, or left it and came back under a new inode, is dropped. The
// processes, fd counts and system counters are last's.
func Persisting(first, last *inspect.Snapshot) *inspect.Snapshot {
	before := make(map[Key]inspect.TCPState, len(first.Sockets))
	for i := range first.Sockets {
		before[KeyOf(&first.Sockets[i])] = first.Sockets[i].State
	}
	out := *last
	out.Sockets = make([]inspect.Socket, 0, len(last.Sockets))
	for i := range last.Sockets {
		s := &last.Sockets[i]
		if st, ok := before[KeyOf(s)]; ok && st == s.State {
			out.Sockets = append(out.Sockets, *s)
		}
	}
	return &out
}

// ScanFunc takes one snapshot.
type ScanFunc func(ctx context.Context) (*inspect.Snapshot, error)

// Stable samples once and returns that snapshot when it can tell each
// socket's age from it: with minAge <= 0, or when every socket that
// counts (counts(s); nil: every socket) carries the kernel's bound of
// its age (Socket.HasAge: netlink's CLOSE_WAIT and FIN_WAIT2), which the
// caller's analysis holds against minAge (report.Thresholds.MinAge).
// Otherwise (the proc backend, other states) it waits minAge on after
// (time.After in production), samples again and returns the second
// snapshot with only the sockets that were in the same state in both
// (see Persisting).
func Stable(ctx context.Context, sample ScanFunc, minAge time.Duration, after func(time.Duration) <-chan time.Time,
	counts func(*inspect.Socket) bool) (*inspect.Snapshot, error) {
	first, err := sample(ctx)
	if err != nil || minAge <= 0 || aged(first, counts) {
		return first, err
	}
	select {
	case <-after(minAge):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	last, err := sample(ctx)
	if err != nil {
		return nil, err
	}
	return Persisting(first, last), nil
}

// aged reports whether every socket of snap that counts has the kernel's
// bound of its age: then one sample tells how long each has been in its
// state. A snapshot with no such socket is aged: a second sample could
// only drop sockets from it.
func aged(snap *inspect.Snapshot, counts func(*inspect.Socket) bool) bool {
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		if !s.HasAge && (counts == nil || counts(s)) {
			return false
		}
	}
	return true
}
