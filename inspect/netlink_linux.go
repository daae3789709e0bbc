package inspect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// The sock_diag netlink interface (include/uapi/linux/inet_diag.h,
// net/ipv4/inet_diag.c): one SOCK_DIAG_BY_FAMILY dump per address family,
// filtered in the kernel by a bitmask of states. x/sys/unix has the
// constants but not these structures.
const (
	sizeofNlMsghdr      = 16
	sizeofInetDiagReqV2 = 56 // family, protocol, ext, pad, states u32, inet_diag_sockid (48)
	sizeofInetDiagReq   = 60 // the older request: family, src_len, dst_len, ext, sockid (48), states u32, dbs u32
	tcpDiagGetSock      = 18 // TCPDIAG_GETSOCK: the older request's message type
	sizeofInetDiagMsg   = 72 // family, state, timer, retrans, sockid (48), expires, rqueue, wqueue, uid, inode
	inetDiagInfo        = 2  // INET_DIAG_INFO: struct tcp_info
	tcpInfoLastDataSent = 44 // offsetof(struct tcp_info, tcpi_last_data_sent)
	tcpInfoLastDataRecv = 52 // offsetof(struct tcp_info, tcpi_last_data_recv)
	tcpInfoLastAckRecv  = 56 // offsetof(struct tcp_info, tcpi_last_ack_recv)
	netlinkRecvBufSize  = 64 << 10
	allStates           = uint32(1<<(NewSynRecv+1)) - 2 // bits 1..12
)

// StateMask returns the sock_diag bitmask (1<<state) for states; all
// states when none are given. SYN_RECV brings NEW_SYN_RECV with it: a
// half-open connection is a request socket in NEW_SYN_RECV in the
// kernel's hash, which dumps report as SYN_RECV (inet_req_diag_fill), and
// only some kernels widen the mask themselves.
func StateMask(states []TCPState) uint32 {
	if len(states) == 0 {
		return allStates
	}
	var m uint32
	for _, s := range states {
		m |= 1 << s
		if s == SynRecv {
			m |= 1 << NewSynRecv
		}
	}
	return m
}

// diagConn is a NETLINK_SOCK_DIAG socket with its receive buffer, reused
// across dumps.
type diagConn struct {
	fd  int
	buf []byte
}

// newDiagConn opens a sock_diag socket in the calling thread's network
// namespace.
func newDiagConn() (*diagConn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, os.NewSyscallError("socket(NETLINK_SOCK_DIAG)", err)
	}
	return &diagConn{fd: fd, buf: make([]byte, netlinkRecvBufSize)}, nil
}

// newDiagConnIn opens a sock_diag socket inside the network namespace at
// nsPath (a PID/ns/net file). A netlink socket stays bound to the namespace
// it was created in, so only the creation runs inside it, on a locked OS
// thread that is switched back before it is unlocked.
func newDiagConnIn(nsPath string) (*diagConn, error) {
	target, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: nsPath, Err: err}
	}
	defer unix.Close(target)
	runtime.LockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, &os.PathError{Op: "open", Path: "/proc/thread-self/ns/net", Err: err}
	}
	defer unix.Close(orig)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return nil, os.NewSyscallError("setns", err)
	}
	c, err := newDiagConn()
	if rerr := unix.Setns(orig, unix.CLONE_NEWNET); rerr != nil {
		// The thread is stuck in the other namespace: leave it locked so
		// the runtime discards it with this goroutine, and fail.
		if c != nil {
			c.Close()
		}
		return nil, os.NewSyscallError("setns back", rerr)
	}
	runtime.UnlockOSThread()
	return c, err
}

func (c *diagConn) Close() error { return unix.Close(c.fd) }

// dump asks the kernel for the TCP sockets of one family in the states of
// mask, and calls fn for each; family AF_UNSPEC asks for both families at
// once. The Socket passed to fn is reused: copy it. withInfo requests
// tcp_info, for idle times.
func (c *diagConn) dump(family uint8, mask uint32, withInfo bool, fn func(*Socket)) error {
	return c.request(family, mask, withInfo, nil, fn)
}

// request sends one sock_diag request: a dump, or with id an exact lookup
// of one socket (as ss does for a single socket: the kernel finds it in its
// hash tables, whatever their size).
//
// A dump of AF_UNSPEC is sent as the older TCPDIAG_GETSOCK request (struct
// inet_diag_req), the only one whose dump is of every family: the kernel
// walks its hash tables once for both, where SOCK_DIAG_BY_FAMILY walks them
// once per family (an IPv6 dump that finds no socket still walks them).
func (c *diagConn) request(family uint8, mask uint32, withInfo bool, id *[2]netip.AddrPort, fn func(*Socket)) error {
	var buf [sizeofNlMsghdr + sizeofInetDiagReq]byte
	req, typ := encodeDiagRequest(&buf, family, mask, withInfo, id)
	if err := unix.Sendto(c.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return os.NewSyscallError("sendto(NETLINK_SOCK_DIAG)", err)
	}
	return c.receive(typ, id != nil, fn)
}

