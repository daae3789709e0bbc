package report

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"

	"github.com/sockleak/sockleak/inspect"
)

// ownerNS is an owner of sockets as the findings see it: a process by its
// PID alone; the kernel and unknown owners once per network namespace,
// and the kernel's orphans once more per holder of their other ends on
// this host (linked), so that each holder has its own finding.
type ownerNS struct {
	pid    int
	ns     uint64
	linked bool
	holder int
}

// leak is what the findings know of an owner's sockets in one leak state
// that are old enough to count (Thresholds.MinAge).
type leak struct {
	n int // counted sockets
	// queued are those of n waiting in the owner's accept queues:
	// connections it never accepted, not ones it failed to close.
	queued int
	// onlyFIN are those of n, not queued, with nothing but the FIN unread
	// (rx_queue 0 or 1): the reply was read.
	onlyFIN int
	peers   map[peerKey]int // n less queued, by peer
	// linked counts, by holder (a process, KernelPID or UnknownPID), the
	// FIN_WAIT2 sockets whose other end is a CLOSE_WAIT socket on this
	// host; linkedQueued those of them whose end waits in the holder's
	// accept queue.
	linked, linkedQueued map[int]int
	// ports counts the local ports of inbound FIN_WAIT2 sockets: the
	// services this host closed the connections of.
	ports map[uint16]int
}

// topPeer returns the leak's peer with the most sockets and how many
// other peers there are.
func (l *leak) topPeer() (string, int) {
	if l == nil || len(l.peers) == 0 {
		return "", 0
	}
	keys := slices.SortedFunc(maps.Keys(l.peers), func(a, b peerKey) int {
		return cmp.Or(cmp.Compare(l.peers[b], l.peers[a]), cmp.Compare(a.String(), b.String()))
	})
	return keys[0].String(), len(keys) - 1
}

// endKey names a connection's end in its namespace, for finding the other
// end on this host.
type endKey struct {
	ns            uint64
	local, remote netip.AddrPort
}

// leaks gathers, in one pass over the sockets, what the findings need of
// every owner's counted CLOSE_WAIT and FIN_WAIT2 sockets.
func (r *Report) leaks() map[ownerNS]map[inspect.TCPState]*leak {
	snap := r.Snapshot
	listening := snap.ListenIndex()
	// The CLOSE_WAIT ends, to find the other end of a FIN_WAIT2 socket
	// here; only worth indexing when there are both.
	var closeWaits, finWait2s int
	for i := range snap.Sockets {
		switch snap.Sockets[i].State {
		case inspect.CloseWait:
			closeWaits++
		case inspect.FinWait2:
			finWait2s++
		}
	}
	var closeWait map[endKey]*inspect.Socket
	if closeWaits > 0 && finWait2s > 0 {
		closeWait = make(map[endKey]*inspect.Socket, closeWaits)
		for i := range snap.Sockets {
			if s := &snap.Sockets[i]; s.State == inspect.CloseWait {
				closeWait[endKey{s.NetNS, s.Local, s.Remote}] = s
			}
		}
	}
	out := map[ownerNS]map[inspect.TCPState]*leak{}
	add := func(o ownerNS, s *inspect.Socket, peer peerKey) {
		if out[o] == nil {
			out[o] = map[inspect.TCPState]*leak{}
		}
		l := out[o][s.State]
		if l == nil {
			l = &leak{peers: map[peerKey]int{}, linked: map[int]int{}, linkedQueued: map[int]int{}, ports: map[uint16]int{}}
			out[o][s.State] = l
		}
		l.n++
		if s.Queued {
			l.queued++
			return
		}
		l.peers[peer]++
		switch s.State {
		case inspect.CloseWait:
			if s.RxQueue <= 1 {
				l.onlyFIN++
			}
		case inspect.FinWait2:
			if other := closeWait[endKey{s.NetNS, s.Remote, s.Local}]; other != nil {
				holder := socketOwner(other)
				l.linked[holder]++
				if other.Queued {
					l.linkedQueued[holder]++
				}
			}
			if listening.Inbound(s) {
				l.ports[s.Local.Port()]++
			}
		}
	}
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		if !leakState(s.State) || tooYoung(s, r.MinAge) {
			continue
		}
		peer := peerOf(s, listening)
		if len(s.PIDs) == 0 {
			o := ownerNS{pid: socketOwner(s), ns: s.NetNS}
			if other := closeWait[endKey{s.NetNS, s.Remote, s.Local}]; other != nil && s.State == inspect.FinWait2 {
				o.linked, o.holder = true, socketOwner(other)
			}
			add(o, s, peer)
			continue
		}
		for _, pid := range s.PIDs {
			add(ownerNS{pid: pid}, s, peer)
		}
	}
	return out
}

// socketOwner is the first holder of a socket, or KernelPID or
// UnknownPID for one no process holds.
func socketOwner(s *inspect.Socket) int {
	switch {
	case len(s.PIDs) > 0:
		return s.PIDs[0]
	case s.Inode == 0:
		return KernelPID
	}
	return UnknownPID
}
