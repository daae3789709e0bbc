package inspect

import (
	"bytes"
	"errors"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// OwnSockets returns the TCP sockets this process holds: /proc/self/fd
// lists its descriptors, and each socket's inode, state, addresses and
// times are read from the descriptor itself (fstat, TCP_INFO,
// getsockname, getpeername). It needs no privilege, and its cost grows
// with this process's descriptors alone: a sock_diag dump, which has no
// filter by inode, would cost as much as the host has sockets (see
// docs/performance.md), too much for a check deferred in every test.
//
// addrs, when not nil, says which sockets' addresses to read, given each
// socket with its inode, state and times: two system calls more for each,
// which a caller that only wants the sockets it has not seen before can
// save. Descriptors closed while it reads are skipped.
func OwnSockets(addrs func(*Socket) bool) ([]OwnSocket, error) {
	const dir = "/proc/self/fd"
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(dfd)
	buf := make([]byte, 32<<10)
	var out []OwnSocket
	for {
		n, err := unix.Getdents(dfd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "getdents", Path: dir, Err: err}
		}
		if n <= 0 {
			return out, nil
		}
		for b := buf[:n]; ; {
			var name []byte
			var ok bool
			if name, b, ok = nextDirent(b); !ok {
				break
			}
			fd, err := parseDec(name[:max(0, bytes.IndexByte(name, 0))], 31)
			if err != nil || int(fd) == dfd {
				continue // "." and "..", and the directory being read
			}
			if s, ok := ownSocket(int(fd), addrs); ok {
				out = append(out, s)
			}
		}
	}
}

// ownSocket reads the TCP socket at descriptor fd, and its addresses if
// addrs says so; ok is false when fd is not one (another kind of file,
// another protocol, or closed meanwhile).
func ownSocket(fd int, addrs func(*Socket) bool) (s OwnSocket, ok bool) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return s, false
	}
	// Only TCP answers TCP_INFO: UDP says ENOPROTOOPT, AF_UNIX EOPNOTSUPP.
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return s, false
	}
	s = OwnSocket{FD: fd, Socket: Socket{State: TCPState(info.State), Inode: st.Ino}}
	tcpInfoTimes(&s.Socket, info.Last_data_sent, info.Last_data_recv, info.Last_ack_recv)
	if addrs != nil && !addrs(&s.Socket) {
		return s, true
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return s, false
	}
	if s.Local, s.Proto, ok = sockaddrPort(sa); !ok {
		return s, false
	}
	if sa, err := unix.Getpeername(fd); err == nil { // ENOTCONN: a listener
		s.Remote, _, _ = sockaddrPort(sa)
	}
	return s, true
}

// sockaddrPort converts an AF_INET or AF_INET6 address, IPv4-mapped
// addresses unmapped as everywhere in Socket.
func sockaddrPort(sa unix.Sockaddr) (netip.AddrPort, Proto, bool) {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)), TCP, true
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr).Unmap(), uint16(a.Port)), TCP6, true
	}
	return netip.AddrPort{}, "", false
}
