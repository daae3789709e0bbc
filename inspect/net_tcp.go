package inspect

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
)

// Proto names the socket table a socket came from.
type Proto string

// The two TCP tables.
const (
	TCP  Proto = "tcp"
	TCP6 Proto = "tcp6"
)

// Socket is one row of a TCP socket table, plus what the scan learnt about
// its owners.
type Socket struct {
	Proto  Proto
	Local  netip.AddrPort // IPv4-mapped IPv6 addresses are unmapped to IPv4
	Remote netip.AddrPort
	State  TCPState
	// TxQueue and RxQueue are the send and receive queues in bytes. For a
	// LISTEN socket, as ss shows them, RxQueue is the number of
	// connections waiting in its accept queue and TxQueue the backlog,
	// the most it holds; /proc/net/tcp does not print the backlog (0
	// there), so 0 means unknown.
	TxQueue, RxQueue uint64
	// Timer is the active timer: 0 none, 1 retransmit or loss probe,
	// 2 keepalive (or another sk_timer), 3 TIME_WAIT, 4 zero window probe.
	Timer uint8
	// TimerTicks is the time until the timer fires, in clock ticks (USER_HZ).
	TimerTicks  uint64
	Retransmits uint64 // unrecovered RTO timeouts
	UID         uint32
	Timeout     uint64 // unanswered zero-window probes
	Inode       uint64 // 0 for TIME_WAIT and orphaned sockets: no owner
	// IdleMs is the time since data was last sent or received, from
	// tcp_info; HasIdle is false when it was not asked for (only the
	// netlink backend and OwnSockets can tell).
	IdleMs  uint32
	HasIdle bool
	// AgeMs bounds from below how long the socket has been in its state,
	// in ms: tcp_info's time since the last ACK was received. The segment
	// that moved it to CLOSE_WAIT (the peer's FIN) or FIN_WAIT2 (the ACK
	// of our FIN) carried an ACK, so no later one is older than the
	// state. HasAge is true only for CLOSE_WAIT and FIN_WAIT2 sockets
	// read with tcp_info (over netlink, not the proc backend, or by
	// OwnSockets), and for
	// orphaned FIN_WAIT2 sockets, from either backend, whose timer tells
	// (orphanAge).
	AgeMs  uint32
	HasAge bool
	// Queued is true for a connection waiting in a listener's accept
	// queue: no process has accepted it, so it has no descriptor (inode
	// 0), and it is ESTABLISHED, or CLOSE_WAIT once its client gave up.
	// Its PIDs are then the owners of that listener, for whom it counts.
	Queued bool
	// NetNS is the inode of the network namespace whose table held the
	// socket; 0 when it is unknown.
	NetNS uint64
	// PIDs are the processes holding a descriptor for the socket, sorted.
	// Empty for sockets owned by the kernel alone. When --pid or --name
	// selected processes, only the selected ones are listed.
	PIDs []int
}

// ReadNetTCP reads a /proc/net/tcp or tcp6 file. Errors name the file and,
// for malformed lines, the line number.
func ReadNetTCP(path string, proto Proto) ([]Socket, error) {
	return appendNetTCP(nil, path, proto)
}

// appendNetTCP is ReadNetTCP appending to dst, so that a scan reads every
// table into one slice.
func appendNetTCP(dst []Socket, path string, proto Proto) ([]Socket, error) {
	f, err := os.Open(path)
	if err != nil {
		return dst, err
	}
	defer f.Close()
	out, err := parseNetTCP(dst, f, proto)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.Path = path
			return dst, pe
		}
		return dst, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

var (
	errNoHeader = errors.New("missing header line (want \"sl local_address ...\")")
	errFields   = errors.New("too few fields")
)

// ParseNetTCP parses the text of /proc/net/tcp or /proc/net/tcp6, whose rows
// are printed by get_tcp4_sock in net/ipv4/tcp_ipv4.c (get_tcp6_sock in
// net/ipv6/tcp_ipv6.c for tcp6) and described in proc(5):
//
//	sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
//
// The first malformed line stops the parse with a *ParseError.
func ParseNetTCP(r io.Reader, proto Proto) ([]Socket, error) {
	return parseNetTCP(nil, r, proto)
}

func parseNetTCP(socks []Socket, r io.Reader, proto Proto) ([]Socket, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if n == 1 {
			if f, _ := nextField(line); string(f) != "sl" {
				return nil, &ParseError{Line: n, Text: string(line), Err: errNoHeader}
			}
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		s, err := parseNetTCPLine(line, proto)
		if err != nil {
			return nil, &ParseError{Line: n, Text: string(line), Err: err}
		}
		socks = append(socks, s)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, &ParseError{Line: 1, Err: errNoHeader}
	}
	return socks, nil
}

// nextField returns the first space-separated field of b and the rest.
func nextField(b []byte) (field, rest []byte) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	j := i
	for j < len(b) && b[j] != ' ' && b[j] != '\t' && b[j] != '\r' {
		j++
	}
	return b[i:j], b[j:]
}