// encodeDiagRequest writes request's message into buf and returns it, with
// the message type its answers carry.
func encodeDiagRequest(buf *[sizeofNlMsghdr + sizeofInetDiagReq]byte, family uint8, mask uint32, withInfo bool, id *[2]netip.AddrPort) ([]byte, uint16) {
	req := buf[:sizeofNlMsghdr+sizeofInetDiagReqV2]
	ne := binary.NativeEndian
	typ := uint16(unix.SOCK_DIAG_BY_FAMILY)
	flags := uint16(unix.NLM_F_REQUEST)
	if id == nil {
		flags |= unix.NLM_F_DUMP
	}
	r := req[sizeofNlMsghdr:]
	var ext byte
	if withInfo {
		ext = 1 << (inetDiagInfo - 1)
	}
	if family == unix.AF_UNSPEC && id == nil {
		// inet_diag_req: family, src_len, dst_len, ext, sockid (48),
		// states u32, dbs u32. The kernel dumps every family.
		req = buf[:]
		typ = tcpDiagGetSock
		r = req[sizeofNlMsghdr:]
		r[3] = ext
		ne.PutUint32(r[52:], mask)
	} else {
		r[0] = family
		r[1] = unix.IPPROTO_TCP
		r[2] = ext
		ne.PutUint32(r[4:], mask)
	}
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], typ)
	ne.PutUint16(req[6:], flags)
	ne.PutUint32(req[8:], 1) // seq
	if id != nil {
		sid := r[8:] // inet_diag_sockid: sport, dport, src, dst, if, cookie
		binary.BigEndian.PutUint16(sid[0:], id[0].Port())
		binary.BigEndian.PutUint16(sid[2:], id[1].Port())
		copy(sid[4:20], diagAddr(family, id[0].Addr()))
		copy(sid[20:36], diagAddr(family, id[1].Addr()))
		ne.PutUint32(sid[40:], ^uint32(0)) // INET_DIAG_NOCOOKIE
		ne.PutUint32(sid[44:], ^uint32(0))
	}
	return req, typ
}

// receive reads the answers to a request of type typ until the kernel is
// done, calling fn for each socket; a lookup answers once.
func (c *diagConn) receive(typ uint16, lookup bool, fn func(*Socket)) error {
	var s Socket
	for {
		n, err := unix.Read(c.fd, c.buf) // not Recvfrom: it allocates the sender's address each time
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return os.NewSyscallError("read(NETLINK_SOCK_DIAG)", err)
		}
		if done, err := decodeBatch(c.buf[:n], typ, lookup, &s, fn); done || err != nil {
			return err
		}
	}
}

// decodeBatch decodes the netlink messages of one read, calling fn for
// each socket (s is reused: fn copies it). It reports done when the kernel
// says the answer is complete (NLMSG_DONE, an error, or a lookup's single
// answer). The kernel writes these bytes, but they are decoded as if it
// might not: a length that does not fit is an error, never a panic.
func decodeBatch(b []byte, typ uint16, lookup bool, s *Socket, fn func(*Socket)) (done bool, err error) {
	ne := binary.NativeEndian
	for len(b) >= sizeofNlMsghdr {
		l := int(ne.Uint32(b[0:]))
		mtyp := ne.Uint16(b[4:])
		if l < sizeofNlMsghdr || l > len(b) {
			return true, fmt.Errorf("sock_diag: malformed netlink message (length %d of %d)", l, len(b))
		}
		msg := b[sizeofNlMsghdr:l]
		switch mtyp {
		case unix.NLMSG_DONE:
			return true, nil
		case unix.NLMSG_ERROR:
			if len(msg) >= 4 {
				if errno := int32(ne.Uint32(msg)); errno != 0 {
					return true, os.NewSyscallError("sock_diag", unix.Errno(-errno))
				}
			}
			return true, nil
		case typ: // answers carry the type of the request
			if err := decodeInetDiagMsg(msg, s); err != nil {
				return true, err
			}
			fn(s)
			if lookup { // a lookup answers once, with no NLMSG_DONE
				return true, nil
			}
		}
		b = b[min(nlmAlign(l), len(b)):]
	}
	return false, nil
}

func nlmAlign(n int) int { return (n + 3) &^ 3 }

