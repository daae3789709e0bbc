package watch

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/livetest"
	"github.com/sockleak/sockleak/socktest"
)

// get fetches a path from the server and returns its status and body.
func get(t *testing.T, s *Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr().String() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestServe(t *testing.T) {
	livetest.Skip(t)
	// Shutdown closes the listener and every connection; the client's
	// pool then closes its ends (a moment later: VerifyNone waits).
	defer socktest.VerifyNone(t, socktest.IgnoreCurrent())
	if _, err := Serve(ServeOptions{Addr: "256.0.0.1:1", Interval: time.Second}, NewExporter(1, false)); err == nil {
		t.Error("Serve on a bad address: no error")
	}
	exp := NewExporter(1, false)
	s, err := Serve(ServeOptions{Addr: "127.0.0.1:0", Interval: time.Second}, exp)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, s, "/healthz"); code != http.StatusServiceUnavailable || body != "no sample yet\n" {
		t.Errorf("/healthz before a sample = %d %q", code, body)
	}
	st := exporterStatus(t)
	st.Time = time.Now()
	exp.Update(st)
	if code, body := get(t, s, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz after a sample = %d %q", code, body)
	}
	code, body := get(t, s, "/metrics")
	for _, want := range []string{
		"\nsockleak_sockets{state=\"close_wait\"} 7\n",
		"\nsockleak_build_info{goversion=\"" + runtime.Version() + "\",revision=",
		"\ngo_goroutines ", "\nprocess_open_fds ", "\nprocess_max_fds ",
	} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/metrics = %d without %q:\n%s", code, want, body)
		}
	}
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.Dial("tcp", s.Addr().String()); err == nil {
		conn.Close()
		t.Error("the server still listens after Close")
	}
}

// keepAlive opens a connection to s, has one request answered on it, and
// returns it, idle.
func keepAlive(t *testing.T, s *Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: sockleak\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return c
}

// closedWithin reports whether the server closes c within d.
func closedWithin(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := c.Read(make([]byte, 1))
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

func TestServeTimeouts(t *testing.T) {
	livetest.Skip(t)
	s, err := Serve(ServeOptions{Addr: "127.0.0.1:0", Interval: time.Second,
		ReadHeaderTimeout: 100 * time.Millisecond, IdleTimeout: 100 * time.Millisecond}, NewExporter(1, false))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown() //nolint:errcheck // the test's end
	if c := keepAlive(t, s); !closedWithin(c, 2*time.Second) {
		t.Error("an idle keep-alive connection outlived the idle timeout")
	}
	silent, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	if !closedWithin(silent, 2*time.Second) {
		t.Error("a connection that sent no request outlived the header timeout")
	}
}

// With every slot held by an idle keep-alive connection, a new client is
// served at once: the one idle the longest is closed to make room.
func TestServeConnectionCap(t *testing.T) {
	livetest.Skip(t)
	s, err := Serve(ServeOptions{Addr: "127.0.0.1:0", Interval: time.Second, MaxConns: 3}, NewExporter(1, false))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown() //nolint:errcheck // the test's end
	var idle []net.Conn
	for range 3 {
		idle = append(idle, keepAlive(t, s))
		time.Sleep(5 * time.Millisecond) // idle since different times
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + s.Addr().String() + "/healthz")
	if err != nil {
		t.Fatalf("/healthz with every slot held idle: %v", err)
	}
	resp.Body.Close()
	if !closedWithin(idle[0], time.Second) {
		t.Error("the connection idle the longest is still open")
	}
	if closedWithin(idle[2], 100*time.Millisecond) {
		t.Error("the connection idle the least was closed")
	}
}

// Scrapes that arrive while one is being rendered share its render.
func TestScrapeSharer(t *testing.T) {
	release := make(chan struct{})
	var renders atomic.Int32
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renders.Add(1)
		<-release
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "metrics "+r.Header.Get("Accept")+"\n")
	})
	s := newScrapeSharer(next, 5*time.Second)
	var wg sync.WaitGroup
	recs := make([]*httptest.ResponseRecorder, 20)
	for i := range recs {
		recs[i] = httptest.NewRecorder()
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept", "text/plain")
			s.ServeHTTP(recs[i], req)
		})
	}
	for deadline := time.Now().Add(5 * time.Second); renders.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the other scrapes arrive meanwhile
	close(release)
	wg.Wait()
	if n := renders.Load(); n < 1 || n > 2 {
		t.Errorf("%d renders for 20 concurrent scrapes, want 1 (2 if one came late)", n)
	}
	for i, rec := range recs {
		if rec.Code != http.StatusOK || rec.Body.String() != "metrics text/plain\n" || rec.Header().Get("Content-Type") != "text/plain" {
			t.Errorf("scrape %d: %d %q %v", i, rec.Code, rec.Body.String(), rec.Header())
		}
	}
}

