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
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/bench/internal/truth"
)

const listenAddr = "127.0.0.1"

// spec is what one worker builds; the parent passes it as JSON in the
// hidden -worker flag.
type spec struct {
	Index       int  `json:"index"`
	Established int  `json:"established"` // pairs
	CloseWait   int  `json:"close_wait"`  // CLOSE_WAIT + FIN_WAIT2 pairs
	TimeWait    int  `json:"time_wait"`   // connections closed client first
	Listen      int  `json:"listen"`      // listening sockets, at least 3
	PerIP       int  `json:"per_ip"`      // connections per source address
	Concurrency int  `json:"concurrency"` // dials in flight
	RenewTW     bool `json:"renew_time_wait"`
}

// report is what a worker tells its parent when it is ready.
type report struct {
	Pid         int    `json:"pid"`
	ListenPorts []int  `json:"listen_ports"`
	SourceIPs   int    `json:"source_ips"`
	FdSoftLimit uint64 `json:"fd_soft_limit"`
}

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
	fs.Usage = func() {
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
		flag.Usage()
		os.Exit(2)
	}
	if err := runParent(specs, *truthFile); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}

// plan splits n sockets over the workers: LISTEN first, then the
// CLOSE_WAIT/FIN_WAIT2 and TIME_WAIT shares, ESTABLISHED pairs for the rest.
func plan(n, workers, perWorker int, cwShare, twShare float64, listen, perIP, conc int, renewTW bool) ([]spec, error) {
	if workers <= 0 {
		if perWorker <= 0 {
			return nil, errors.New("-per-worker must be positive")
		}
		workers = max(2, (n+perWorker-1)/perWorker)
	}
	switch {
	case workers > 250:
		return nil, errors.New("at most 250 workers")
	case listen < 3:
		return nil, errors.New("-listen must be at least 3 (one listener per kind of connection)")
	case cwShare < 0 || twShare < 0 || cwShare+twShare > 1:
		return nil, errors.New("-close-wait and -time-wait must be shares between 0 and 1")
	case perIP < 1 || perIP > 20000:
		return nil, errors.New("-per-ip must be between 1 and 20000 (the port range is ~28000)")
	case conc < 1:
		return nil, errors.New("-concurrency must be positive")
	case n < workers*listen:
		return nil, fmt.Errorf("-n %d is less than the %d LISTEN sockets of %d workers", n, workers*listen, workers)
	}
	rest := n - workers*listen
	cw := int(math.Round(float64(n) * cwShare / 2))
	tw := int(math.Round(float64(n) * twShare))
	cw = min(cw, rest/2)
	tw = min(tw, rest-2*cw)
	est := (rest - 2*cw - tw) / 2
	tw += rest - 2*cw - tw - 2*est // an odd socket left over
	specs := make([]spec, workers)
	for i := range specs {
		specs[i] = spec{
			Index:       i,
			Established: share(est, workers, i),
			CloseWait:   share(cw, workers, i),
			TimeWait:    share(tw, workers, i),
			Listen:      listen,
			PerIP:       perIP,
			Concurrency: conc,
			RenewTW:     renewTW,
		}
	}
	return specs, nil
}

// share is worker i's part of total split over n workers.
func share(total, n, i int) int {
	s := total / n
	if i < total%n {
		s++
	}
	return s
}

// states is what a worker's sockets are, by state, once it is ready.
func (s spec) states() map[string]int {
	m := map[string]int{"LISTEN": s.Listen}
	if s.Established > 0 {
		m["ESTABLISHED"] = 2 * s.Established
	}
	if s.CloseWait > 0 {
		m["CLOSE_WAIT"] = s.CloseWait
		m["FIN_WAIT2"] = s.CloseWait
	}
	return m
}

// fds is how many descriptors a worker needs at most (TIME_WAIT pairs are
// open only briefly, at most Concurrency of them at once on each side).
func (s spec) fds() int {
	return s.Listen + 2*s.Established + 2*s.CloseWait + 2*s.Concurrency + 64
}

