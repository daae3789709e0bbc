package inspect

import (
	"fmt"

	"github.com/sockleak/sockleak/internal/wording"
)

// A socket the tables listed with an inode but that no walked process
// holds is, on a busy host, almost always one whose owner closed it
// between the table read and the walk of its descriptors: a short
// connection's CLOSE_WAIT on its way to close(). Blamed on an owner that
// could not be inspected, it would be a false alarm. So after the walk the
// scan asks the table source again about those sockets alone, and drops
// the ones that are gone or whose inode changed (closed, the 4-tuple
// reused). The rest keep their warning: their owner could not be
// inspected, or it exited or started during the scan.

// recheckUnowned drops from socks the sockets left without an owner that
// the table source no longer holds. With --pid or --name, sockets without
// a selected owner are dropped anyway, so there is nothing to recheck.
// When the join found an owner for every socket it costs nothing.
func (sc *scanner) recheckUnowned(socks []Socket) []Socket {
	if sc.snap.Selected || sc.unowned == 0 {
		return socks
	}
	var unowned []Socket
	for i := range socks {
		if unownedSocket(&socks[i]) {
			unowned = append(unowned, socks[i])
		}
	}
	if len(unowned) == 0 {
		return socks
	}
	present, err := sc.tables.recheck(sc.req, unowned)
	if err != nil {
		sc.snap.Notes = append(sc.snap.Notes, fmt.Sprintf("%s without an owner could not be read again: %v",
			wording.Count(len(unowned), "socket", "sockets"), err))
	}
	kept := socks[:0]
	for _, s := range socks {
		if unownedSocket(&s) && !present[s.Inode] {
			continue // closed since the table read
		}
		kept = append(kept, s)
	}
	return kept
}

// unownedSocket reports whether s has an inode, so a descriptor somewhere,
// but no process the scan walked holds it.
func unownedSocket(s *Socket) bool { return s.Inode != 0 && len(s.PIDs) == 0 }

// unownedWarningFor is the warning for sockets whose owner could not be
// identified, after the recheck: when processes were denied, the owner
// may be one of them; when none were, it exited (having passed the socket
// on) or started during the scan, after the walk of its descriptors.
func unownedWarningFor(unowned, denied int) string {
	why := "it exited or started during the scan"
	if denied > 0 {
		why = "it exited, or could not be inspected"
	}
	return fmt.Sprintf("%s an owner that could not be identified (%s); they are shown with owner \"?\"",
		wording.Count(unowned, "socket has", "sockets have"), why)
}

// markPresent marks in present the sockets of these found in again with
// the same inode: a socket closed since has none, or another's.
func markPresent(these, again []Socket, present map[uint64]bool) {
	want := make(map[uint64]bool, len(these))
	for _, s := range these {
		want[s.Inode] = true
	}
	for _, s := range again {
		if want[s.Inode] {
			present[s.Inode] = true
		}
	}
}
