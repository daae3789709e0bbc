package client

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/inspect"
)

// lookupState asks the kernel for the one TCP socket local→remote with a
// sock_diag exact lookup (inet_diag_req_v2 without NLM_F_DUMP, as ss does
// for a single socket). The kernel finds it in its established hash, which
// holds TIME_WAIT sockets too, so the cost does not grow with the number of
// sockets on the host, unlike reading /proc/net/tcp. It returns 0 when the
// kernel holds no such socket.
//
// Layouts: include/uapi/linux/inet_diag.h (inet_diag_req_v2,
// inet_diag_sockid, inet_diag_msg); lookup in net/ipv4/inet_diag.c
// (inet_diag_find_one_icsk): idiag_src is the local end, idiag_dst the
// remote one.
func lookupState(local, remote netip.AddrPort) (inspect.TCPState, error) {
	la, ra := local.Addr().Unmap(), remote.Addr().Unmap()
	family := uint8(unix.AF_INET)
	if !la.Is4() || !ra.Is4() {
		family = unix.AF_INET6
		la, ra = netip.AddrFrom16(la.As16()), netip.AddrFrom16(ra.As16())
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return 0, os.NewSyscallError("socket(NETLINK_SOCK_DIAG)", err)
	}
	defer unix.Close(fd)

	const sizeofNlMsghdr, sizeofReq = 16, 56
	var req [sizeofNlMsghdr + sizeofReq]byte
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(req[8:], 1) // seq
	r := req[sizeofNlMsghdr:]
	r[0] = family
	r[1] = unix.IPPROTO_TCP
	ne.PutUint32(r[4:], ^uint32(0)) // every state
	id := r[8:]
	binary.BigEndian.PutUint16(id[0:], local.Port())
	binary.BigEndian.PutUint16(id[2:], remote.Port())
	copy(id[4:20], la.AsSlice())
	copy(id[20:36], ra.AsSlice())
	ne.PutUint32(id[40:], ^uint32(0)) // INET_DIAG_NOCOOKIE
	ne.PutUint32(id[44:], ^uint32(0))
	if err := unix.Sendto(fd, req[:], 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, os.NewSyscallError("sendto(NETLINK_SOCK_DIAG)", err)
	}
	buf := make([]byte, 8192)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, os.NewSyscallError("recvfrom(NETLINK_SOCK_DIAG)", err)
		}
		if n < sizeofNlMsghdr {
			return 0, errors.New("sock_diag: short netlink message")
		}
		msg := buf[sizeofNlMsghdr:n]
		switch ne.Uint16(buf[4:]) {
		case unix.NLMSG_ERROR:
			if len(msg) >= 4 {
				switch errno := unix.Errno(-int32(ne.Uint32(msg))); errno {
				case 0:
					return 0, nil
				case unix.ENOENT:
					return 0, nil // no such socket
				default:
					return 0, os.NewSyscallError("sock_diag", errno)
				}
			}
			return 0, errors.New("sock_diag: short error message")
		case unix.SOCK_DIAG_BY_FAMILY:
			if len(msg) < 4+36 {
				return 0, errors.New("sock_diag: short inet_diag_msg")
			}
			// Where no connection matches, the kernel's lookup falls back to
			// a listening socket on the port: that is not the one asked for.
			rid := msg[4:]
			if binary.BigEndian.Uint16(rid[2:]) != remote.Port() || !bytes.Equal(rid[20:20+len(ra.AsSlice())], ra.AsSlice()) {
				return 0, nil
			}
			return inspect.TCPState(msg[1]), nil
		}
	}
}
