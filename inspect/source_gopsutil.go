package inspect

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/netip"
	"syscall"

	"github.com/shirou/gopsutil/v4/common"
	gnet "github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"
)

// BackendGopsutil reads the sockets with their owning pids through
// gopsutil's net.Connections: /proc on Linux, lsof on macOS and FreeBSD,
// GetExtendedTcpTable on Windows. It is the only backend on those
// systems; on Linux it is there for --backend gopsutil and for comparisons
// with netlink (auto never picks it there). What it cannot give is in
// gopsutilGaps, said once per scan.
const BackendGopsutil Backend = "gopsutil"

func init() {
	registerBackend(backendDef{
		name:  BackendGopsutil,
		rank:  200,
		reads: func(FS) string { return "the system's connections (gopsutil)" },
		open: func(fsys FS, _ Options) (tableSource, ownerSource) {
			g := &gopsutilSource{ctx: gopsutilContext(context.Background(), fsys), fsys: fsys}
			return g, g
		},
	})
}

// gopsutilContext points gopsutil at the proc root (on Linux; elsewhere it
// is not read), as metaReader does.
func gopsutilContext(ctx context.Context, fsys FS) context.Context {
	return context.WithValue(ctx, common.EnvKey, common.EnvMap{common.HostProcEnvKey: fsys.root})
}

// gopsutilSource is both sources of the gopsutil backend: gopsutil hands
// out each connection with its pid already joined, so the table read
// keeps, for the owners, the sockets of each pid.
type gopsutilSource struct {
	ctx  context.Context
	fsys FS
	// owned lists each pid's sockets by key (connKey), from readTables.
	owned map[int][]uint64
}

// readTables reads every TCP connection gopsutil sees: on Linux the proc
// root's net/tcp{,6}, so this process's network namespace only.
func (g *gopsutilSource) readTables(tableRequest) (tableSet, error) {
	var ts tableSet
	if !g.fsys.native {
		if ns, err := g.fsys.readNetNS(g.fsys.path("self", "ns", "net")); err == nil {
			ts.hostNS = ns
		}
	}
	socks, owned, skipped, err := g.read(ts.hostNS)
	if err != nil {
		return ts, err
	}
	ts.sockets, g.owned = socks, owned
	ts.warnings = append(ts.warnings, g.fsys.gopsutilGaps())
	if skipped > 0 {
		ts.warnings = append(ts.warnings, fmt.Sprintf("gopsutil listed %d TCP connections with an unknown state or a malformed address; they were left out", skipped))
	}
	return ts, nil
}

// read reads the connections and converts them, marking each socket with
// namespace ns.
func (g *gopsutilSource) read(ns uint64) (socks []Socket, owned map[int][]uint64, skipped int, err error) {
	conns, err := gnet.ConnectionsWithoutUidsWithContext(g.ctx, "tcp")
	if err != nil {
		return nil, nil, 0, fmt.Errorf("read the TCP connections (gopsutil): %w", err)
	}
	socks, owned, skipped = fromConnections(conns, ns)
	return socks, owned, skipped, nil
}

// recheck reads the connections again: a socket no process was seen
// holding is present if one with the same addresses is still listed.
func (g *gopsutilSource) recheck(req tableRequest, socks []Socket) (map[uint64]bool, error) {
	present := make(map[uint64]bool, len(socks))
	again, _, _, err := g.read(req.hostNS)
	if err != nil {
		for _, s := range socks {
			present[s.Inode] = true
		}
		return present, err
	}
	markPresent(socks, again, present)
	return present, nil
}

// before does nothing: gopsutil's read of the owners is its table read.
func (g *gopsutilSource) before(*ownerWork) {}

// owners hands out each selected process once the connections are in:
// its sockets from the table read and its descriptor count from gopsutil
// (NumFDs), where the system gives one.
func (g *gopsutilSource) owners(ctx context.Context, w *ownerWork) error {
	select {
	case <-w.tablesRead:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return err // the table read failed
	}
	keep, countOnly := w.wants()
	for i := range w.procs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if w.procs[i].done {
			continue
		}
		g.fill(&w.procs[i], keep, countOnly)
		w.done(i)
	}
	return nil
}

