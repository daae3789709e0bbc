//go:build linux

package watch

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/livetest"
)

// TestWatchLeaksNothingItself samples this very process hundreds of times
// with the real inspect engine through Monitor.Run, feeding the exporter
// and scraping /metrics over loopback after every sample: its own
// descriptor count (as inspect reads it) and goroutine count must not
// creep up.
func TestWatchLeaksNothingItself(t *testing.T) {
	livetest.Skip(t)
	fsys, err := inspect.NewFS(inspect.DefaultRoot)
	if err != nil {
		t.Skip(err)
	}
	// A socket of our own for the scan to find and join to us.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	self := os.Getpid()
	opts := inspect.Options{PIDs: []int{self}, States: []inspect.TCPState{inspect.Listen}}
	sampler := NewSampler(fsys.Root(), func(ctx context.Context) (*inspect.Snapshot, error) { return inspect.Scan(ctx, fsys, opts) })

	const n, warmup = 400, 20
	tick := make(chan time.Time, n)
	for range n {
		tick <- time.Now()
	}
	e := NewExporter(DefaultMaxWorkloads, false)
	scrape := keepAliveScraper(t, e)
	scrape() // the keep-alive connection, open from the first sample on

	var fds, goroutines []int
	m := NewMonitor(Config{Window: time.Minute, Thresholds: Thresholds{CloseWait: 0, MaxAge: time.Second, FDUsage: 80, ETA: time.Minute}})
	err = m.Run(context.Background(), RunConfig{Count: n, Sample: sampler, Tick: tick}, func(st *Status) error {
		if st.Err != nil {
			t.Fatalf("sample %d: %v", st.Seq, st.Err)
		}
		e.Update(st)
		scrape()
		if len(st.Processes) != 1 || st.Processes[0].PID != self || st.Processes[0].States[inspect.Listen] != 2 {
			t.Fatalf("sample %d: processes %+v, want this one with its listener and the exporter's", st.Seq, st.Processes)
		}
		fds = append(fds, st.Processes[0].FDs)
		goroutines = append(goroutines, settledGoroutines(goroutines))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) != n {
		t.Fatalf("%d samples, want %d", len(fds), n)
	}
	after := fds[warmup:]
	if lo, hi := slices.Min(after), slices.Max(after); lo != hi || hi > fds[0] {
		t.Errorf("own fds vary after %d samples: %d..%d (first sample %d)", warmup, lo, hi, fds[0])
	}
	g := goroutines[warmup:]
	if lo, hi := slices.Min(g), slices.Max(g); lo != hi || hi > goroutines[0] {
		t.Errorf("own goroutines vary after %d samples: %d..%d (first sample %d)", warmup, lo, hi, goroutines[0])
	}
	t.Logf("%d samples: fds %d, goroutines %d, constant after %d samples", n, fds[n-1], goroutines[n-1], warmup)
}

// keepAliveScraper serves e as watch --listen does, and returns a scrape
// of its /metrics by a client that keeps its connection alive, as
// Prometheus does. Cleanup closes both.
func keepAliveScraper(t *testing.T, e *Exporter) (scrape func()) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	srv := httptest.NewServer(Handler(reg, func() error { return nil }))
	t.Cleanup(srv.Close)
	client := srv.Client()
	t.Cleanup(client.CloseIdleConnections)
	return func() {
		resp, err := client.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: %s", resp.Status)
		}
	}
}

// settledGoroutines counts goroutines once the scan's workers have
// exited: they signal the WaitGroup a moment before they are gone, so a
// count right after a scan can include one. It waits up to 100 ms for the
// count to fall back to the first sample's, as goleak retries.
func settledGoroutines(before []int) int {
	n := runtime.NumGoroutine()
	if len(before) == 0 {
		time.Sleep(10 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	for deadline := time.Now().Add(100 * time.Millisecond); n > before[0] && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(time.Millisecond)
	}
	return n
}
