package report

import (
	"io"
	"net/netip"
	"testing"

	"github.com/sockleak/sockleak/inspect"
)

// benchSnapshot is a landscape like bench/loadgen's at n sockets: 13
// processes and 52 listeners on 127.0.0.1; of every 8 connections, one a
// leaked CLOSE_WAIT with its FIN_WAIT2 at the server, one a TIME_WAIT
// (the client's end alone, no owner), the rest ESTABLISHED at both ends.
func benchSnapshot(n int) *inspect.Snapshot {
	snap := &inspect.Snapshot{HostNetNS: 1}
	const procs, listeners = 13, 52
	for i := range procs {
		snap.Processes = append(snap.Processes, inspect.Process{PID: 1000 + i, Name: "loadgen", FDs: n / procs, FDSoftLimit: 20000})
	}
	server := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	for i := range listeners {
		l := netip.AddrPortFrom(server, uint16(40000+i))
		snap.Listeners = append(snap.Listeners, inspect.Listener{NetNS: 1, Addr: l})
		snap.Sockets = append(snap.Sockets, inspect.Socket{Proto: inspect.TCP, Local: l, State: inspect.Listen, Inode: uint64(i + 1), NetNS: 1, PIDs: []int{1000 + i%procs}})
	}
	for i := 0; len(snap.Sockets) < n; i++ {
		srv := netip.AddrPortFrom(server, uint16(40000+i%listeners))
		cli := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 1, byte(1 + i%13)}), uint16(32768+i%28000))
		if i%8 == 1 {
			snap.Sockets = append(snap.Sockets, inspect.Socket{Proto: inspect.TCP, Local: cli, Remote: srv, State: inspect.TimeWait, NetNS: 1})
			continue
		}
		cs, ss := inspect.Established, inspect.Established
		if i%8 == 0 {
			cs, ss = inspect.CloseWait, inspect.FinWait2
		}
		snap.Sockets = append(snap.Sockets, inspect.Socket{Proto: inspect.TCP, Local: cli, Remote: srv, State: cs, Inode: uint64(2*i + 100), NetNS: 1, PIDs: []int{1000 + i%procs}})
		snap.Sockets = append(snap.Sockets, inspect.Socket{Proto: inspect.TCP, Local: srv, Remote: cli, State: ss, Inode: uint64(2*i + 101), NetNS: 1, PIDs: []int{1000 + (i+1)%procs}})
	}
	return snap
}

// BenchmarkAnalyze groups and diagnoses 100k sockets, as inspect does once
// the scan is in.
func BenchmarkAnalyze(b *testing.B) {
	snap := benchSnapshot(100_000)
	b.ReportAllocs()
	for b.Loop() {
		r := Analyze(snap, DefaultThresholds)
		if len(r.Findings) == 0 || len(r.Groups) == 0 {
			b.Fatalf("%d findings, %d groups", len(r.Findings), len(r.Groups))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(snap.Sockets)), "ns/socket")
}

// BenchmarkCheckRanges weighs a 100k-socket report against check's
// thresholds as plain maximums and as plugin ranges (-w close-wait=~:20,
// -c close-wait=10:, and so on), and renders the plugin line: compare the
// two sub-benchmarks' ns/op, from the same run.
func BenchmarkCheckRanges(b *testing.B) {
	r := Analyze(benchSnapshot(100_000), DefaultThresholds)
	for _, bench := range []struct {
		name       string
		warn, crit []string
	}{
		{"plain", []string{"close-wait=5", "fin-wait-2=10", "established=1000"}, []string{"close-wait=20", "fd-usage=90"}},
		{"ranges", []string{"close-wait=~:5", "fin-wait-2=@10:", "established=10:1000"}, []string{"close-wait=20:", "fd-usage=~:90"}},
	} {
		l, err := CheckSettings{MaxCloseWait: -1, MaxFinWait2: -1, MaxFDUsage: -1, Warn: bench.warn, Crit: bench.crit}.Thresholds()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bench.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				vs := Check(r, l)
				if _, err := Nagios(io.Discard, r, l, vs); err != nil || len(vs) == 0 {
					b.Fatalf("%d violations, %v", len(vs), err)
				}
			}
		})
	}
}
