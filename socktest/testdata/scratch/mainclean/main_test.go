// Package mainclean is a package whose test closes what it opens:
// VerifyTestMain passes it.
package mainclean

import (
	"net"
	"testing"

	"example.com/scratch/loopback"
	"github.com/sockleak/sockleak/socktest"
)

func TestMain(m *testing.M) { socktest.VerifyTestMain(m) }

func TestCloses(t *testing.T) {
	ln := loopback.Listen(t, &net.ListenConfig{})
	defer ln.Close()
	c, a := loopback.Connect(t, &net.Dialer{}, ln)
	defer c.Close()
	defer a.Close()
}
