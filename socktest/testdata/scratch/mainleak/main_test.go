// Package mainleak is a package whose test leaks a connection and passes:
// VerifyTestMain fails the package.
package mainleak

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/sockleak/sockleak/socktest"
)

func TestMain(m *testing.M) {
	socktest.VerifyTestMain(m, socktest.MaxWait(200*time.Millisecond))
}

func TestLeaksAndPasses(t *testing.T) {
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	d := net.Dialer{KeepAlive: -1}
	c, err := d.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	a, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read: %v, want EOF", err)
	}
	t.Logf("LOCAL %s PEER %s", c.LocalAddr(), c.RemoteAddr()) // c is never closed
}
