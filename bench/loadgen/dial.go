//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// sourceIP is the source address of worker w's k-th connection:
// 127.(2+w).b.c, a new one every perIP connections.
func sourceIP(w, k, perIP int) net.IP {
	i := k / perIP
	return net.IPv4(127, byte(2+w), byte(i/254), byte(i%254+1))
}

// dial makes connection k of the worker's plan.
func dial(s spec, k int, lns []net.Listener) error {
	d := net.Dialer{
		LocalAddr: &net.TCPAddr{IP: sourceIP(s.Index, k, s.PerIP)},
		KeepAlive: -1, // a keepalive probe would reset a CLOSE_WAIT socket
		Timeout:   30 * time.Second,
	}
	var ln net.Listener
	switch {
	case k < s.Established:
		ln = lns[0]
	case k < s.Established+s.CloseWait:
		ln = lns[1]
	default:
		ln = lns[2]
	}
	c, err := d.Dial("tcp4", ln.Addr().String())
	if err != nil {
		return fmt.Errorf("dial %s from %s: %w", ln.Addr(), d.LocalAddr, err)
	}
	switch ln {
	case lns[0]:
		hold(c)
	case lns[1]:
		// The leak. Wait for the server's FIN: this end is then in
		// CLOSE_WAIT, and stays there, held (no finalizer closes it) and
		// never closed; the dialer has no keepalive (no probe resets it).
		//
		// client.LeakyClient leaks the same way, but it is not the tool
		// for a landscape: (1) it makes one kind of socket in three: the
		// ESTABLISHED and TIME_WAIT dials would still come here; (2) each
		// leak would be a whole exchange (a context.AfterFunc, two
		// deadlines, a 4 KiB read buffer, a classified *client.Error)
		// where this is a 1-byte read, 12,500 times in a 100k landscape;
		// (3) its CloseLeaked closes with a FIN, which would send every
		// held FIN_WAIT2 peer to TIME_WAIT: loadgen would still reset them
		// itself (resetAll); (4) it dials from whatever address the
		// kernel picks, where loadgen binds its 127.x.y.z sources.
		var b [1]byte
		if _, err := c.Read(b[:]); !errors.Is(err, io.EOF) {
			return fmt.Errorf("close-wait conn: want EOF, got %v", err)
		}
		hold(c)
	default:
		c.Close()
	}
	return nil
}