func runParent(specs []spec, truthFile string) error {
	start := time.Now()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	self, err := os.Executable()
	if err != nil {
		return err
	}

	type worker struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		gone  chan struct{} // closed when the worker's stdout closes: it exited
		rep   report
	}
	ws := make([]*worker, len(specs))
	stop := func() {
		// Closing stdin asks a worker to reset its connections and exit;
		// a worker that does not is killed.
		for _, w := range ws {
			if w != nil {
				w.stdin.Close()
			}
		}
		for _, w := range ws {
			if w == nil {
				continue
			}
			select {
			case <-w.gone:
			case <-time.After(10 * time.Second):
				_ = w.cmd.Process.Kill()
				<-w.gone
			}
			_ = w.cmd.Wait()
		}
	}
	defer stop()

	type result struct {
		i   int
		rep report
		err error
	}
	results := make(chan result, len(specs))
	for i, s := range specs {
		arg, _ := json.Marshal(s)
		cmd := exec.Command(self, "-worker", string(arg))
		cmd.Stderr = os.Stderr
		// If loadgen dies without cleaning up, so do its workers.
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		w := &worker{cmd: cmd, stdin: stdin, gone: make(chan struct{})}
		ws[i] = w
		go func() {
			defer close(w.gone)
			line, err := bufio.NewReader(stdout).ReadBytes('\n')
			var rep report
			if err == nil {
				err = json.Unmarshal(line, &rep)
			} else {
				err = fmt.Errorf("worker %d exited before it was ready", i)
			}
			results <- result{i, rep, err}
			_, _ = io.Copy(io.Discard, stdout)
		}()
	}
	for range specs {
		select {
		case r := <-results:
			if r.err != nil {
				return r.err
			}
			ws[r.i].rep = r.rep
		case s := <-sigs:
			return fmt.Errorf("interrupted (%v) while building", s)
		}
	}

	t := truth.Truth{
		States:     map[string]int{},
		Static:     []string{"ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT2", "LISTEN"},
		ListenAddr: listenAddr,
		LoadgenPid: os.Getpid(),
		Workers:    len(specs),
	}
	for i, s := range specs {
		rep := ws[i].rep
		p := truth.Pid{Pid: rep.Pid, States: s.states(), ListenPorts: rep.ListenPorts, FdSoftLimit: rep.FdSoftLimit}
		for st, c := range p.States {
			t.States[st] += c
		}
		t.ListenPorts = append(t.ListenPorts, rep.ListenPorts...)
		t.SourceIPs += rep.SourceIPs
		t.Pids = append(t.Pids, p)
		t.TimeWait.Created += s.TimeWait
	}
	slices.Sort(t.ListenPorts)
	if t.TimeWait.Created > 0 {
		t.States["TIME_WAIT"] = t.TimeWait.Created
	}
	for _, c := range t.States {
		t.Sockets += c
	}
	t.TimeWait.ExpiresAfterS = truth.TimeWaitSeconds
	t.TimeWait.Renewed = specs[0].RenewTW
	t.KernelCheck, t.TimeWait.AtReady = settle(&t, 10*time.Second)
	now := time.Now().UTC()
	t.Ready = now.Format(time.RFC3339)
	// The first TIME_WAIT socket was made after start: all are gone by then.
	t.TimeWait.ExpiresBy = now.Add(truth.TimeWaitSeconds * time.Second).Format(time.RFC3339)
	t.BuildMs = time.Since(start).Milliseconds()

	out, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	out = append(out, '\n')
	if truthFile != "" {
		if err := os.WriteFile(truthFile, out, 0o644); err != nil {
			return err
		}
	}
	if _, err := os.Stdout.Write(out); err != nil {
		return err
	}
	if t.KernelCheck != "ok" {
		fmt.Fprintln(os.Stderr, "loadgen: warning: the kernel's socket table does not match the truth:", t.KernelCheck)
	}
	fmt.Fprintf(os.Stderr, "loadgen: %d sockets, %d workers, %d source addresses, built in %.1f s\n",
		t.Sockets, t.Workers, t.SourceIPs, float64(t.BuildMs)/1000)
	fmt.Fprintln(os.Stderr, "ready")

	stdinClosed := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stdinClosed) }()
	exited := make(chan int, len(ws))
	for i, w := range ws {
		go func() { <-w.gone; exited <- i }()
	}
	select {
	case <-stdinClosed:
	case <-sigs:
	case i := <-exited:
		return fmt.Errorf("worker %d (pid %d) exited while holding", i, ws[i].rep.Pid)
	}
	return nil
}

