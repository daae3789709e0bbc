package client

import (
	"net"

	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/inspect"
)

// KernelState reads the state of c's socket from its own descriptor:
// tcpi_state from getsockopt(TCP_INFO). It numbers states as the kernel's
// tcp_states.h, as inspect.TCPState does.
func KernelState(c *net.TCPConn) (inspect.TCPState, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var info *unix.TCPInfo
	var serr error
	if err := rc.Control(func(fd uintptr) {
		info, serr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil {
		return 0, err
	}
	if serr != nil {
		return 0, serr
	}
	return inspect.TCPState(info.State), nil
}
