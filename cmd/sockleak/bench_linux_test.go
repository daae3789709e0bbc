package main

import (
	"io"
	"testing"
)

// BenchmarkInspectLive runs sockleak inspect on this host, table and JSON,
// as a user does, minus the process start. Its figure depends on the
// host's sockets (run it beside bench/loadgen); it is here for profiles of
// the whole command (-cpuprofile, -memprofile), not for a fixed number:
// bench/compare.sh gives the figures against ss.
func BenchmarkInspectLive(b *testing.B) {
	for _, args := range [][]string{{"inspect"}, {"inspect", "-o", "json"}} {
		b.Run(args[len(args)-1], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if code := Main(args, io.Discard, io.Discard); code != 0 {
					b.Fatalf("sockleak %v: exit status %d", args, code)
				}
			}
		})
	}
}
