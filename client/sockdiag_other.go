//go:build !linux

package client

import (
	"errors"
	"net/netip"

	"github.com/sockleak/sockleak/inspect"
)

func lookupState(local, remote netip.AddrPort) (inspect.TCPState, error) {
	return 0, errors.New("sock_diag: Linux only")
}
