// Package loopback opens the scratch module's sockets on 127.0.0.1.
package loopback

import (
	"io"
	"net"
	"testing"
)

// Listen listens on 127.0.0.1 with lc; the caller closes it, or not.
func Listen(t *testing.T, lc *net.ListenConfig) net.Listener {
	t.Helper()
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// Connect dials ln with d and accepts: the two ends of a connection.
func Connect(t *testing.T, d *net.Dialer, ln net.Listener) (c, a net.Conn) {
	t.Helper()
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if a, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	return c, a
}

// ClosedByPeer dials ln with d and closes the server's end: the client's
// end is in CLOSE_WAIT until it is closed. It logs both addresses.
func ClosedByPeer(t *testing.T, d *net.Dialer, ln net.Listener) net.Conn {
	t.Helper()
	c, a := Connect(t, d, ln)
	a.Close()
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read: %v, want EOF", err)
	}
	t.Logf("LOCAL %s PEER %s", c.LocalAddr(), c.RemoteAddr())
	return c
}