// fill sets a process's sockets and descriptor counts. SocketFDs counts
// its TCP sockets only: gopsutil lists no other family here. A process
// whose descriptors cannot be counted keeps the sockets gopsutil gave it,
// FDs 0 (unknown); one that owns none and may not be read is denied.
func (g *gopsutilSource) fill(ps *procScan, keep func(uint64) bool, countOnly bool) {
	keys := g.owned[ps.p.PID]
	ps.p.SocketFDs = len(keys)
	if !countOnly {
		for _, k := range keys {
			if keep == nil || keep(k) {
				ps.sockets = append(ps.sockets, k)
			}
		}
	}
	n, err := (&process.Process{Pid: int32(ps.p.PID)}).NumFDsWithContext(g.ctx)
	switch {
	case err == nil:
		ps.p.FDs = int(n)
	case g.fsys.exited(ps.p.PID, err):
		ps.err = err
	case len(keys) == 0 && !isNotImplemented(err):
		ps.err = err // denied, as the other backends count it, or a warning
	}
}

// fromConnections converts gopsutil's connections to sockets in namespace
// ns, and lists each pid's sockets by key. It skips, and counts, the
// connections with a state or an address it cannot read.
func fromConnections(conns []gnet.ConnectionStat, ns uint64) (socks []Socket, owned map[int][]uint64, skipped int) {
	socks = make([]Socket, 0, len(conns))
	owned = make(map[int][]uint64)
	listening := make(map[uint16]bool)
	for _, c := range conns {
		s, ok := fromConnection(c)
		if !ok {
			skipped++
			continue
		}
		s.NetNS = ns
		if s.State == Listen {
			listening[s.Local.Port()] = true
		}
		if c.Pid > 0 {
			s.Inode = connKey(&s)
			owned[int(c.Pid)] = append(owned[int(c.Pid)], s.Inode)
		}
		socks = append(socks, s)
	}
	for i := range socks {
		if s := &socks[i]; s.Inode == 0 && ownerless(s, listening) {
			s.Inode = connKey(s) // a process holds it, but gopsutil could not say which
		}
	}
	return socks, owned, skipped
}

// ownerless reports whether s, listed without a pid, is held by a process
// gopsutil could not name rather than by the kernel alone: its state is
// not one of a closed socket (TIME_WAIT, FIN_WAIT1, FIN_WAIT2, CLOSING,
// LAST_ACK, SYN_RECV) nor, on a listening port, one of a connection in an
// accept queue (queue.go), which has no descriptor either.
func ownerless(s *Socket, listening map[uint16]bool) bool {
	switch s.State {
	case Listen, SynSent, Close:
		return true
	case Established, CloseWait:
		return !listening[s.Local.Port()]
	}
	return false
}

// connKey stands in for the inode gopsutil does not give: a hash of the
// socket's protocol and addresses, which no other socket of its table
// shares and which stays with it from one scan to the next (watch keys
// sockets by it). Its top bit is set, so it is never a real inode.
func connKey(s *Socket) uint64 {
	h := fnv.New64a()
	var b [2 * 19]byte
	l, _ := s.Local.MarshalBinary()
	r, _ := s.Remote.MarshalBinary()
	h.Write([]byte(s.Proto))
	h.Write(append(append(b[:0], l...), r...))
	return h.Sum64() | 1<<63
}

// fromConnection converts one of gopsutil's connections.
func fromConnection(c gnet.ConnectionStat) (Socket, bool) {
	proto := TCP
	if c.Family == syscall.AF_INET6 {
		proto = TCP6
	}
	st, ok := gopsutilState(c.Status)
	local, lok := gopsutilAddr(c.Laddr, proto)
	remote, rok := gopsutilAddr(c.Raddr, proto)
	if !ok || !lok || !rok {
		return Socket{}, false
	}
	return Socket{Proto: proto, Local: local, Remote: remote, State: st}, true
}

// gopsutilAddr parses an address as gopsutil gives it: the IP as text
// (empty, or "*" from lsof, for the wildcard) and the port.
func gopsutilAddr(a gnet.Addr, proto Proto) (netip.AddrPort, bool) {
	if a.Port > 0xffff {
		return netip.AddrPort{}, false
	}
	ip := netip.IPv4Unspecified()
	if proto == TCP6 {
		ip = netip.IPv6Unspecified()
	}
	if a.IP != "" && a.IP != "*" {
		var err error
		if ip, err = netip.ParseAddr(a.IP); err != nil {
			return netip.AddrPort{}, false
		}
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(a.Port)), true
}

// gopsutilState parses a state as gopsutil spells it on each system: the
// kernel's names on Linux, lsof's and Windows' (FIN_WAIT_1,
// SYN_RECEIVED, CLOSED, DELETE_TCB) elsewhere.
func gopsutilState(s string) (TCPState, bool) {
	if st, err := ParseState(s); err == nil {
		return st, true
	}
	switch stateKey(s) {
	case "synreceived", "synrcvd":
		return SynRecv, true
	case "closed", "deletetcb", "delete":
		return Close, true
	}
	return 0, false
}
