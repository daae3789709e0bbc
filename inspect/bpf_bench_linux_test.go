package inspect

import (
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// BenchmarkBPFLoad is the iterator's load cost: spec, kernel BTF for CO-RE,
// verification, attach (the first scan of a process pays it).
func BenchmarkBPFLoad(b *testing.B) {
	skipWithoutBPF(b)
	for b.Loop() {
		it, err := newBPFIter()
		if err != nil {
			b.Fatal(err)
		}
		it.link.Close()
		it.objs.Close()
	}
}

// BenchmarkBPFIterate is one run of the loaded iterator over the host.
func BenchmarkBPFIterate(b *testing.B) {
	skipWithoutBPF(b)
	it, err := loadBPF()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { releaseBPF() })
	n := 0
	for b.Loop() {
		n = 0
		if err := it.run(func(fdRecord) { n++ }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n), "fds")
}

func skipWithoutBPF(tb testing.TB) {
	tb.Helper()
	if err := bpfRequire(); err != nil {
		tb.Skipf("the bpf backend cannot run here: %v", err)
	}
}

// BenchmarkBPFTCPIter compares the ways to read this host's TCP sockets
// into Sockets, in one run: the sock_diag dump as Scan asks for it (both
// families, tcp_info for the age bound), the same dump without tcp_info,
// and the iter/tcp program (the same fields, ages included). cpu-ns/op is
// this thread's CPU, where the kernel does both's work (in read). The
// "+owners" runs read beside the task_file iterator, on another thread, as
// the bpf backend's scan does: their time is the pair's. Run it beside
// bench/loadgen for a landscape.
func BenchmarkBPFTCPIter(b *testing.B) {
	skipWithoutBPF(b)
	it, err := newTCPIter()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { it.Close() })
	c, err := newDiagConn()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	owners, err := loadBPF()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { releaseBPF() })
	dumpInfo := func(fn func(*Socket)) error { return c.dump(unix.AF_UNSPEC, allStates, true, fn) }
	iter := func(fn func(*Socket)) error { return it.run(allStates, fn) }
	beside := func(read func(fn func(*Socket)) error) func(fn func(*Socket)) error {
		return func(fn func(*Socket)) error {
			done := make(chan error)
			go func() { done <- owners.run(func(fdRecord) {}) }()
			return errors.Join(read(fn), <-done)
		}
	}
	for _, bc := range []struct {
		name string
		read func(fn func(*Socket)) error
	}{
		{"dump-info", dumpInfo},
		{"dump", func(fn func(*Socket)) error { return c.dump(unix.AF_UNSPEC, allStates, false, fn) }},
		{"iter", iter},
		{"iter-none", func(fn func(*Socket)) error { return it.run(0, fn) }},
		{"dump-info+owners", beside(dumpInfo)},
		{"iter+owners", beside(iter)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			done := threadCPU(b)
			var socks []Socket
			for b.Loop() {
				socks = socks[:0]
				if err := bc.read(func(s *Socket) { socks = append(socks, *s) }); err != nil {
					b.Fatal(err)
				}
			}
			done()
			b.ReportMetric(float64(len(socks)), "sockets")
		})
	}
}

// BenchmarkBPFTaskFileSock is a probe for issue 14's one-pass design: the
// task_file iterator as the bpf backend runs it ("plain"), and a variant
// that also reads each TCP socket's fields there ("sock",
// bpf/task_file_sock.c), one run. cpu-ns/op is this thread's CPU.
func BenchmarkBPFTaskFileSock(b *testing.B) {
	skipWithoutBPF(b)
	plain, err := newBPFIter()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { plain.link.Close(); plain.objs.Close() })
	var objs taskFileSockObjects
	if err := loadTaskFileSockObjects(&objs, nil); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { objs.Close() })
	l, err := link.AttachIter(link.IterOptions{Program: objs.SockleakTaskFileSock})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	buf := make([]byte, 0, 16<<20)
	readAll := func(l *link.Iter) ([]byte, error) {
		r, err := l.Open()
		if err != nil {
			return nil, err
		}
		defer r.Close()
		buf = buf[:0]
		for {
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)]
			}
			n, err := r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				return buf, nil
			}
			if err != nil {
				return nil, err
			}
		}
	}
	for _, bc := range []struct {
		name  string
		link  *link.Iter
		count func([]byte) (fds, socks int)
	}{
		{"plain", plain.link, func(b []byte) (int, int) {
			n := 0
			_ = decodeFDRecords(b, func(r fdRecord) {
				if r.ino != 0 {
					n++
				}
			})
			return len(b) / fdRecordSize, n
		}},
		{"sock", l, func(b []byte) (fds, socks int) {
			var s Socket
			for len(b) >= fdRecordSize {
				fd := binary.NativeEndian.Uint32(b[4:])
				b = b[fdRecordSize:]
				fds++
				if fd&(1<<31) != 0 && len(b) >= tcpRecordSize {
					_ = decodeTCPRecords(b[:tcpRecordSize], &s, func(*Socket) { socks++ })
					b = b[tcpRecordSize:]
				}
			}
			return fds, socks
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			done := threadCPU(b)
			fds, socks := 0, 0
			for b.Loop() {
				out, err := readAll(bc.link)
				if err != nil {
					b.Fatal(err)
				}
				fds, socks = bc.count(out)
			}
			done()
			b.ReportMetric(float64(fds), "fds")
			b.ReportMetric(float64(socks), "sockets")
		})
	}
}