// decodeInetDiagMsg decodes one inet_diag_msg and its attributes into s.
func decodeInetDiagMsg(b []byte, s *Socket) error {
	if len(b) < sizeofInetDiagMsg {
		return fmt.Errorf("sock_diag: short inet_diag_msg (%d bytes)", len(b))
	}
	ne := binary.NativeEndian
	proto := TCP
	if b[0] != unix.AF_INET {
		proto = TCP6
	}
	*s = Socket{Proto: proto, State: TCPState(b[1]), Timer: b[2], Retransmits: uint64(b[3])}
	id := b[4:52]
	sport := binary.BigEndian.Uint16(id[0:])
	dport := binary.BigEndian.Uint16(id[2:])
	var src, dst netip.Addr
	if b[0] == unix.AF_INET {
		src = netip.AddrFrom4([4]byte(id[4:8]))
		dst = netip.AddrFrom4([4]byte(id[20:24]))
	} else {
		src = netip.AddrFrom16([16]byte(id[4:20])).Unmap()
		dst = netip.AddrFrom16([16]byte(id[20:36])).Unmap()
	}
	s.Local = netip.AddrPortFrom(src, sport)
	s.Remote = netip.AddrPortFrom(dst, dport)
	expires := ne.Uint32(b[52:]) // ms
	s.TimerTicks = uint64(expires) / 10
	// For a listener, idiag_rqueue is the accept queue's length and
	// idiag_wqueue its backlog (tcp_diag_get_info), as ss shows them;
	// /proc/net/tcp prints 0 for the backlog.
	s.RxQueue = uint64(ne.Uint32(b[56:]))
	s.TxQueue = uint64(ne.Uint32(b[60:]))
	s.UID = ne.Uint32(b[64:])
	s.Inode = uint64(ne.Uint32(b[68:]))
	for a := b[sizeofInetDiagMsg:]; len(a) >= 4; {
		l := int(ne.Uint16(a[0:]))
		typ := ne.Uint16(a[2:])
		if l < 4 || l > len(a) {
			break
		}
		if typ == inetDiagInfo {
			decodeTCPInfo(a[4:l], s)
		}
		a = a[min(nlmAlign(l), len(a)):]
	}
	return nil
}

// decodeTCPInfo takes the idle time and the age bound (tcpInfoTimes)
// from a struct tcp_info (include/uapi/linux/tcp.h), as far as the
// kernel's is long enough to hold them: it has been longer since 2.6, but
// the attribute's length is what says.
func decodeTCPInfo(info []byte, s *Socket) {
	ne := binary.NativeEndian
	if len(info) < tcpInfoLastDataRecv+4 {
		return
	}
	sent := ne.Uint32(info[tcpInfoLastDataSent:])
	recv := ne.Uint32(info[tcpInfoLastDataRecv:])
	if len(info) < tcpInfoLastAckRecv+4 {
		s.IdleMs, s.HasIdle = min(sent, recv), true
		return
	}
	tcpInfoTimes(s, sent, recv, ne.Uint32(info[tcpInfoLastAckRecv:]))
}

// tcpInfoTimes sets the idle time and, for a socket in CLOSE_WAIT or
// FIN_WAIT2, the age bound from tcp_info's times since the last data sent
// and received and the last ACK received (ms).
func tcpInfoTimes(s *Socket, lastDataSent, lastDataRecv, lastAckRecv uint32) {
	s.IdleMs, s.HasIdle = min(lastDataSent, lastDataRecv), true
	if s.State == CloseWait || s.State == FinWait2 {
		// The segment that brought either state carried an ACK (the
		// peer's FIN, or its ACK of ours): the last ACK is no older.
		s.AgeMs, s.HasAge = lastAckRecv, true
	}
}

// diagAddr is an address as inet_diag_sockid holds it: 4 bytes for
// AF_INET, 16 for AF_INET6 (IPv4 as IPv4-mapped).
func diagAddr(family uint8, a netip.Addr) []byte {
	if family == unix.AF_INET {
		b := a.Unmap().As4()
		return b[:]
	}
	b := a.As16()
	return b[:]
}

// LookupSocket asks the kernel for the one TCP socket from local to remote
// in the caller's network namespace, TIME_WAIT included, with an exact
// sock_diag lookup whose cost does not grow with the number of sockets.
// ok is false when the kernel holds no such socket.
func LookupSocket(local, remote netip.AddrPort) (s Socket, ok bool, err error) {
	family := uint8(unix.AF_INET)
	if !local.Addr().Unmap().Is4() || !remote.Addr().Unmap().Is4() {
		family = unix.AF_INET6
	}
	c, err := newDiagConn()
	if err != nil {
		return Socket{}, false, err
	}
	defer c.Close()
	id := [2]netip.AddrPort{local, remote}
	err = c.request(family, allStates, false, &id, func(got *Socket) {
		// Where no connection matches, the kernel's lookup may fall back
		// to a listening socket on the port: not the one asked for.
		if got.Remote.Port() == remote.Port() && got.Remote.Addr() == remote.Addr().Unmap() {
			s, ok = *got, true
		}
	})
	if errors.Is(err, unix.ENOENT) {
		return Socket{}, false, nil
	}
	return s, ok, err
}
