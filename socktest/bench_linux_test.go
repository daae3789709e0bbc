package socktest

import (
	"net"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openSockets opens TCP sockets on loopback until this process holds
// about n descriptors; they are closed at the benchmark's end.
func openSockets(b *testing.B, n int) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		b.Fatal(err)
	}
	for have := len(ents); have+2 <= n; have += 2 {
		connect(b, &net.Dialer{}, ln)
	}
}

// BenchmarkVerify is the cost of a passing check deferred in a test
// whose process holds 1000 descriptors, nearly all TCP sockets, against
// a baseline. The fstat sub-benchmark, one system call per descriptor,
// is the floor any reader of this process's descriptors pays: compare
// the two from the same run. cpu-ns/op is the process's CPU time (user
// and system) per call, which a busy shared machine inflates less than
// the time on the clock.
func BenchmarkVerify(b *testing.B) {
	openSockets(b, 1000)
	b.Run("Find", func(b *testing.B) {
		base := IgnoreCurrent()
		cpu := cpuTime(b)
		for b.Loop() {
			if err := Find(base, MaxWait(0)); err != nil {
				b.Fatal(err)
			}
		}
		cpu()
	})
	b.Run("fstat-each-fd", func(b *testing.B) {
		var st unix.Stat_t
		cpu := cpuTime(b)
		for b.Loop() {
			for fd := range 1000 {
				unix.Fstat(fd, &st)
			}
		}
		cpu()
	})
}

// cpuTime starts counting the process's CPU time; the function it returns
// reports it per op.
func cpuTime(b *testing.B) func() {
	b.Helper()
	used := func() time.Duration {
		var ru unix.Rusage
		if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := used()
	return func() { b.ReportMetric(float64(used()-start)/float64(b.N), "cpu-ns/op") }
}
