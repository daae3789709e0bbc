//go:build linux

// Command loadgen builds a TCP socket landscape on loopback for the sockleak
// benchmark (bench/compare.sh): N sockets over several worker processes, in
// a mix of ESTABLISHED pairs, leaked CLOSE_WAIT with held FIN_WAIT2 peers,
// TIME_WAIT and LISTEN.
//
// Each worker is this program re-executed with a hidden flag. It raises its
// soft open-files limit to the hard limit, listens on its own 127.0.0.1
// ports and connects to itself from 127.x.y.z source addresses (rotated
// well before the ephemeral port range runs out), so both ends of every
// connection belong to it and the truth per pid is simple:
//
//   - ESTABLISHED: a pair, both ends held.
//   - CLOSE_WAIT + FIN_WAIT2: the server end calls CloseWrite (shutdown
//     SHUT_WR) and holds the conn: an owned FIN_WAIT2 never times out. The
//     client end reads the FIN and never closes: CLOSE_WAIT.
//   - TIME_WAIT: the client closes first, then the server; the client end
//     lingers 60 s owned by no process.
//   - LISTEN: a few per worker.
//
// When everything is up, loadgen prints the ground truth as JSON to stdout
// (and to -truth FILE), then "ready" to stderr, and holds every socket until
// stdin closes or it gets SIGINT or SIGTERM. Then it stops its workers,
// which reset their connections (no TIME_WAIT left behind), and exits.
//
// The files: plan.go splits the landscape over the workers (spec);
// parent.go starts the workers and writes the truth, which settle.go first
// checks against /proc/net/tcp; worker.go builds and holds one worker's
// sockets, dial.go makes its connections and timewait.go renews its
// TIME_WAIT sockets.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
)

const listenAddr = "127.0.0.1"

func main() {
	fs := flag.CommandLine
	n := fs.Int("n", 10000, "sockets to create in all (LISTEN, both ends of every pair, TIME_WAIT)")
	workers := fs.Int("workers", 0, "worker processes (0: one per -per-worker sockets, at least 2)")
	perWorker := fs.Int("per-worker", 8000, "sockets per worker when -workers is 0")
	cwShare := fs.Float64("close-wait", 0.25, "share of sockets in leaked CLOSE_WAIT + held FIN_WAIT2 pairs")
	twShare := fs.Float64("time-wait", 0.10, "share of sockets in TIME_WAIT")
	listen := fs.Int("listen", 4, "LISTEN sockets per worker (at least 3)")
	perIP := fs.Int("per-ip", 5000, "connections per 127.x.y.z source address before the next one")
	conc := fs.Int("concurrency", 16, "dials in flight per worker")
	renewTW := fs.Bool("renew-time-wait", false, "replace each TIME_WAIT socket by a new one when it expires, so that their number stays about the same")
	truthFile := fs.String("truth", "", "also write the ground truth JSON to `FILE`")
	worker := fs.String("worker", "", "internal: run as a worker with this spec")
	fs.Usage = func() { usage(fs) }
	flag.Parse()
	if *worker != "" {
		var s spec
		if err := json.Unmarshal([]byte(*worker), &s); err != nil {
			fail(fmt.Errorf("bad worker spec: %w", err))
		}
		if err := runWorker(s); err != nil {
			fail(fmt.Errorf("worker %d: %w", s.Index, err))
		}
		return
	}
	specs, err := plan(*n, *workers, *perWorker, *cwShare, *twShare, *listen, *perIP, *conc, *renewTW)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		fs.Usage()
		os.Exit(2)
	}
	if err := runParent(specs, *truthFile); err != nil {
		fail(err)
	}
}

// usage prints the flags without the hidden -worker.
func usage(fs *flag.FlagSet) {
	out := fs.Output()
	fmt.Fprintf(out, "usage: loadgen [flags]\n\nBuilds a TCP socket landscape on loopback, prints its ground truth as JSON,\nprints \"ready\" to stderr and holds it until stdin closes or SIGINT/SIGTERM.\n\n")
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name == "worker" {
			return
		}
		name, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(out, "  -%s %s\n    \t%s", f.Name, name, usage)
		if f.DefValue != "" && f.DefValue != "false" {
			fmt.Fprintf(out, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(out)
	})
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}

// stdinClosed returns a channel closed when stdin reaches its end: the
// parent's and each worker's signal to stop.
func stdinClosed() <-chan struct{} {
	c := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(c) }()
	return c
}
