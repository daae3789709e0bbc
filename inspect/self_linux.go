package inspect

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// OwnSockets returns the TCP sockets this process holds, read from its own
// descriptors: each socket's state, times and inode come from the
// descriptor itself (TCP_INFO, fstat), with no privilege. A sock_diag dump
// would need no call per descriptor, but it has no filter by inode and
// walks the kernel's whole hash table, as large as the host is, even to
// find no socket: on this machine class a dump that finds nothing costs
// more than reading a thousand descriptors (see docs/performance.md).
//
// addrs, when not nil, says which sockets' addresses to read, given each
// socket with its inode, state and times: two system calls more for each
// (getsockname, getpeername), which a caller that only wants the sockets
// it has not seen before can save. Descriptors closed while it reads are
// skipped.
func OwnSockets(addrs func(*Socket) bool) ([]OwnSocket, error) {
	var out []OwnSocket
	from := 0 // descriptors below it have been read
	// Where /proc/self/fd's size is the number of open descriptors (Linux
	// 6.2+), the descriptors are probed in order until all are found, as
	// fdWalker.walk does: listing the directory costs as much again.
	var st unix.Stat_t
	if unix.Stat(selfFD, &st) == nil && st.Size > 0 {
		out = make([]OwnSocket, 0, min(st.Size, 4096)) // bounded: a process may hold a million descriptors
		found, holes := 0, 0
		for ; found < int(st.Size) && holes < maxHoles; from++ {
			s, open, ok := ownSocket(from, addrs)
			switch {
			case ok:
				out = append(out, s)
				fallthrough
			case open:
				found, holes = found+1, 0
			default:
				holes++
			}
		}
		if found >= int(st.Size) {
			return out, nil
		}
	}
	return listOwnSockets(out, from, addrs)
}

const selfFD = "/proc/self/fd"

// listOwnSockets appends to out the sockets at the descriptors from and
// above that /proc/self/fd lists.
func listOwnSockets(out []OwnSocket, from int, addrs func(*Socket) bool) ([]OwnSocket, error) {
	dfd, err := unix.Open(selfFD, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: selfFD, Err: err}
	}
	defer unix.Close(dfd)
	buf := make([]byte, 32<<10)
	for {
		n, err := unix.Getdents(dfd, buf)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "getdents", Path: selfFD, Err: err}
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
			if err != nil || int(fd) == dfd || int(fd) < from {
				continue // ".", "..", the directory being read, or probed
			}
			if s, _, ok := ownSocket(int(fd), addrs); ok {
				out = append(out, s)
			}
		}
	}
}

// ownSocket reads the TCP socket at descriptor fd, and its addresses if
// addrs says so; ok is false when fd is not one (another kind of file,
// another protocol, or closed meanwhile), and open is false when fd is
// not open at all.
func ownSocket(fd int, addrs func(*Socket) bool) (s OwnSocket, open, ok bool) {
	// TCP_INFO first: only TCP answers it (a file says ENOTSOCK, UDP
	// ENOPROTOOPT, AF_UNIX EOPNOTSUPP), and no other file is then
	// touched, as an fstat of a file on a dead NFS mount could block. The
	// kernel copies no more of tcp_info than the times this reads.
	//
	// Both calls are raw, which the Go scheduler does not hear of, as
	// readlinkat's in the fd walk: neither does I/O, TCP_INFO waits at
	// most for a socket call in flight to let go of the socket's lock, and
	// an fstat in sockfs never waits; the scheduler's bookkeeping around
	// each call was 12% of a check's CPU (docs/performance.md).
	var info [tcpInfoLastAckRecv + 4]byte
	n := uint32(len(info))
	_, _, errno := unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.IPPROTO_TCP, unix.TCP_INFO,
		uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&n)), 0)
	if errno != 0 || n < 1 {
		return s, errno != unix.EBADF, false
	}
	var st unix.Stat_t
	if _, _, e := unix.RawSyscall(unix.SYS_FSTAT, uintptr(fd), uintptr(unsafe.Pointer(&st)), 0); e != 0 {
		return s, false, false // closed meanwhile
	}
	s = OwnSocket{FD: fd, Socket: Socket{State: TCPState(info[0]), Inode: st.Ino}} // tcpi_state
	decodeTCPInfo(info[:min(n, uint32(len(info)))], &s.Socket)
	if addrs != nil && !addrs(&s.Socket) {
		return s, true, true
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return s, true, false
	}
	if s.Local, s.Proto, ok = sockaddrPort(sa); !ok {
		return s, true, false
	}
	if sa, err := unix.Getpeername(fd); err == nil { // ENOTCONN: a listener
		s.Remote, _, _ = sockaddrPort(sa)
	}
	return s, true, true
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
