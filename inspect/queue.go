package inspect

import "net/netip"

// A connection the kernel completed but no process has accepted yet sits
// in its listener's accept queue: a full socket without a struct socket,
// so its inode is 0 and no descriptor names it. It is ESTABLISHED, or
// CLOSE_WAIT once its client gave up and closed; a socket its owner
// closed is orphaned in FIN_WAIT1, FIN_WAIT2, LAST_ACK, CLOSING or
// TIME_WAIT, never in these two. It belongs to whoever owns the listener:
// same network namespace, same local port, on the listener's own address
// or its wildcard. A stopped or hung server's queue is where its
// connections pile up, and they are its, not the kernel's.

// queueCandidate reports whether s may sit in an accept queue: no inode,
// and a state only an accept-queue connection has without one.
func queueCandidate(s *Socket) bool {
	return s.Inode == 0 && (s.State == Established || s.State == CloseWait)
}

// queueKey names a listening address: a queued connection has the
// listener's family (a dual-stack IPv6 listener's IPv4 clients are IPv6
// sockets, with IPv4-mapped addresses), so the table is part of it.
type queueKey struct {
	netNS uint64
	proto Proto
	addr  netip.AddrPort
}

// listenersFor returns the listeners of hidden (the ones a filter hid)
// whose owners queued connections on ports need: none when no socket
// kept can be queued, the common case.
func listenersFor(ports map[uint16]bool, hidden []Socket) []Socket {
	var need []Socket
	for _, l := range hidden {
		if l.Inode != 0 && ports[l.Local.Port()] {
			need = append(need, l)
		}
	}
	return need
}

// attributeQueued marks the connections of socks that sit in the accept
// queue of a listener in socks (Queued), and gives them the listener's
// owners. The kernel hands a connection to the most specific listener:
// the one on its local address, else the wildcard of its family. With
// SO_REUSEPORT several sockets listen on one address and the tables do
// not say which holds the connection: it goes to the one whose queue is
// longest, the one not accepting (the first listed on a tie).
func attributeQueued(socks []Socket) {
	var listeners map[queueKey]int
	for i := range socks {
		if socks[i].State != Listen {
			continue
		}
		if listeners == nil {
			listeners = make(map[queueKey]int)
		}
		k := queueKey{socks[i].NetNS, socks[i].Proto, socks[i].Local}
		if j, dup := listeners[k]; !dup || socks[i].RxQueue > socks[j].RxQueue {
			listeners[k] = i
		}
	}
	if listeners == nil {
		return
	}
	for i := range socks {
		s := &socks[i]
		if !queueCandidate(s) {
			continue
		}
		for _, a := range [...]netip.Addr{s.Local.Addr(), netip.IPv4Unspecified(), netip.IPv6Unspecified()} {
			if j, ok := listeners[queueKey{s.NetNS, s.Proto, netip.AddrPortFrom(a, s.Local.Port())}]; ok {
				s.Queued = true
				s.PIDs = socks[j].PIDs[:len(socks[j].PIDs):len(socks[j].PIDs)]
				break
			}
		}
	}
}
