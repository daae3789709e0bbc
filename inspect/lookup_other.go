//go:build !linux

package inspect

import (
	"context"
	"net/netip"

	gnet "github.com/shirou/gopsutil/v4/net"
)

// LookupSocket finds the one TCP socket from local to remote among the
// system's connections (gopsutil). ok is false when none is listed: on
// macOS lsof lists only sockets a process holds, so a TIME_WAIT socket or
// an orphan reads as gone there.
func LookupSocket(local, remote netip.AddrPort) (s Socket, ok bool, err error) {
	conns, err := gnet.ConnectionsWithoutUidsWithContext(context.Background(), "tcp")
	if err != nil {
		return Socket{}, false, err
	}
	for _, c := range conns {
		if s, ok := fromConnection(c); ok && s.Local == local && s.Remote == remote {
			return s, true, nil
		}
	}
	return Socket{}, false, nil
}