// settle waits until /proc/net/tcp shows exactly the truth for loadgen's
// static sockets (handshakes and FINs on loopback take a moment to land),
// for at most timeout, and says what differs if it never does. It returns
// the TIME_WAIT sockets seen: at most the number created, as a few are
// recycled (a later bind(0) may pick a port whose only user is a TIME_WAIT
// socket, and with tcp_tw_reuse on loopback connect takes its place).
func settle(t *truth.Truth, timeout time.Duration) (string, int) {
	deadline := time.Now().Add(timeout)
	for {
		got, err := kernelStates(t)
		if err != nil {
			return "could not read /proc/net/tcp: " + err.Error(), 0
		}
		tw := got["TIME_WAIT"]
		if tw <= t.TimeWait.Created {
			delete(got, "TIME_WAIT")
		}
		want := maps.Clone(t.States)
		delete(want, "TIME_WAIT")
		diff := diffStates(want, got)
		if diff == "" {
			return "ok", tw
		}
		if time.Now().After(deadline) {
			return diff, tw
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func diffStates(want, got map[string]int) string {
	var d []string
	for _, st := range truth.StateNames(want, got) {
		if want[st] != got[st] {
			d = append(d, fmt.Sprintf("%s: want %d, got %d", st, want[st], got[st]))
		}
	}
	return strings.Join(d, "; ")
}

var kernelStateNames = map[string]string{
	"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1",
	"05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT",
	"09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING", "0C": "NEW_SYN_RECV",
}

// kernelStates counts loadgen's sockets in /proc/net/tcp by state.
func kernelStates(t *truth.Truth) (map[string]int, error) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	got := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 {
			continue
		}
		local, err1 := parseHexAddr(fields[1])
		remote, err2 := parseHexAddr(fields[2])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad line %q", sc.Text())
		}
		if !t.Ours(local, remote) {
			continue
		}
		name, ok := kernelStateNames[fields[3]]
		if !ok {
			name = "state " + fields[3]
		}
		got[name]++
	}
	return got, sc.Err()
}