func TestCapFromLimit(t *testing.T) {
	for _, tt := range []struct {
		limit uint64
		procs int
		want  int
	}{
		{256, 2, 92},       // (256 - 72) / 2: a quarter of the limit and more left to sampling
		{1024, 2, 128},     // at most maxConnsDefault
		{1 << 20, 64, 128}, // a container's usual limit
		{70, 2, 2},         // too low to spare any: a couple, and the scan's own errors say the rest
	} {
		if got := capFromLimit(tt.limit, tt.procs); got != tt.want {
			t.Errorf("capFromLimit(%d, %d) = %d, want %d", tt.limit, tt.procs, got, tt.want)
		}
	}
}

// A connection that never sends a request does not hold Shutdown up.
func TestServeShutdownSilent(t *testing.T) {
	livetest.Skip(t)
	s, err := Serve(ServeOptions{Addr: "127.0.0.1:0", Interval: time.Second}, NewExporter(1, false))
	if err != nil {
		t.Fatal(err)
	}
	silent, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	keepAlive(t, s) // the silent one is accepted by now
	start := time.Now()
	if err := s.Shutdown(); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Shutdown took %v with a silent connection open", took)
	}
}

// bigStatus is a sample of n processes, each with sockets in two states,
// for an exporter whose every process has series of its own.
func bigStatus(n int) *Status {
	st := &Status{Seq: 1, Time: time.Now(), States: map[inspect.TCPState]int{inspect.CloseWait: 3 * n}}
	for i := range n {
		// A workload each (names of their own), so that n processes make
		// n workloads' series, not one.
		name := "worker" + strconv.Itoa(i)
		st.Processes = append(st.Processes, ProcStatus{ProcKey: ProcKey{PID: 1000 + i, Start: 1}, Name: name, WorkloadName: name,
			States:  map[inspect.TCPState]int{inspect.CloseWait: 3, inspect.Established: 2},
			Sockets: 5, FDs: 10, FDLimit: 1024, ETA: -1})
	}
	return st
}

// scrapeGzip fetches /metrics as Prometheus does (gzip) and discards it.
func scrapeGzip(client *http.Client, s *Server) error {
	req, err := http.NewRequest(http.MethodGet, "http://"+s.Addr().String()+"/metrics", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// totalAlloc is the bytes this process allocated so far.
func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// Two hundred concurrent scrapes of 10,000 series cost a few renders, not
// two hundred: they share them.
func TestServeScrapesShareRenders(t *testing.T) {
	livetest.Skip(t)
	exp := NewExporter(2000, false)
	exp.Update(bigStatus(2000))
	s, err := Serve(ServeOptions{Addr: "127.0.0.1:0", Interval: time.Second}, exp)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown() //nolint:errcheck // the test's end
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 200}
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: 20 * time.Second, Transport: tr}
	if err := scrapeGzip(client, s); err != nil { // the connection, the pools
		t.Fatal(err)
	}
	before := totalAlloc()
	if err := scrapeGzip(client, s); err != nil {
		t.Fatal(err)
	}
	one := totalAlloc() - before

	before = totalAlloc()
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 200 {
		wg.Go(func() {
			if err := scrapeGzip(client, s); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	burst := totalAlloc() - before
	t.Logf("one scrape allocated %.1f MB, 200 concurrent ones %.1f MB (%.1f scrapes' worth)",
		float64(one)/1e6, float64(burst)/1e6, float64(burst)/float64(one))
	if failed.Load() > 0 {
		t.Errorf("%d of 200 scrapes failed", failed.Load())
	}
	if burst > 40*one {
		t.Errorf("200 concurrent scrapes allocated %.0f times what one does, want at most 40", float64(burst)/float64(one))
	}
}
