// Package mainclean is a package whose test closes what it opens:
// VerifyTestMain passes it.
package mainclean

import (
	"net"
	"testing"

	"github.com/sockleak/sockleak/socktest"
)

func TestMain(m *testing.M) { socktest.VerifyTestMain(m) }

func TestCloses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
}
