//go:build !linux

package client

import (
	"errors"
	"net"

	"github.com/sockleak/sockleak/inspect"
)

// KernelState needs Linux's TCP_INFO; elsewhere the trace shows no state.
func KernelState(c *net.TCPConn) (inspect.TCPState, error) {
	return 0, errors.New("TCP_INFO state: Linux only")
}
