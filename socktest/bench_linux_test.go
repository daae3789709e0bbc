package socktest

import (
	"net"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// openSockets opens TCP sockets on loopback until this process holds
// about n descriptors, and returns a function that closes them.
func openSockets(b *testing.B, n int) func() {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var conns []net.Conn
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
		ln.Close()
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		closeAll()
		b.Fatal(err)
	}
	for have := len(ents); have+2 <= n; have += 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			closeAll()
			b.Fatal(err)
		}
		a, err := ln.Accept()
		if err != nil {
			closeAll()
			b.Fatal(err)
		}
		conns = append(conns, c, a)
	}
	return closeAll
}

// BenchmarkVerify is the cost of a passing check deferred in a test
// whose process holds 1000 descriptors, nearly all TCP sockets, against
// a baseline. The fstat sub-benchmark, one system call per descriptor,
// is the floor any reader of this process's descriptors pays: compare
// the two from the same run.
func BenchmarkVerify(b *testing.B) {
	defer openSockets(b, 1000)()
	b.Run("Find", func(b *testing.B) {
		base := IgnoreCurrent()
		for b.Loop() {
			if err := Find(base, MaxWait(0)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fstat-each-fd", func(b *testing.B) {
		var st unix.Stat_t
		for b.Loop() {
			for fd := range 1000 {
				unix.Fstat(fd, &st)
			}
		}
	})
}
