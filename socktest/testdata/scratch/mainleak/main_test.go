// Package mainleak is a package whose test leaks a connection and passes:
// VerifyTestMain fails the package.
package mainleak

import (
	"net"
	"testing"
	"time"

	"example.com/scratch/loopback"
	"github.com/sockleak/sockleak/socktest"
)

func TestMain(m *testing.M) {
	socktest.VerifyTestMain(m, socktest.MaxWait(200*time.Millisecond))
}

func TestLeaksAndPasses(t *testing.T) {
	ln := loopback.Listen(t, &net.ListenConfig{KeepAlive: -1})
	defer ln.Close()
	loopback.ClosedByPeer(t, &net.Dialer{KeepAlive: -1}, ln) // never closed
}
