package main

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/netip"
	"strings"
)

// The tables' header lines: tcp4_seq_show's (padded like its rows) and
// tcp6_seq_show's.
var (
	tcp4Header = pad149("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode")
	tcp6Header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
)

// writeNet writes a namespace's tables and its sockstat.
func (t *tree) writeNet(dir string, tcp, tcp6 []sock, mem, sockets int) {
	var b strings.Builder
	b.WriteString(tcp4Header)
	for i, s := range tcp {
		b.WriteString(formatTCP4(i, s, t.dir+dir))
	}
	t.file(dir+"/tcp", b.String())
	b.Reset()
	b.WriteString(tcp6Header)
	for i, s := range tcp6 {
		b.WriteString(formatTCP6(i, s, t.dir+dir))
	}
	t.file(dir+"/tcp6", b.String())

	// net/ipv4/proc.c sockstat_seq_show. inuse counts IPv4 TCP sockets
	// that are not timewait minisocks; tw counts those of both families;
	// alloc counts every TCP socket. Orphaned FIN_WAIT2 sockets that became
	// minisocks are in tw, not orphan.
	var st sockstat
	for _, s := range tcp {
		if s.tw {
			st.tw++
		} else {
			st.inuse++
		}
	}
	for _, s := range tcp6 {
		if s.tw {
			st.tw++
		} else {
			st.alloc++
		}
	}
	st.alloc += st.inuse
	t.file(dir+"/sockstat", fmt.Sprintf("sockets: used %d\nTCP: inuse %d orphan %d tw %d alloc %d mem %d\nUDP: inuse 2 mem 1\nUDPLITE: inuse 0\nRAW: inuse 0\nFRAG: inuse 0 memory 0\n",
		sockets, st.inuse, t.sys.orphans, st.tw, st.alloc, mem))
}

// pad149 pads a line the way tcp4_seq_show does: seq_setwidth(seq,
// TMPSZ - 1) and seq_pad(seq, '\n'), TMPSZ being 150.
func pad149(s string) string {
	if len(s) < 149 {
		s += strings.Repeat(" ", 149-len(s))
	}
	return s + "\n"
}

// hexAddr4 prints an IPv4 address as the kernel's %08X of the __be32: the
// bytes reversed on a little-endian machine.
func hexAddr4(a netip.Addr) string {
	b := a.As4()
	return fmt.Sprintf("%08X", binary.LittleEndian.Uint32(b[:]))
}

// hexAddr6 prints the four s6_addr32 words with %08X each.
func hexAddr6(a netip.Addr) string {
	b := a.As16()
	var s strings.Builder
	for w := range 4 {
		fmt.Fprintf(&s, "%08X", binary.LittleEndian.Uint32(b[w*4:]))
	}
	return s.String()
}

// kptr stands for the %pK column: a hashed kernel pointer, invented.
func kptr(where string, slot int) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", where, slot)
	return fmt.Sprintf("00000000%08x", h.Sum32())
}

// fullTail is what get_tcp4_sock and get_tcp6_sock print after the inode:
// refcount, socket pointer, rto, ato, quick/pingpong, cwnd and ssthresh
// (or the fastopen queue length for a listener).
func fullTail(s sock, where string, slot int) string {
	ref := 1
	if s.timer != timerNone {
		ref = 2 // the timer holds a reference
	}
	if s.state == listen {
		return fmt.Sprintf("%d %s 100 0 0 10 0", ref, kptr(where, slot))
	}
	rto := 20
	if s.retrans > 0 {
		rto = 20 << s.retrans
	}
	return fmt.Sprintf("%d %s %d 4 30 10 -1", ref, kptr(where, slot), rto)
}

// formatTCP4 prints a row of net/tcp: get_tcp4_sock, or
// get_timewait4_sock for a timewait minisock (net/ipv4/tcp_ipv4.c).
func formatTCP4(i int, s sock, where string) string {
	return pad149(formatRow(i, s, where, hexAddr4))
}

// formatTCP6 prints a row of net/tcp6: get_tcp6_sock or
// get_timewait6_sock (net/ipv6/tcp_ipv6.c). Unlike tcp4, no padding.
func formatTCP6(i int, s sock, where string) string {
	return formatRow(i, s, where, hexAddr6) + "\n"
}

// formatRow prints a row without its line end: both families print the
// same fields with the same format, addresses aside (hex).
func formatRow(i int, s sock, where string, hex func(netip.Addr) string) string {
	l, r := s.local, s.remote
	if s.tw {
		return fmt.Sprintf("%4d: %s:%04X %s:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %s",
			i, hex(l.Addr()), l.Port(), hex(r.Addr()), r.Port(), s.state, 0, 0,
			3, s.when, 0, 0, 0, 0, 3, kptr(where, i))
	}
	return fmt.Sprintf("%4d: %s:%04X %s:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d %s",
		i, hex(l.Addr()), l.Port(), hex(r.Addr()), r.Port(), s.state, s.tx, s.rx,
		s.timer, s.when, s.retrans, s.uid, s.probes, s.inode, fullTail(s, where, i))
}
