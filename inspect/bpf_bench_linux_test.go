package inspect

import (
	"testing"
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