func parseNetTCPLine(line []byte, proto Proto) (Socket, error) {
	var f [10][]byte
	rest := line
	for i := range f {
		f[i], rest = nextField(rest)
		if len(f[i]) == 0 {
			return Socket{}, fmt.Errorf("%w: %d, want at least 10", errFields, i)
		}
	}
	if f[0][len(f[0])-1] != ':' {
		return Socket{}, fmt.Errorf("slot %q: missing ':'", f[0])
	}
	s := Socket{Proto: proto}
	var err error
	if s.Local, err = parseHexAddrPort(f[1], proto); err != nil {
		return Socket{}, fmt.Errorf("local address: %w", err)
	}
	if s.Remote, err = parseHexAddrPort(f[2], proto); err != nil {
		return Socket{}, fmt.Errorf("remote address: %w", err)
	}
	st, err := parseHex(f[3], 8)
	if err != nil {
		return Socket{}, fmt.Errorf("state: %w", err)
	}
	s.State = TCPState(st)
	if s.TxQueue, s.RxQueue, err = parseHexPair(f[4], 64, 64); err != nil {
		return Socket{}, fmt.Errorf("tx_queue:rx_queue: %w", err)
	}
	var timer uint64
	if timer, s.TimerTicks, err = parseHexPair(f[5], 8, 64); err != nil {
		return Socket{}, fmt.Errorf("tr:tm->when: %w", err)
	}
	s.Timer = uint8(timer)
	if s.Retransmits, err = parseHex(f[6], 64); err != nil {
		return Socket{}, fmt.Errorf("retrnsmt: %w", err)
	}
	uid, err := parseDec(f[7], 32)
	if err != nil {
		return Socket{}, fmt.Errorf("uid: %w", err)
	}
	s.UID = uint32(uid)
	if s.Timeout, err = parseDec(f[8], 64); err != nil {
		return Socket{}, fmt.Errorf("timeout: %w", err)
	}
	if s.Inode, err = parseDec(f[9], 64); err != nil {
		return Socket{}, fmt.Errorf("inode: %w", err)
	}
	return s, nil
}

// parseHex and parseDec parse unsigned numbers of at most bits bits without
// allocating: they run once per field of every socket.
func parseHex(b []byte, bits int) (uint64, error) { return parseUint(b, 16, bits) }

func parseDec(b []byte, bits int) (uint64, error) { return parseUint(b, 10, bits) }

func parseUint(b []byte, base uint64, bits int) (uint64, error) {
	if len(b) == 0 {
		return 0, errors.New("empty number")
	}
	max := uint64(1)<<bits - 1
	if bits == 64 {
		max = ^uint64(0)
	}
	var v uint64
	for _, c := range b {
		var d uint64
		switch {
		case '0' <= c && c <= '9':
			d = uint64(c - '0')
		case base == 16 && 'a' <= c && c <= 'f':
			d = uint64(c-'a') + 10
		case base == 16 && 'A' <= c && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return 0, fmt.Errorf("%q: invalid digit %q", b, c)
		}
		if v > (max-d)/base {
			return 0, fmt.Errorf("%q: out of range for %d bits", b, bits)
		}
		v = v*base + d
	}
	return v, nil
}

func parseHexPair(b []byte, bitsA, bitsB int) (a, c uint64, err error) {
	i := bytes.IndexByte(b, ':')
	if i < 0 {
		return 0, 0, fmt.Errorf("%q: missing ':'", b)
	}
	if a, err = parseHex(b[:i], bitsA); err != nil {
		return 0, 0, err
	}
	if c, err = parseHex(b[i+1:], bitsB); err != nil {
		return 0, 0, err
	}
	return a, c, nil
}

// parseHexAddrPort decodes "0100007F:1F90" (127.0.0.1:8080 on a
// little-endian host). The address is printed as 32-bit words in host byte
// order (one word for IPv4, four for IPv6); the port is big-endian hex.
// IPv4-mapped IPv6 addresses come back as IPv4.
func parseHexAddrPort(b []byte, proto Proto) (netip.AddrPort, error) {
	i := bytes.IndexByte(b, ':')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("%q: missing ':'", b)
	}
	hexAddr, hexPort := b[:i], b[i+1:]
	want := 8
	if proto == TCP6 {
		want = 32
	}
	if len(hexAddr) != want {
		return netip.AddrPort{}, fmt.Errorf("%q: address has %d hex digits, want %d", b, len(hexAddr), want)
	}
	if len(hexPort) != 4 {
		return netip.AddrPort{}, fmt.Errorf("%q: port has %d hex digits, want 4", b, len(hexPort))
	}
	port, err := parseHex(hexPort, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("port %w", err) // the error quotes the digits
	}
	var raw [16]byte
	for w := 0; w < want/8; w++ {
		v, err := parseHex(hexAddr[w*8:w*8+8], 32)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("address %w", err) // the error quotes the digits
		}
		binary.NativeEndian.PutUint32(raw[w*4:], uint32(v))
	}
	var addr netip.Addr
	if proto == TCP6 {
		addr = netip.AddrFrom16(raw).Unmap()
	} else {
		addr = netip.AddrFrom4([4]byte(raw[:4]))
	}
	return netip.AddrPortFrom(addr, uint16(port)), nil
}