// parseHexAddr parses an IPv4 "0100007F:1F90" (address in host byte order,
// little-endian here; port big-endian).
func parseHexAddr(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok || len(a) != 8 {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	ip, err := strconv.ParseUint(a, 16, 32)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	b := [4]byte{byte(ip), byte(ip >> 8), byte(ip >> 16), byte(ip >> 24)}
	return netip.AddrPortFrom(netip.AddrFrom4(b), uint16(port)), nil
}

// held keeps a reference to every conn a worker holds: a net.Conn that
// becomes garbage is closed by its finalizer.
var (
	heldMu sync.Mutex
	held   []net.Conn
)

func hold(c net.Conn) {
	heldMu.Lock()
	held = append(held, c)
	heldMu.Unlock()
}

// resetAll closes every held conn with SO_LINGER 0: a reset, so the
// landscape leaves no TIME_WAIT or orphaned FIN_WAIT sockets behind.
func resetAll() {
	heldMu.Lock()
	defer heldMu.Unlock()
	for _, c := range held {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}
}

func runWorker(s spec) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	lim.Cur = lim.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if need := s.fds(); uint64(need) > lim.Cur*9/10 {
		return fmt.Errorf("needs ~%d file descriptors, more than 90%% of its limit %d: use more workers", need, lim.Cur)
	}
	held = make([]net.Conn, 0, s.Listen+2*s.Established+2*s.CloseWait)

	ctx := context.Background()
	lc := net.ListenConfig{KeepAlive: -1}
	var lns []net.Listener
	var ports []int
	for range s.Listen {
		ln, err := lc.Listen(ctx, "tcp4", listenAddr+":0")
		if err != nil {
			return err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	estLn, cwLn, twLn := lns[0], lns[1], lns[2] // the rest only listen

	errs := make(chan error, 1)
	fail := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	var wg sync.WaitGroup // the acceptors and the first TIME_WAIT server ends
	accept := func(ln net.Listener, n int, handle func(net.Conn)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				c, err := ln.Accept()
				if err != nil {
					fail(fmt.Errorf("accept: %w", err))
					return
				}
				handle(c)
			}
		}()
	}
	accept(estLn, s.Established, hold)
	accept(cwLn, s.CloseWait, func(c net.Conn) {
		// Half-close: FIN to the client, which never closes (CLOSE_WAIT);
		// this end, still owned, waits in FIN_WAIT2 with no timeout.
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			fail(fmt.Errorf("close write: %w", err))
		}
		hold(c)
	})
	// TIME_WAIT server ends: the client closed first; read its FIN, then
	// close. The client end goes to TIME_WAIT; this one is gone after the
	// last ACK. With RenewTW the listener accepts for good, and each close
	// time goes to the renewer, which replaces the socket when it expires.
	var twClosed atomic.Int64
	closes := make(chan time.Time, s.TimeWait+2*s.Concurrency)
	wg.Add(s.TimeWait)
	handleTW := func(c net.Conn) {
		go func() {
			var b [1]byte
			for {
				if _, err := c.Read(b[:]); err != nil {
					break
				}
			}
			c.Close()
			if s.RenewTW {
				select {
				case closes <- time.Now():
				default:
				}
			}
			if twClosed.Add(1) <= int64(s.TimeWait) {
				wg.Done()
			}
		}()
	}
	if s.RenewTW {
		go func() {
			for {
				c, err := twLn.Accept()
				if err != nil {
					fail(fmt.Errorf("accept: %w", err))
					return
				}
				handleTW(c)
			}
		}()
	} else {
		accept(twLn, s.TimeWait, handleTW)
	}

	// Dials: ESTABLISHED, then CLOSE_WAIT, then TIME_WAIT (the freshest).
	total := s.Established + s.CloseWait + s.TimeWait
	var next atomic.Int64
	var dials sync.WaitGroup
	for range s.Concurrency {
		dials.Add(1)
		go func() {
			defer dials.Done()
			for {
				k := int(next.Add(1) - 1)
				if k >= total {
					return
				}
				if err := dial(s, k, lns); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { dials.Wait(); wg.Wait(); close(done) }()
	select {
	case <-done:
	case err := <-errs:
		return err
	case <-time.After(5 * time.Minute):
		return errors.New("timed out building the landscape")
	}
	select {
	case err := <-errs:
		return err
	default:
	}

	rep := report{Pid: os.Getpid(), ListenPorts: ports, SourceIPs: (total + s.PerIP - 1) / s.PerIP, FdSoftLimit: lim.Cur}
	line, _ := json.Marshal(rep)
	if _, err := os.Stdout.Write(append(line, '\n')); err != nil {
		return err
	}

	if s.RenewTW && s.TimeWait > 0 {
		go renewTimeWait(s, lns, closes)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	stdinClosed := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stdinClosed) }()
	select {
	case <-stdinClosed:
	case <-sigs:
	}
	resetAll()
	for _, ln := range lns {
		ln.Close()
	}
	return nil
}

// renewTimeWait makes a new TIME_WAIT socket for each one that expires, in
// the order they were made, so that their number stays about the same:
// never more than were made (the timer wheel lets a 60 s TIME_WAIT run up
// to ~2 s late), a little less while renewing.
func renewTimeWait(s spec, lns []net.Listener, closes <-chan time.Time) {
	first := s.Established + s.CloseWait // the TIME_WAIT dials of the plan
	for i := 0; ; i++ {
		t := <-closes
		time.Sleep(time.Until(t.Add(truth.TimeWaitSeconds*time.Second + 2500*time.Millisecond)))
		if err := dial(s, first+i%s.TimeWait, lns); err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: worker %d: renewing TIME_WAIT sockets stopped: %v\n", s.Index, err)
			return
		}
	}
}

// sourceIP is the source address of worker w's k-th connection:
// 127.(2+w).b.c, a new one every perIP connections.
func sourceIP(w, k, perIP int) net.IP {
	i := k / perIP
	return net.IPv4(127, byte(2+w), byte(i/254), byte(i%254+1))
}

// dial makes connection k of the worker's plan.
func dial(s spec, k int, lns []net.Listener) error {
	d := net.Dialer{
		LocalAddr: &net.TCPAddr{IP: sourceIP(s.Index, k, s.PerIP)},
		KeepAlive: -1, // a keepalive probe would reset a CLOSE_WAIT socket
		Timeout:   30 * time.Second,
	}
	var ln net.Listener
	switch {
	case k < s.Established:
		ln = lns[0]
	case k < s.Established+s.CloseWait:
		ln = lns[1]
	default:
		ln = lns[2]
	}
	c, err := d.Dial("tcp4", ln.Addr().String())
	if err != nil {
		return fmt.Errorf("dial %s from %s: %w", ln.Addr(), d.LocalAddr, err)
	}
	switch ln {
	case lns[0]:
		hold(c)
	case lns[1]:
		// Wait for the server's FIN: this end is then in CLOSE_WAIT, and
		// stays there, held and never closed.
		var b [1]byte
		if _, err := c.Read(b[:]); !errors.Is(err, io.EOF) {
			return fmt.Errorf("close-wait conn: want EOF, got %v", err)
		}
		hold(c)
	default:
		c.Close()
	}
	return nil
}
