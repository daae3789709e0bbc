package trace

import (
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// The overhead of a recording, as ratios of traced to untraced runs of the
// same benchmark in one go test run (docs/performance.md):
//
//	go test -run XXX -bench . -benchtime 20000x ./trace
//
// Each needs root; without it the traced half is skipped.

// churner opens and closes loopback connections: dial, accept, then the
// client resets (SO_LINGER 0), so that no TIME_WAIT piles up at 10k
// connections per second. Two sockets get a descriptor per connection,
// and each passes through three or four states.
type churner struct {
	ln net.Listener
	d  net.Dialer
}

func newChurner(b *testing.B) *churner {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	return &churner{ln: ln, d: net.Dialer{KeepAlive: -1}}
}

func (c *churner) once(b *testing.B) {
	cl, err := c.d.Dial("tcp", c.ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	sv, err := c.ln.Accept()
	if err != nil {
		b.Fatal(err)
	}
	_ = cl.(*net.TCPConn).SetLinger(0)
	cl.Close()
	sv.Close()
}

// traced runs fn under a recording of every process (as sockleak trace
// runs without --pid), with the kernel's per-program statistics on, and
// reports each program's cost per run: set_state per state change,
// destroy per socket destroyed, and sys_exit split into its two paths.
// Every syscall on the host runs sys_exit; for all but socket, accept and
// accept4 it returns at once (filter-ns/syscall, measured on getppid just
// before fn), and the rest is the recording of a socket: open-ns/socket,
// sys_exit's time less the filter's share, per socket the counters say
// were opened.
func traced(b *testing.B, fn func(b *testing.B)) {
	b.Helper()
	defer statsOn(b).Close()
	r, err := Start(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.close()
	filter := filterCost(b, r.objs.OnSysExit)
	before := progStats(b, r)
	opened0, _ := r.counters()
	b.ResetTimer()
	fn(b)
	b.StopTimer()
	after := progStats(b, r)
	opened1, _ := r.counters()
	var total time.Duration
	for name, st := range after {
		d := st.Runtime - before[name].Runtime
		n := st.RunCount - before[name].RunCount
		total += d
		if name != "sys_exit" && n > 0 {
			b.ReportMetric(float64(d.Nanoseconds())/float64(n), name+"-ns/run")
		}
	}
	sx, sx0 := after["sys_exit"], before["sys_exit"]
	// Only where the benchmark opens sockets: elsewhere the few the host
	// opened meanwhile would be divided into everything else.
	if opened := opened1.Opened - opened0.Opened; opened >= uint64(b.N) {
		rest := float64((sx.Runtime - sx0.Runtime).Nanoseconds()) - filter*float64(sx.RunCount-sx0.RunCount-opened)
		b.ReportMetric(rest/float64(opened), "open-ns/socket")
	}
	b.ReportMetric(filter, "filter-ns/syscall")
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "host-bpf-ns/op")
	if c := opened1; c.DroppedFull+c.DroppedStack > 0 {
		b.Logf("dropped on the host meanwhile: %+v", c)
	}
}

// statsOn turns the kernel's per-program run times on until Close, or
// skips b when BPF programs cannot be loaded here.
func statsOn(b *testing.B) io.Closer {
	b.Helper()
	if err := preflight(); err != nil {
		b.Skipf("cannot load BPF programs: %v", err)
	}
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		b.Skipf("BPF run-time statistics: %v", err)
	}
	return stats
}

func progStats(b *testing.B, r *Recorder) map[string]*ebpf.ProgramStats {
	b.Helper()
	out := map[string]*ebpf.ProgramStats{}
	for name, p := range map[string]*ebpf.Program{"sys_exit": r.objs.OnSysExit, "set_state": r.objs.OnSetState, "destroy": r.objs.OnDestroy} {
		st, err := p.Stats()
		if err != nil {
			b.Fatal(err)
		}
		out[name] = st
	}
	return out
}

// filterCost is sys_exit's time per run over 100,000 getppid calls: the
// path of a syscall it does not record (a few other processes' syscalls
// fall in the window too, on their own early path as well).
func filterCost(b *testing.B, p *ebpf.Program) float64 {
	b.Helper()
	st0, err := p.Stats()
	if err != nil {
		b.Fatal(err)
	}
	for range 100000 {
		syscall.Getppid()
	}
	st1, err := p.Stats()
	if err != nil {
		b.Fatal(err)
	}
	return float64((st1.Runtime - st0.Runtime).Nanoseconds()) / float64(st1.RunCount-st0.RunCount)
}

// BenchmarkChurn: one connection opened and reset per op, as fast as it
// goes: the time a connection costs, and what the programs add to it.
func BenchmarkChurn(b *testing.B) {
	run := func(b *testing.B) {
		c := newChurner(b)
		b.ResetTimer()
		for range b.N {
			c.once(b)
		}
	}
	b.Run("untraced", run)
	b.Run("traced", func(b *testing.B) { traced(b, run) })
}

// BenchmarkChurn10k: connections at 10,000 per second, paced; reports the
// CPU this process used (user and system, which holds the programs' runs
// in its syscalls and its loopback softirqs) as a percentage of one core.
// Run it with -benchtime 20000x (two seconds).
func BenchmarkChurn10k(b *testing.B) {
	const every = 100 * time.Microsecond
	run := func(b *testing.B) {
		c := newChurner(b)
		before := cpuTime(b)
		start := time.Now()
		b.ResetTimer()
		for i := range b.N {
			if ahead := time.Until(start.Add(time.Duration(i) * every)); ahead > time.Millisecond {
				time.Sleep(ahead)
			}
			c.once(b)
		}
		b.StopTimer()
		wall := time.Since(start)
		b.ReportMetric(100*float64(cpuTime(b)-before)/float64(wall), "cpu-%")
		b.ReportMetric(float64(b.N)/wall.Seconds(), "conn/s")
	}
	b.Run("untraced", run)
	b.Run("traced", func(b *testing.B) { traced(b, run) })
	b.Run("traced-no-stats", func(b *testing.B) { tracedBare(b, run) })
}

// tracedBare runs fn while a Recorder records, as sockleak trace does:
// without the kernel's run-time statistics, whose two clock reads a run
// traced adds to what it measures.
func tracedBare(b *testing.B, fn func(b *testing.B)) {
	b.Helper()
	if err := preflight(); err != nil {
		b.Skipf("cannot load BPF programs: %v", err)
	}
	r, err := Start(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.close()
	b.ResetTimer()
	fn(b)
}

// BenchmarkSyscall: a syscall that is none of socket, accept and accept4:
// what the sys_exit program adds to every syscall on the host.
func BenchmarkSyscall(b *testing.B) {
	run := func(b *testing.B) {
		for range b.N {
			syscall.Getppid()
		}
	}
	b.Run("untraced", run)
	b.Run("traced", func(b *testing.B) { traced(b, run) })
	b.Run("empty-program", func(b *testing.B) { emptyOnSysExit(b, run) })
}

// emptyOnSysExit runs fn with a program that does nothing attached where
// sys_exit is, and reports its run time per run as the kernel's statistics
// count it: the floor under filter-ns/syscall (the statistics' own clock
// reads, the tracepoint's dispatch), to subtract from it.
func emptyOnSysExit(b *testing.B, fn func(b *testing.B)) {
	defer statsOn(b).Close()
	p, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.Tracing, AttachType: ebpf.AttachTraceRawTp, AttachTo: "sys_exit", License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	l, err := link.AttachTracing(link.TracingOptions{Program: p})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	st0, _ := p.Stats()
	b.ResetTimer()
	fn(b)
	b.StopTimer()
	st1, _ := p.Stats()
	b.ReportMetric(float64((st1.Runtime-st0.Runtime).Nanoseconds())/float64(st1.RunCount-st0.RunCount), "empty-ns/run")
}

// cpuTime is this process's CPU time so far, user and system.
func cpuTime(b *testing.B) time.Duration {
	b.Helper()
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
