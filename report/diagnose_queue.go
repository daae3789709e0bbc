package report

import (
	"fmt"
	"net/netip"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// listenerKey is a listening address in a network namespace.
type listenerKey struct {
	ns   uint64
	addr netip.AddrPort
}

// listenerOf returns the listener whose accept queue holds a queued
// socket, as the kernel picks it: one on the socket's own address, or
// on the IPv4 or IPv6 wildcard.
func listenerOf(listeners map[listenerKey]*inspect.Socket, s *inspect.Socket) *inspect.Socket {
	port := s.Local.Port()
	for _, a := range [...]netip.Addr{s.Local.Addr(), netip.IPv4Unspecified(), netip.IPv6Unspecified()} {
		if l := listeners[listenerKey{s.NetNS, netip.AddrPortFrom(a, port)}]; l != nil {
			return l
		}
	}
	return nil
}

// acceptQueueFindings finds the listeners whose server is not accepting:
// a queue near its backlog (90% or more), or queued connections in
// CLOSE_WAIT (old enough to count), whose clients gave up waiting. A
// LISTEN socket's RxQueue is the connections waiting, its TxQueue the
// backlog (0: unknown).
func acceptQueueFindings(r *Report, rows map[int]*ProcessRow) []Finding {
	snap := r.Snapshot
	listeners := map[listenerKey]*inspect.Socket{}
	for i := range snap.Sockets {
		if s := &snap.Sockets[i]; s.State == inspect.Listen {
			listeners[listenerKey{s.NetNS, s.Local}] = s
		}
	}
	if len(listeners) == 0 {
		return nil
	}
	gaveUp := map[*inspect.Socket]int{}
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		if s.Queued && s.State == inspect.CloseWait && !tooYoung(s, r.MinAge) {
			if l := listenerOf(listeners, s); l != nil {
				gaveUp[l]++
			}
		}
	}
	var out []Finding
	for i := range snap.Sockets {
		l := &snap.Sockets[i]
		if l.State != inspect.Listen {
			continue
		}
		if f, ok := acceptQueueFinding(r, rows, l, gaveUp[l]); ok {
			out = append(out, f)
		}
	}
	return out
}

// acceptQueueFinding judges one listener: critical when its queue is past
// the backlog (the kernel drops new connections) or holds connections in
// CLOSE_WAIT (clients gave up: the server has not accepted for a while);
// a warning when the queue is at 90% of the backlog or more.
func acceptQueueFinding(r *Report, rows map[int]*ProcessRow, l *inspect.Socket, gaveUp int) (Finding, bool) {
	waiting, backlog := max(int(l.RxQueue), gaveUp), int(l.TxQueue)
	full := backlog > 0 && waiting > backlog
	near := backlog > 0 && waiting*10 >= backlog*9
	if !full && !near && gaveUp == 0 {
		return Finding{}, false
	}
	sev := Warning
	if full || gaveUp > 0 {
		sev = Critical
	}
	f := Finding{
		Severity: sev, Kind: KindAcceptQueue, PID: socketOwner(l), NetNS: l.NetNS, State: inspect.Listen,
		Local: l.Local.String(), Count: waiting,
	}
	var p *ProcessRow
	if f.PID > 0 {
		p = rows[f.PID]
		f.Name, f.FDs, f.FDSoftLimit = p.Name, p.FDs, p.FDSoftLimit
	}
	who := r.holderName(f.PID)
	if p != nil {
		who = r.procName(p)
	}
	if n := len(l.PIDs); n > 1 {
		who += fmt.Sprintf(" (and %s)", wording.Plural(n-1, "other holder"))
	}
	queue := wording.Count(waiting, "connection waits", "connections wait") + " in its accept queue"
	switch {
	case backlog == 0:
		queue += " (backlog unknown)"
	case full:
		queue += fmt.Sprintf(", past its backlog of %d: new connections are dropped", backlog)
	default:
		queue += fmt.Sprintf(" (backlog %d)", backlog)
	}
	if gaveUp > 0 {
		queue += fmt.Sprintf("; %d of them in CLOSE_WAIT: their clients gave up waiting", gaveUp)
	}
	where := ""
	if p == nil {
		where = r.nsPhrase(l.NetNS)
	}
	f.Message = fmt.Sprintf("%s is not accepting connections on %s%s: %s", who, l.Local, where, queue)
	f.Hint = "The server is not calling accept(): hung (a deadlock, a blocked event loop, a long pause) or overloaded. " +
		"Past the backlog the kernel drops new connections (TcpExtListenOverflows: nstat -az TcpExtListenOverflows). " +
		"Queued connections in CLOSE_WAIT are not an error-path leak: the clients gave up, and they go once the " +
		"server accepts and closes them."
	if p != nil && p.State != 0 {
		f.Message += stateSuffix(p.State)
		if stopped(p.State) {
			f.Hint = fmt.Sprintf(hintStopped, p.PID, p.PID)
		}
	}
	return f, true
}
