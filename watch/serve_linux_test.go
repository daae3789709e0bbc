package watch

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/livetest"
)

// exporterChildEnv makes this test binary an exporter under a 256
// descriptor limit (TestExporterChild), sampling the host every 50 ms until
// its stdin closes.
const exporterChildEnv = "SOCKLEAK_TEST_EXPORTER_CHILD"

// TestExporterChild is the exporter that TestServeNotStarved attacks. It
// prints its address, then, when its stdin closes, how many samples it
// took and how many failed.
func TestExporterChild(t *testing.T) {
	if os.Getenv(exporterChildEnv) == "" {
		t.Skip("the child of TestServeNotStarved")
	}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 256, Max: 256}); err != nil {
		t.Fatal(err)
	}
	exp := NewExporter(DefaultMaxWorkloads, false)
	srv, err := Serve(ServeOptions{Addr: "127.0.0.1:0", Interval: 50 * time.Millisecond}, exp)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("listening on %s\n", srv.Addr())
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	fsys, err := inspect.NewFS("/proc")
	if err != nil {
		t.Fatal(err)
	}
	sample := NewSampler("/proc", func(ctx context.Context) (*inspect.Snapshot, error) {
		return inspect.Scan(ctx, fsys, inspect.Options{})
	})
	var samples, failed int
	err = Watch(ctx, Options{Interval: 50 * time.Millisecond, Window: time.Second, MaxWorkloads: DefaultMaxWorkloads},
		sample, exp, func(st *Status) error {
			samples++
			if st.Err != nil {
				failed++
				fmt.Fprintf(os.Stderr, "sample %d: %v\n", st.Seq, st.Err)
			}
			return nil
		})
	if err != nil && ctx.Err() == nil {
		t.Error(err)
	}
	if err := srv.Shutdown(); err != nil {
		t.Error(err)
	}
	fmt.Printf("samples %d failed %d\n", samples, failed)
}

// TestServeNotStarved holds 500 idle keep-alive connections to an
// exporter whose open-files limit is 256 and scrapes it 200 times at once:
// its samples never fail, /healthz answers, every scrape gets the
// metrics, and its memory stays under 100 MB (its peak RSS, VmHWM).
func TestServeNotStarved(t *testing.T) {
	livetest.Skip(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestExporterChild$")
	cmd.Env = append(os.Environ(), exporterChildEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cmd.Process.Kill() // the child this test started, by its PID
			_ = cmd.Wait()
		}
	})
	lines := bufio.NewScanner(stdout)
	var addr string
	for addr == "" && lines.Scan() {
		if a, ok := strings.CutPrefix(lines.Text(), "listening on "); ok {
			addr = a
		}
	}
	if addr == "" {
		t.Fatalf("the child did not listen:\n%s", stderr.String())
	}
	fresh := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	healthz := func() (time.Duration, error) {
		start := time.Now()
		resp, err := fresh.Get("http://" + addr + "/healthz")
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("%d %s", resp.StatusCode, body)
		}
		return time.Since(start), nil
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, err := healthz(); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("/healthz before the attack: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	idle := holdIdle(t, addr, 500)
	if took, err := healthz(); err != nil {
		t.Errorf("/healthz with 500 idle connections: %v", err)
	} else {
		t.Logf("/healthz with 500 idle connections held: %v", took)
	}

	scraper := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	var wg sync.WaitGroup
	var bad atomic.Int32
	var firstErr atomic.Value
	for range 200 {
		wg.Go(func() {
			resp, err := scraper.Get("http://" + addr + "/metrics")
			if err == nil {
				var body []byte
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil && (resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "sockleak_sockets{")) {
					err = fmt.Errorf("%d %.200s", resp.StatusCode, body)
				}
			}
			if err != nil {
				bad.Add(1)
				firstErr.CompareAndSwap(nil, err)
			}
		})
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Errorf("%d of 200 concurrent scrapes failed, the first: %v", n, firstErr.Load())
	}
	if took, err := healthz(); err != nil {
		t.Errorf("/healthz after 200 scrapes: %v", err)
	} else {
		t.Logf("/healthz after 200 concurrent scrapes: %v", took)
	}
	time.Sleep(200 * time.Millisecond) // a few samples more with every connection held

	hwm := vmHWM(t, cmd.Process.Pid)
	t.Logf("the exporter's peak RSS: %.1f MB", float64(hwm)/1e6)
	if hwm > 100e6 && !raceDetector {
		t.Errorf("the exporter's peak RSS is %.1f MB, want under 100", float64(hwm)/1e6)
	}

	// Connections a client opened and never used keep a server's
	// Shutdown waiting (up to 5 s): close them first.
	scraper.CloseIdleConnections()
	for _, c := range idle {
		c.Close()
	}
	stdin.Close()
	var samples, failed int
	var rest strings.Builder
	for lines.Scan() {
		if _, err := fmt.Sscanf(lines.Text(), "samples %d failed %d", &samples, &failed); err != nil {
			rest.WriteString(lines.Text() + "\n")
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("the child: %v\n%s%s", err, rest.String(), stderr.String())
	}
	stopped = true
	t.Logf("%d samples", samples)
	if samples < 5 || failed > 0 {
		t.Errorf("%d samples, %d failed; want some and none failed:\n%s", samples, failed, stderr.String())
	}
}

// holdIdle opens n keep-alive connections to addr, each after one request
// answered, and returns those the server has not closed meanwhile.
func holdIdle(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 50)
	)
	for range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			c, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Errorf("dial: %v", err)
				return
			}
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: sockleak\r\n\r\n"); err == nil {
				_, _ = http.ReadResponse(bufio.NewReader(c), nil)
			}
			_ = c.SetDeadline(time.Time{})
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		})
	}
	wg.Wait()
	return conns
}

// vmHWM returns a process's peak resident set size in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}
