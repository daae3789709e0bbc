// Package leaky is the scratch module's tests of socktest.VerifyNone:
// scratch_linux_test.go runs them and checks which fail, and how.
package leaky

import (
	"net"
	"testing"
	"time"

	"example.com/scratch/loopback"
	"github.com/sockleak/sockleak/socktest"
)

// dialer and listenConfig record where each socket was opened; no
// keepalive probe may reset a leaked socket before the check sees it.
var (
	dialer       = net.Dialer{KeepAlive: -1, Control: socktest.Control}
	listenConfig = net.ListenConfig{KeepAlive: -1, Control: socktest.Control}
)

func listen(t *testing.T) net.Listener { return loopback.Listen(t, &listenConfig) }

func closedByPeer(t *testing.T, ln net.Listener) net.Conn {
	t.Helper()
	return loopback.ClosedByPeer(t, &dialer, ln)
}

const wait = 200 * time.Millisecond

func TestLeak(t *testing.T) {
	defer socktest.VerifyNone(t, socktest.IgnoreCurrent(), socktest.MaxWait(wait))
	ln := listen(t)
	defer ln.Close()
	closedByPeer(t, ln) // never closed
}

func TestClose(t *testing.T) {
	defer socktest.VerifyNone(t, socktest.IgnoreCurrent(), socktest.MaxWait(wait))
	ln := listen(t)
	defer ln.Close()
	c := closedByPeer(t, ln)
	c.Close()
}

func TestListenerLeak(t *testing.T) {
	pre := listen(t)
	defer pre.Close()
	defer socktest.VerifyNone(t, socktest.IgnoreCurrent(), socktest.MaxWait(wait))
	leaked := listen(t) // never closed
	t.Logf("PRE %s LEAKED %s", pre.Addr(), leaked.Addr())
}

func TestIgnorePorts(t *testing.T) {
	base := socktest.IgnoreCurrent()
	ln := listen(t)
	defer socktest.VerifyNone(t, base, socktest.MaxWait(wait), socktest.IgnorePorts(uint16(ln.Addr().(*net.TCPAddr).Port)))
	closedByPeer(t, ln) // both ignored
}

func TestIgnorePeersAndListeners(t *testing.T) {
	base := socktest.IgnoreCurrent()
	ln := listen(t)
	defer socktest.VerifyNone(t, base, socktest.MaxWait(wait), socktest.IgnorePeers(ln.Addr().String()), socktest.IgnoreListeners())
	closedByPeer(t, ln)
}

func TestIgnoreStates(t *testing.T) {
	defer socktest.VerifyNone(t, socktest.IgnoreCurrent(), socktest.MaxWait(wait), socktest.IgnoreStates("CLOSE_WAIT", "LISTEN"))
	closedByPeer(t, listen(t))
}

func TestIgnoreOnlyOthers(t *testing.T) {
	defer socktest.VerifyNone(t, socktest.IgnoreCurrent(), socktest.MaxWait(wait), socktest.IgnorePeers("192.0.2.1"), socktest.IgnorePorts(1))
	ln := listen(t)
	defer ln.Close()
	closedByPeer(t, ln) // never closed
}
