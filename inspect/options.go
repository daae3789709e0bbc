package inspect

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options selects what Scan collects. The zero value means everything.
type Options struct {
	PIDs []int  // only these processes. Optional.
	Name string // only processes whose name or command line contains Name (case-insensitive). Optional.
	// Workloads selects the processes whose workload one of the patterns
	// matches (Workload.Match: a unit, a container, a pod). Optional.
	Workloads []string
	States    []TCPState // only sockets in these states. Optional.
	Ports     []uint16   // only sockets with this local or remote port. Optional.
	Peers     []Peer     // only sockets whose remote address matches. Optional.
	// DumpStates lists the only states to read from the kernel, as check
	// asks for the states its thresholds count: a netlink dump leaves the
	// others out. Unlike States it is not a filter the user asked for, so
	// the snapshot is not marked Filtered. Optional.
	DumpStates []TCPState
	// Backend is how to read socket tables. Optional: BackendAuto.
	Backend Backend
	// IdleTimes asks for the time since each socket last sent or received
	// data (tcp_info over netlink). Optional: it costs a little per
	// socket, except in a dump of CLOSE_WAIT or FIN_WAIT2, which reads
	// tcp_info anyway for their age bound (Socket.AgeMs).
	IdleTimes bool
	// Now stamps the snapshot. Optional: time.Now.
	Now func() time.Time
}

// Peer matches a remote address: an IP, an IP:port or a CIDR prefix.
type Peer struct {
	Prefix netip.Prefix
	Port   uint16 // 0 matches any port
}

// ParsePeer parses "10.0.0.5", "10.0.0.5:7000", "10.0.0.0/8", "::1" or
// "[::1]:80".
func ParsePeer(s string) (Peer, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		a := ap.Addr().Unmap()
		return Peer{Prefix: netip.PrefixFrom(a, a.BitLen()), Port: ap.Port()}, nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return Peer{Prefix: netip.PrefixFrom(a, a.BitLen())}, nil
	}
	if p, err := netip.ParsePrefix(s); err == nil {
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			// Sockets are unmapped: so must the prefix be, or it matches none.
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return Peer{Prefix: p.Masked()}, nil
	}
	return Peer{}, fmt.Errorf("invalid peer %q: want IP, IP:port or CIDR", s)
}

// Match reports whether the remote address ap matches the peer.
func (p Peer) Match(ap netip.AddrPort) bool {
	return p.Prefix.Contains(ap.Addr()) && (p.Port == 0 || p.Port == ap.Port())
}

func (p Peer) String() string {
	if p.Port != 0 {
		return netip.AddrPortFrom(p.Prefix.Addr(), p.Port).String()
	}
	if p.Prefix.IsSingleIP() {
		return p.Prefix.Addr().String()
	}
	return p.Prefix.String()
}

func (o Options) selected() bool { return len(o.PIDs) > 0 || o.Name != "" || len(o.Workloads) > 0 }

// keep reports whether a socket passes the state, port and peer filters.
func (o Options) keep(s *Socket) bool {
	if len(o.States) > 0 && !slices.Contains(o.States, s.State) {
		return false
	}
	if len(o.DumpStates) > 0 && !slices.Contains(o.DumpStates, s.State) {
		return false
	}
	if len(o.Ports) > 0 && !slices.Contains(o.Ports, s.Local.Port()) && !slices.Contains(o.Ports, s.Remote.Port()) {
		return false
	}
	if len(o.Peers) > 0 && !slices.ContainsFunc(o.Peers, func(p Peer) bool { return p.Match(s.Remote) }) {
		return false
	}
	return true
}

// filterSockets filters the sockets in place, notes the listeners, and
// indexes the kept sockets that have an inode, for the owners. (Socket
// inodes are unique across namespaces: sockfs is one.) After the kept
// sockets come the hidden listeners whose owners connections in their
// accept queue need (see attributeQueued): the owners are joined to
// them too, and the scan drops them once it has used them.
func (snap *Snapshot) filterSockets(all []Socket, opts Options) filtered {
	kept := all[:0]
	wanted := make(map[uint64]int32, len(all))
	var hiddenListeners []Socket
	var queuePorts map[uint16]bool // local ports of kept sockets that may be queued
	for _, s := range all {
		if s.State == Listen {
			snap.Listeners = append(snap.Listeners, Listener{NetNS: s.NetNS, Addr: s.Local})
		}
		orphanAge(&s, snap.System.FinTimeout)
		if !opts.keep(&s) {
			if s.State == Listen {
				hiddenListeners = append(hiddenListeners, s)
			}
			continue
		}
		if s.Inode != 0 {
			wanted[s.Inode] = int32(len(kept))
		} else if queueCandidate(&s) {
			if queuePorts == nil {
				queuePorts = make(map[uint16]bool)
			}
			queuePorts[s.Local.Port()] = true
		}
		kept = append(kept, s)
	}
	need := listenersFor(queuePorts, hiddenListeners)
	for _, l := range need {
		wanted[l.Inode] = int32(len(kept))
		kept = append(kept, l) // over sockets of all already filtered
	}
	return filtered{socks: kept, wanted: wanted, hidden: len(need), queued: queuePorts != nil}
}

// filtered is what filterSockets kept.
type filtered struct {
	socks  []Socket
	wanted map[uint64]int32 // inode -> index in socks, for the owners
	// hidden counts the listeners at the end of socks that no filter
	// kept, read only for the owners of their accept queues.
	hidden int
	queued bool // some socket kept may sit in an accept queue
}

// describeSelection names the --pid and --name flags that selected
// processes, for errors.
func describeSelection(o Options) string {
	var parts []string
	for _, p := range o.PIDs {
		parts = append(parts, "--pid "+strconv.Itoa(p))
	}
	if o.Name != "" {
		parts = append(parts, fmt.Sprintf("--name %q", o.Name))
	}
	for _, w := range o.Workloads {
		parts = append(parts, fmt.Sprintf("--workload %q", w))
	}
	return strings.Join(parts, " ")
}
