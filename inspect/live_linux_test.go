//go:build linux

package inspect

// Integration tests of Scan on real sockets, on loopback only (127.0.0.1
// and ::1). The test binary re-executes itself for the processes a test
// needs besides its own: TestMain dispatches on liveChildEnv.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/internal/livetest"
)

const (
	// liveChildEnv names the child mode of a re-executed test binary.
	liveChildEnv = "SOCKLEAK_INSPECT_LIVE_CHILD"
	// liveDialEnv is the address the "dial" child connects to.
	liveDialEnv = "SOCKLEAK_INSPECT_LIVE_DIAL"
	// liveNameEnv is the --name the "scan-name" child selects by.
	liveNameEnv = "SOCKLEAK_INSPECT_LIVE_NAME"
	// liveTimeout bounds every wait for the kernel or a child. Only a
	// failure waits that long; it is generous because a scan of a host
	// with 100k sockets under -race takes seconds.
	liveTimeout = 30 * time.Second
)

// TestMain runs the package's tests, or a child mode when the test binary
// was re-executed by one of them (liveChildEnv set).
func TestMain(m *testing.M) {
	if mode := os.Getenv(liveChildEnv); mode != "" {
		os.Exit(liveChildMain(mode))
	}
	os.Exit(m.Run())
}

// liveChildMain runs a child mode. Those that hold sockets print one line
// when they are ready and keep their sockets until stdin closes.
func liveChildMain(mode string) int {
	var err error
	switch mode {
	case "dial":
		err = liveChildDial(os.Getenv(liveDialEnv))
	case "hold":
		// Descriptor 3 (cmd.ExtraFiles[0]) is inherited and stays open: we
		// do not wrap it in an os.File, whose finalizer could close it.
		fmt.Println("ready")
		_, err = io.Copy(io.Discard, os.Stdin)
	case "netns":
		err = liveChildNetNS()
	case "scan":
		err = liveChildScan()
	case "scan-name":
		err = liveChildScanName(os.Getenv(liveNameEnv))
	case "hidden":
		err = liveChildHidden(os.Getenv(liveHiddenEnv))
	default:
		err = fmt.Errorf("unknown child mode %q", mode)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", mode, err)
		return 1
	}
	return 0
}

// liveChildDial connects to addr, prints the connection's local address and
// keeps the connection until stdin closes.
func liveChildDial(addr string) error {
	d := net.Dialer{KeepAlive: -1, Timeout: liveTimeout}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	fmt.Println(c.LocalAddr())
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

// liveChildNetNS runs in a new network namespace: it brings up lo, listens
// on 127.0.0.1, connects to itself and prints "LISTENER CLIENT".
func liveChildNetNS() error {
	if err := liveLoopbackUp(); err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), "tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	d := net.Dialer{KeepAlive: -1, Timeout: liveTimeout}
	c, err := d.Dial("tcp4", ln.Addr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Println(ln.Addr(), c.LocalAddr())
	_, err = io.Copy(io.Discard, os.Stdin)
	return err
}

// liveLoopbackUp sets IFF_UP on lo, which a new network namespace starts
// without (ip link set lo up).
func liveLoopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// liveScanResult is what the "scan" child reports.
type liveScanResult struct {
	UID      int
	Err      string
	Denied   int
	Warnings []string
	Self     bool // the child inspected its own process
}

// liveChildScan scans /proc and prints the outcome as JSON.
func liveChildScan() error {
	res := liveScanResult{UID: os.Geteuid()}
	fsys, err := NewFS("/proc")
	if err != nil {
		return err
	}
	snap, err := Scan(context.Background(), fsys, Options{})
	if err != nil {
		res.Err = err.Error()
	} else {
		res.Denied, res.Warnings = snap.Denied, snap.Warnings
		res.Self = slices.ContainsFunc(snap.Processes, func(p Process) bool { return p.PID == os.Getpid() })
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// liveChildScanName scans /proc for the processes whose name or command
// line contains name, and prints their PIDs (or the error) as JSON.
func liveChildScanName(name string) error {
	fsys, err := NewFS("/proc")
	if err != nil {
		return err
	}
	var res struct {
		PIDs []int
		Err  string
	}
	snap, err := Scan(context.Background(), fsys, Options{Name: name, States: []TCPState{Listen}})
	if err != nil {
		res.Err = err.Error()
	} else {
		for _, p := range snap.Processes {
			res.PIDs = append(res.PIDs, p.PID)
		}
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// liveChildEnviron is our environment plus the child mode. Under -race,
// a process sleeps a second at exit for late race reports
// (atexit_sleep_ms); the children report theirs on stderr before they exit.
func liveChildEnviron(mode string) []string {
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	return append(os.Environ(), liveChildEnv+"="+mode, "GORACE="+gorace)
}

// liveChild is a running child mode of the test binary.
type liveChild struct {
	pid  int
	line string // the first line it printed, without the newline
}

// startLiveChild re-executes the test binary in a child mode and waits for
// the first line it prints. setup may change the command before it starts;
// an error from starting it is returned, so that callers can skip on EPERM.
// The child lives until the test ends: cleanup closes its stdin, which tells
// it to exit, and kills it if it does not.
func startLiveChild(t *testing.T, mode string, setup func(*exec.Cmd)) (liveChild, error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = liveChildEnviron(mode)
	stderr := new(bytes.Buffer)
	cmd.Stderr = stderr
	// Our own pipes rather than StdinPipe/StdoutPipe: Wait does not close
	// them, so the first line can be read even if the child has exited.
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin, cmd.Stdout = inR, outW
	if setup != nil {
		setup(cmd)
	}
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return liveChild{}, err
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	// stop closes the child's stdin and waits for it to exit.
	stop := sync.OnceValue(func() error {
		inW.Close()
		defer outR.Close()
		select {
		case err := <-waited:
			return err
		case <-time.After(liveTimeout):
			cmd.Process.Kill()
			return fmt.Errorf("did not exit when its stdin closed (%v)", <-waited)
		}
	})
	ready := false
	t.Cleanup(func() {
		if err := stop(); err != nil && ready {
			t.Errorf("child %s (pid %d): %v; stderr:\n%s", mode, cmd.Process.Pid, err, stderr)
		}
	})
	outR.SetReadDeadline(time.Now().Add(liveTimeout))
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		werr := stop()
		t.Fatalf("child %s (pid %d) printed no line: %v (exit: %v); stderr:\n%s", mode, cmd.Process.Pid, err, werr, stderr)
	}
	ready = true
	return liveChild{pid: cmd.Process.Pid, line: strings.TrimSuffix(line, "\n")}, nil
}

// liveNet is an address family on loopback.
type liveNet struct {
	network string // for net.Listen and net.Dial
	host    string
	proto   Proto // the table its sockets are in
	any     netip.AddrPort
}

var (
	liveTCP4 = liveNet{"tcp4", "127.0.0.1", TCP, netip.AddrPortFrom(netip.IPv4Unspecified(), 0)}
	liveTCP6 = liveNet{"tcp6", "::1", TCP6, netip.AddrPortFrom(netip.IPv6Unspecified(), 0)}
)

// liveHasIPv6 reports whether ::1 can be bound.
func liveHasIPv6() bool {
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// liveAddr converts a TCP net.Addr, unmapping IPv4 as Scan does.
func liveAddr(a net.Addr) netip.AddrPort {
	ap := a.(*net.TCPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// liveListen listens on loopback with keepalive off, closed at cleanup.
func liveListen(t *testing.T, n liveNet) *net.TCPListener {
	t.Helper()
	lc := net.ListenConfig{KeepAlive: -1} // accepted connections inherit it
	ln, err := lc.Listen(context.Background(), n.network, net.JoinHostPort(n.host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.(*net.TCPListener)
}

// liveAccept accepts the connection coming from client, closed at cleanup.
func liveAccept(t *testing.T, ln *net.TCPListener, client netip.AddrPort) *net.TCPConn {
	t.Helper()
	ln.SetDeadline(time.Now().Add(liveTimeout))
	defer ln.SetDeadline(time.Time{})
	s, err := ln.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if got := liveAddr(s.RemoteAddr()); got != client {
		t.Fatalf("accepted a connection from %v, want %v", got, client)
	}
	return s
}

// liveDial connects to ln with keepalive off and accepts the connection:
// both ends are ours and closed at cleanup (a conn closed earlier by the
// test is closed again harmlessly). Keepalive must stay off: a probe could
// reset a socket we leave in CLOSE_WAIT on purpose.
func liveDial(t *testing.T, ln *net.TCPListener) (client, server *net.TCPConn) {
	t.Helper()
	d := net.Dialer{KeepAlive: -1, Timeout: liveTimeout}
	c, err := d.Dial(ln.Addr().Network(), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn), liveAccept(t, ln, liveAddr(c.LocalAddr()))
}

// liveWant is a socket a test expects, by its addresses in the host's
// network namespace.
type liveWant struct {
	name          string
	proto         Proto
	local, remote netip.AddrPort
	state         TCPState
	owned         bool // by the test process (inode set); else by nobody (inode 0)
	gone          bool // must no longer exist
}

// liveMakeStates opens, on the family n, a socket in each state a leak
// hunt meets, and returns the listener and what Scan must show.
func liveMakeStates(t *testing.T, n liveNet) (*net.TCPListener, []liveWant) {
	t.Helper()
	ln := liveListen(t, n)
	lnAP := liveAddr(ln.Addr())
	wants := []liveWant{{name: "listener", proto: n.proto, local: lnAP, remote: n.any, state: Listen, owned: true}}
	pair := func(name string, client, server TCPState, clientOwned, serverOwned bool, c net.Conn) {
		cAP := liveAddr(c.LocalAddr())
		wants = append(wants,
			liveWant{name: name + ", client", proto: n.proto, local: cAP, remote: lnAP, state: client, owned: clientOwned},
			liveWant{name: name + ", server", proto: n.proto, local: lnAP, remote: cAP, state: server, owned: serverOwned})
	}

	// Both ends of an open connection.
	c, _ := liveDial(t, ln)
	pair("established", Established, Established, true, true, c)

	// The classic leak: the server closes an idle connection and the client
	// (we) never does. The server's socket, closed, is an orphaned
	// FIN_WAIT2 that no process owns.
	c, s := liveDial(t, ln)
	s.Close()
	pair("close_wait", CloseWait, FinWait2, true, false, c)

	// Half-close: the client shuts down its writes and keeps the
	// connection, so its FIN_WAIT2 is owned and has no timeout; the server
	// keeps its end in CLOSE_WAIT.
	c, _ = liveDial(t, ln)
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	pair("half-closed", FinWait2, CloseWait, true, true, c)

	// TIME_WAIT: the client closes first; the server reads the FIN (EOF)
	// and only then closes, so the close is not simultaneous. The server's
	// socket goes through LAST_ACK and disappears.
	c, s = liveDial(t, ln)
	c.Close()
	s.SetReadDeadline(time.Now().Add(liveTimeout))
	if _, err := s.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("server read after the client's close = %v, want EOF", err)
	}
	s.Close()
	pair("time_wait", TimeWait, 0, false, false, c)
	wants[len(wants)-1].gone = true
	return ln, wants
}

// liveScan scans the live /proc.
func liveScan(t *testing.T, opts Options) *Snapshot {
	t.Helper()
	fsys, err := NewFS("/proc")
	if err != nil {
		t.Fatal(err)
	}
	snap, err := Scan(context.Background(), fsys, opts)
	if err != nil {
		t.Fatalf("Scan(/proc, %+v) error = %v", opts, err)
	}
	return snap
}

// liveWait scans until check passes. The kernel moves sockets between
// states asynchronously (a FIN or its ACK is processed after the call that
// sent it returned), so a single scan right after close() can be early.
func liveWait(t *testing.T, opts Options, check func(*Snapshot) error) *Snapshot {
	t.Helper()
	deadline := time.Now().Add(liveTimeout)
	for {
		snap := liveScan(t, opts)
		err := check(snap)
		if err == nil {
			return snap
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", liveTimeout, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// liveFind returns the sockets of namespace ns with these addresses.
func liveFind(socks []Socket, ns uint64, local, remote netip.AddrPort) []Socket {
	var out []Socket
	for _, s := range socks {
		if s.NetNS == ns && s.Local == local && s.Remote == remote {
			out = append(out, s)
		}
	}
	return out
}

// liveSettled returns an error naming the first want snap does not show
// yet: one socket in the wanted state, or none for a gone one.
func liveSettled(snap *Snapshot, wants []liveWant) error {
	for _, w := range wants {
		got := liveFind(snap.Sockets, snap.HostNetNS, w.local, w.remote)
		if w.gone {
			if len(got) > 0 {
				return fmt.Errorf("%s: %v -> %v still in %v, want gone", w.name, w.local, w.remote, got[0].State)
			}
			continue
		}
		if len(got) != 1 || got[0].State != w.state {
			var states []string
			for _, s := range got {
				states = append(states, s.State.String())
			}
			return fmt.Errorf("%s: %v -> %v in states %v, want one in %v", w.name, w.local, w.remote, states, w.state)
		}
	}
	return nil
}

// liveView is the part of a socket the live tests compare.
type liveView struct {
	Proto         Proto
	Local, Remote string
	State         TCPState
	HasInode      bool
	PIDs          []int
}

func liveViewOf(s Socket) liveView {
	v := liveView{s.Proto, s.Local.String(), s.Remote.String(), s.State, s.Inode != 0, s.PIDs}
	if len(v.PIDs) == 0 {
		v.PIDs = nil
	}
	return v
}

func liveViewsSorted(socks []Socket) []liveView {
	vs := make([]liveView, 0, len(socks))
	for _, s := range socks {
		vs = append(vs, liveViewOf(s))
	}
	slices.SortFunc(vs, func(a, b liveView) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return vs
}

// TestLiveStates makes sockets in each state on loopback and checks that
// Scan reports them with their state, addresses and owner: the test
// process for the sockets it holds, nobody for TIME_WAIT and orphans.
func TestLiveStates(t *testing.T) {
	livetest.Skip(t)
	for _, b := range []Backend{BackendNetlink, BackendProc, BackendBPF} {
		t.Run(string(b), func(t *testing.T) {
			if b == BackendBPF {
				bpfLive(t)
			}
			testLiveStates(t, b)
		})
	}
}

// testLiveStates checks every state on one backend: both must see them.
func testLiveStates(t *testing.T, backend Backend) {
	for _, n := range []liveNet{liveTCP4, liveTCP6} {
		t.Run(n.network, func(t *testing.T) {
			if n == liveTCP6 && !liveHasIPv6() {
				t.Skip("IPv6 loopback ::1 is not available (IPv6 disabled, or no ::1 on lo)")
			}
			me := os.Getpid()
			ln, wants := liveMakeStates(t, n)
			lnAP := liveAddr(ln.Addr())
			snap := liveWait(t, Options{Backend: backend}, func(s *Snapshot) error { return liveSettled(s, wants) })
			if snap.Backend != backend {
				t.Fatalf("scanned with the %s backend, asked for %s", snap.Backend, backend)
			}

			// The unfiltered scan: every socket, owned or not.
			for _, w := range wants {
				if w.gone {
					continue
				}
				s := liveFind(snap.Sockets, snap.HostNetNS, w.local, w.remote)[0]
				want := liveView{w.proto, w.local.String(), w.remote.String(), w.state, w.owned, nil}
				if w.owned {
					want.PIDs = []int{me}
				}
				if diff := cmp.Diff(want, liveViewOf(s)); diff != "" {
					t.Errorf("%s: socket mismatch (-want +got):\n%s", w.name, diff)
				}
			}
			if !slices.Contains(snap.Listeners, Listener{NetNS: snap.HostNetNS, Addr: lnAP}) {
				t.Errorf("Listeners = %v, want it to contain %v in namespace %d", snap.Listeners, lnAP, snap.HostNetNS)
			}

			// Selected by our pid: exactly the sockets we hold, no
			// TIME_WAIT or orphan.
			snap = liveScan(t, Options{PIDs: []int{me}, Backend: backend})
			var got []Socket
			for _, s := range snap.Sockets {
				if s.NetNS == snap.HostNetNS && (s.Local == lnAP || s.Remote == lnAP) {
					got = append(got, s)
				}
			}
			var want []liveView
			owned := 0
			for _, w := range wants {
				if w.owned && !w.gone {
					want = append(want, liveView{w.proto, w.local.String(), w.remote.String(), w.state, true, []int{me}})
					owned++
				}
			}
			slices.SortFunc(want, func(a, b liveView) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
			if diff := cmp.Diff(want, liveViewsSorted(got)); diff != "" {
				t.Errorf("Scan(PIDs: [%d]) sockets mismatch (-want +got):\n%s", me, diff)
			}
			if !snap.Selected || snap.Denied != 0 {
				t.Errorf("Scan(PIDs: [%d]): Selected = %v, Denied = %d; want true, 0", me, snap.Selected, snap.Denied)
			}
			if len(snap.Processes) != 1 || snap.Processes[0].PID != me {
				t.Fatalf("Scan(PIDs: [%d]).Processes = %+v, want just us", me, snap.Processes)
			}
			p := snap.Processes[0]
			soft, hard := liveFDLimits(t)
			switch {
			case p.Name == "" || !strings.HasPrefix(p.Cmdline, os.Args[0]):
				t.Errorf("process Name = %q, Cmdline = %q; want a name and a command line starting with %q", p.Name, p.Cmdline, os.Args[0])
			case p.NetNS != snap.HostNetNS || p.NetNS == 0:
				t.Errorf("process NetNS = %d, want the host's %d", p.NetNS, snap.HostNetNS)
			case p.SocketFDs < owned || p.FDs < p.SocketFDs:
				t.Errorf("process FDs = %d, SocketFDs = %d; want at least %d sockets", p.FDs, p.SocketFDs, owned)
			case p.FDSoftLimit != soft || p.FDHardLimit != hard:
				t.Errorf("process fd limits = %d/%d, want getrlimit's %d/%d", p.FDSoftLimit, p.FDHardLimit, soft, hard)
			}
		})
	}
}

// liveFDLimits returns this process's open files limits as a scan reports
// them.
func liveFDLimits(t *testing.T) (soft, hard int64) {
	t.Helper()
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	soft, hard = int64(rl.Cur), int64(rl.Max)
	if rl.Cur == unix.RLIM_INFINITY {
		soft = Unlimited
	}
	if rl.Max == unix.RLIM_INFINITY {
		hard = Unlimited
	}
	return soft, hard
}

// TestLiveIPv4Mapped: a dual-stack IPv6 socket bound to ::ffff:127.0.0.1
// is in the tcp6 table with IPv4-mapped addresses, and Scan unmaps them.
func TestLiveIPv4Mapped(t *testing.T) {
	livetest.Skip(t)
	if !liveHasIPv6() {
		t.Skip("IPv6 loopback ::1 is not available (IPv6 disabled, or no ::1 on lo)")
	}
	me := os.Getpid()
	// Go listens on an IPv4 address with an AF_INET socket: make the
	// AF_INET6 one by hand.
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "tcp6 listener")
	defer f.Close()
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0); err != nil {
		t.Fatal(err)
	}
	mapped := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	// ::ffff:127.0.0.1, port 0
	if err := unix.Bind(fd, &unix.SockaddrInet6{Addr: mapped.As16()}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 8); err != nil {
		t.Fatal(err)
	}
	l, err := net.FileListener(f) // a dup: f is closed when the test returns
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ln := l.(*net.TCPListener)
	lnAP := liveAddr(ln.Addr())
	if lnAP.Addr() != mapped {
		t.Fatalf("listener address %v, want 127.0.0.1", lnAP)
	}
	c, _ := liveDial(t, ln) // an AF_INET client
	cAP := liveAddr(c.LocalAddr())

	snap := liveScan(t, Options{PIDs: []int{me}})
	var got []Socket
	for _, s := range snap.Sockets {
		if s.NetNS == snap.HostNetNS && (s.Local == lnAP || s.Remote == lnAP) {
			got = append(got, s)
		}
	}
	want := []liveView{
		{TCP, cAP.String(), lnAP.String(), Established, true, []int{me}},
		{TCP6, lnAP.String(), "[::]:0", Listen, true, []int{me}},
		{TCP6, lnAP.String(), cAP.String(), Established, true, []int{me}},
	}
	slices.SortFunc(want, func(a, b liveView) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	if diff := cmp.Diff(want, liveViewsSorted(got)); diff != "" {
		t.Errorf("sockets mismatch (-want +got):\n%s", diff)
	}
	if !slices.Contains(snap.Listeners, Listener{NetNS: snap.HostNetNS, Addr: lnAP}) {
		t.Errorf("Listeners = %v, want it to contain %v", snap.Listeners, lnAP)
	}
}

// liveProcess returns the process pid of snap.
func liveProcess(t *testing.T, snap *Snapshot, pid int) Process {
	t.Helper()
	i := slices.IndexFunc(snap.Processes, func(p Process) bool { return p.PID == pid })
	if i < 0 {
		t.Fatalf("process %d not in the snapshot (Denied = %d, Warnings = %q)", pid, snap.Denied, snap.Warnings)
	}
	return snap.Processes[i]
}

// liveDialChild starts a child that connects to ln and holds the
// connection, accepts it, and returns the child and its end's address.
func liveDialChild(t *testing.T, ln *net.TCPListener) (liveChild, netip.AddrPort) {
	t.Helper()
	child, err := startLiveChild(t, "dial", func(cmd *exec.Cmd) {
		cmd.Env = append(cmd.Env, liveDialEnv+"="+ln.Addr().String())
	})
	if err != nil {
		t.Fatal(err)
	}
	childAP, err := netip.ParseAddrPort(child.line)
	if err != nil {
		t.Fatalf("child printed %q: %v", child.line, err)
	}
	liveAccept(t, ln, childAP)
	return child, childAP
}

// TestLiveChildOwner: a connection held by a child process is the child's,
// not ours, and the child's name and command line are known.
func TestLiveChildOwner(t *testing.T) {
	livetest.Skip(t)
	me := os.Getpid()
	ln := liveListen(t, liveTCP4)
	lnAP := liveAddr(ln.Addr())
	child, childAP := liveDialChild(t, ln)

	wants := []liveWant{
		{name: "child's end", local: childAP, remote: lnAP, state: Established},
		{name: "our end", local: lnAP, remote: childAP, state: Established},
	}
	snap := liveWait(t, Options{}, func(s *Snapshot) error { return liveSettled(s, wants) })
	if got := liveFind(snap.Sockets, snap.HostNetNS, childAP, lnAP)[0]; !slices.Equal(got.PIDs, []int{child.pid}) || got.Inode == 0 {
		t.Errorf("child's end: PIDs = %v, inode %d; want [%d] (the child, pid %d, not us, pid %d)", got.PIDs, got.Inode, child.pid, child.pid, me)
	}
	if got := liveFind(snap.Sockets, snap.HostNetNS, lnAP, childAP)[0]; !slices.Equal(got.PIDs, []int{me}) {
		t.Errorf("our end: PIDs = %v, want [%d]", got.PIDs, me)
	}
	p, self := liveProcess(t, snap, child.pid), liveProcess(t, snap, me)
	if p.Name == "" || p.Name != self.Name {
		t.Errorf("child Name = %q, want %q (the same binary as ours)", p.Name, self.Name)
	}
	exe, err := os.Executable() // the child's argv[0]
	if err != nil {
		t.Fatal(err)
	}
	if want := exe + " -test.run=^$"; p.Cmdline != want {
		t.Errorf("child Cmdline = %q, want %q", p.Cmdline, want)
	}
	if p.NetNS != snap.HostNetNS || p.SocketFDs != 1 {
		t.Errorf("child NetNS = %d, SocketFDs = %d; want %d, 1", p.NetNS, p.SocketFDs, snap.HostNetNS)
	}

	// Selected by pid: each process gets its own end only.
	snap = liveScan(t, Options{PIDs: []int{child.pid}})
	want := []liveView{{TCP, childAP.String(), lnAP.String(), Established, true, []int{child.pid}}}
	if diff := cmp.Diff(want, liveViewsSorted(snap.Sockets)); diff != "" {
		t.Errorf("Scan(PIDs: [child]) sockets mismatch (-want +got):\n%s", diff)
	}
	snap = liveScan(t, Options{PIDs: []int{me}})
	if got := liveFind(snap.Sockets, snap.HostNetNS, childAP, lnAP); len(got) != 0 {
		t.Errorf("Scan(PIDs: [us]) has the child's end: %+v", got)
	}
	if got := liveFind(snap.Sockets, snap.HostNetNS, lnAP, childAP); len(got) != 1 {
		t.Errorf("Scan(PIDs: [us]) has %d of our end, want 1", len(got))
	}
}

// liveHoldChild starts a child that holds a dup of ln's descriptor (as
// its descriptor 3) until the test ends; the test keeps its own.
func liveHoldChild(t *testing.T, ln *net.TCPListener) liveChild {
	t.Helper()
	child, err := liveShareChild(t, ln, "hold", 0)
	if err != nil {
		t.Fatal(err)
	}
	return child
}

// liveShareChild starts a child in mode with a dup of ln's descriptor as
// its descriptor 3, cloned with cloneflags (CLONE_NEWNET: in a network
// namespace of its own).
func liveShareChild(t *testing.T, ln *net.TCPListener, mode string, cloneflags uintptr) (liveChild, error) {
	t.Helper()
	f, err := ln.File() // a dup
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return startLiveChild(t, mode, func(cmd *exec.Cmd) {
		cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: cloneflags}
		cmd.ExtraFiles = []*os.File{f}
	})
}

// TestLiveSharedAfterFork: a listening socket inherited by a child is held
// by both processes, and Scan lists both, sorted.
func TestLiveSharedAfterFork(t *testing.T) {
	livetest.Skip(t)
	me := os.Getpid()
	ln := liveListen(t, liveTCP4)
	lnAP := liveAddr(ln.Addr())
	child := liveHoldChild(t, ln)

	snap := liveScan(t, Options{})
	got := liveFind(snap.Sockets, snap.HostNetNS, lnAP, liveTCP4.any)
	want := []liveView{{TCP, lnAP.String(), liveTCP4.any.String(), Listen, true, slices.Sorted(slices.Values([]int{me, child.pid}))}}
	if diff := cmp.Diff(want, liveViewsSorted(got)); diff != "" {
		t.Errorf("shared listener mismatch (-want +got):\n%s", diff)
	}
	if p := liveProcess(t, snap, child.pid); p.SocketFDs != 1 {
		t.Errorf("child SocketFDs = %d, want 1", p.SocketFDs)
	}
}

// liveNetNSOf returns the network namespace of process pid.
func liveNetNSOf(t *testing.T, pid int) uint64 {
	t.Helper()
	fsys := mustFS(t)
	ns, err := fsys.readNetNS(fsys.path(strconv.Itoa(pid), "ns", "net"))
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// TestLiveNetNS: the sockets of a process in another network namespace
// are found once, through that process, and marked with its namespace; a
// host socket it inherited is still its own too.
func TestLiveNetNS(t *testing.T) {
	livetest.Skip(t)
	// The child also inherits a listener of the host's namespace: a
	// socket's owners do not depend on the namespace they live in.
	me := os.Getpid()
	hostLn := liveListen(t, liveTCP4)
	hostAP := liveAddr(hostLn.Addr())
	child, err := liveShareChild(t, hostLn, "netns", syscall.CLONE_NEWNET)
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EINVAL) {
		t.Skipf("cannot create a network namespace (needs CAP_SYS_ADMIN and CONFIG_NET_NS): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var lnAP, cAP netip.AddrPort
	if f := strings.Fields(child.line); len(f) == 2 {
		lnAP, _ = netip.ParseAddrPort(f[0])
		cAP, _ = netip.ParseAddrPort(f[1])
	}
	if !lnAP.IsValid() || !cAP.IsValid() {
		t.Fatalf("child printed %q, want LISTENER CLIENT", child.line)
	}
	ns := liveNetNSOf(t, child.pid)

	snap := liveScan(t, Options{})
	if ns == snap.HostNetNS {
		t.Fatalf("child's namespace %d is the host's", ns)
	}
	var inNS []Socket
	for _, s := range snap.Sockets {
		if s.NetNS == ns {
			inNS = append(inNS, s)
		}
	}
	want := []liveView{
		{TCP, cAP.String(), lnAP.String(), Established, true, []int{child.pid}},
		{TCP, lnAP.String(), liveTCP4.any.String(), Listen, true, []int{child.pid}},
		{TCP, lnAP.String(), cAP.String(), Established, true, []int{child.pid}},
	}
	slices.SortFunc(want, func(a, b liveView) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	if diff := cmp.Diff(want, liveViewsSorted(inNS)); diff != "" {
		t.Errorf("sockets in namespace %d mismatch (-want +got):\n%s", ns, diff)
	}
	// Exactly once: not also in the host's table or under another namespace.
	for _, s := range inNS {
		n := 0
		for _, o := range snap.Sockets {
			if o.Inode == s.Inode {
				n++
			}
		}
		if n != 1 {
			t.Errorf("socket inode %d (%v -> %v) appears %d times, want 1", s.Inode, s.Local, s.Remote, n)
		}
	}
	if p := liveProcess(t, snap, child.pid); p.NetNS != ns || p.SocketFDs != 4 {
		t.Errorf("child NetNS = %d, SocketFDs = %d; want %d, 4", p.NetNS, p.SocketFDs, ns)
	}
	got := liveFind(snap.Sockets, snap.HostNetNS, hostAP, liveTCP4.any)
	wantHost := []liveView{{TCP, hostAP.String(), liveTCP4.any.String(), Listen, true, slices.Sorted(slices.Values([]int{me, child.pid}))}}
	if diff := cmp.Diff(wantHost, liveViewsSorted(got)); diff != "" {
		t.Errorf("host listener shared with the child mismatch (-want +got):\n%s", diff)
	}
	if !slices.Contains(snap.Listeners, Listener{NetNS: ns, Addr: lnAP}) {
		t.Errorf("Listeners = %v, want it to contain %v in namespace %d", snap.Listeners, lnAP, ns)
	}
}

// TestLiveDeniedAsNobody runs a scan as user nobody, which may not read
// root's descriptors: the scan succeeds, counts the processes it could not
// inspect and says so.
func TestLiveDeniedAsNobody(t *testing.T) {
	livetest.Skip(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as user nobody (uid 65534)")
	}
	dir := nobodyDir(t, "sockleak-nobody-")
	bin := nobodyBinary(t, dir)

	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	defer cancel()
	var res liveScanResult
	runAsNobody(t, ctx, bin, dir, liveChildEnviron("scan"), &res)
	if res.UID != 65534 || res.Err != "" || !res.Self {
		t.Fatalf("child scan: uid %d, error %q, inspected itself %v; want 65534, no error, true", res.UID, res.Err, res.Self)
	}
	if res.Denied == 0 {
		t.Errorf("Denied = 0, want > 0 (at least pid 1 and this test, both root)")
	}
	noun := "processes could"
	if res.Denied == 1 {
		noun = "process could"
	}
	// The warning names the first five by PID (pid 1 is root's), and
	// counts the rest.
	prefix := fmt.Sprintf("%d %s not be inspected (permission denied): pid 1 (", res.Denied, noun)
	const suffix = "; run as root for complete ownership"
	more := ""
	if res.Denied > maxDeniedNamed {
		more = fmt.Sprintf(") and %d more", res.Denied-maxDeniedNamed)
	}
	if !slices.ContainsFunc(res.Warnings, func(w string) bool {
		return strings.HasPrefix(w, prefix) && strings.HasSuffix(w, more+suffix)
	}) {
		t.Errorf("Warnings = %q, want one starting %q and ending %q", res.Warnings, prefix, more+suffix)
	}
}

// TestLiveNameSkipsSockleak checks that --name never selects the scanning
// process, nor the shell that started it, though the text is on both
// command lines; and that another process with it on its command line is
// selected.
func TestLiveNameSkipsSockleak(t *testing.T) {
	livetest.Skip(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	marker := fmt.Sprintf("sockleak-name-marker-%d", os.Getpid())
	other := exec.Command("sh", "-c", "read line; :", marker) // "; :" keeps sh from exec'ing
	hold, err := other.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hold.Close()
		if err := other.Wait(); err != nil {
			t.Errorf("the marked process: %v", err)
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	defer cancel()
	// As cron runs a command line: sh -c with the command in its text.
	cmd := exec.CommandContext(ctx, "sh", "-c", fmt.Sprintf("'%s' -test.run='^$' %s; exit $?", exe, marker))
	cmd.Env = append(liveChildEnviron("scan-name"), liveNameEnv+"="+marker)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child scan under sh: %v; stderr:\n%s", err, stderr.String())
	}
	var res struct {
		PIDs []int
		Err  string
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("child printed %q: %v", stdout.String(), err)
	}
	if res.Err != "" || !slices.Equal(res.PIDs, []int{other.Process.Pid}) {
		t.Errorf("--name %s selected %v (error %q); want only the marked process %d, not the scanner (%d's child) nor its shell",
			marker, res.PIDs, res.Err, other.Process.Pid, cmd.Process.Pid)
	}
}

func liveCopyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chmod(dst, perm) // past the umask
}

// ssStates maps the state names of ss(8) (iproute2 misc/ss.c, sstate_name)
// to the kernel's.
var ssStates = map[string]TCPState{
	"ESTAB":      Established,
	"SYN-SENT":   SynSent,
	"SYN-RECV":   SynRecv,
	"FIN-WAIT-1": FinWait1,
	"FIN-WAIT-2": FinWait2,
	"TIME-WAIT":  TimeWait,
	"UNCONN":     Close,
	"CLOSE-WAIT": CloseWait,
	"LAST-ACK":   LastAck,
	"LISTEN":     Listen,
	"CLOSING":    Closing,
}

// liveTransient are the states a socket leaves by itself, on a kernel timer
// or a packet in flight, whatever its owner does: handshakes, closes in
// progress, TIME_WAIT (60 s) and orphaned FIN_WAIT2 (tcp_fin_timeout). A
// socket can enter or leave them between Scan's read of the tables and ss's
// netlink dump, so their counts get a small tolerance. The other states
// change only when a process acts.
var liveTransient = map[TCPState]bool{
	SynSent: true, SynRecv: true, FinWait1: true, FinWait2: true, TimeWait: true, LastAck: true, Closing: true,
}

const liveTransientTolerance = 2

// liveSSKey names a socket as both ss and Scan can: state and addresses,
// with a listener's unspecified peer left out (ss prints it as "*").
type liveSSKey struct {
	State         TCPState
	Local, Remote netip.AddrPort
}

func liveKey(st TCPState, local, remote netip.AddrPort) liveSSKey {
	if !remote.Addr().IsValid() || remote.Addr().IsUnspecified() {
		remote = netip.AddrPort{}
	}
	return liveSSKey{st, local, remote}
}

// liveParseSSAddr parses ss's "127.0.0.1:80", "[::1]:80", "0.0.0.0:*" or
// "*:*"; ok is false for what is not an address (a "%dev" suffix, say).
func liveParseSSAddr(s string) (ap netip.AddrPort, ok bool) {
	if strings.HasPrefix(s, "*:") {
		return netip.AddrPort{}, true
	}
	if strings.HasSuffix(s, ":*") {
		s = strings.TrimSuffix(s, "*") + "0"
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}

// liveSS runs ss -tan and returns its per-state counts and the sockets
// that involve one of addrs.
func liveSS(ss string, addrs []netip.AddrPort) (map[TCPState]int, map[liveSSKey]int, error) {
	out, err := exec.Command(ss, "-tan").Output()
	if err != nil {
		return nil, nil, fmt.Errorf("ss -tan: %w", err)
	}
	counts, ours := make(map[TCPState]int), make(map[liveSSKey]int)
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == "State" {
			continue
		}
		if f[0] == "BOUND-INACTIVE" {
			// Bound, never listened or connected: in the bind hash only,
			// which /proc/net/tcp does not list.
			continue
		}
		st, ok := ssStates[f[0]]
		if !ok || len(f) < 5 {
			return nil, nil, fmt.Errorf("ss -tan: unexpected line %q", line)
		}
		counts[st]++
		local, ok1 := liveParseSSAddr(f[3])
		remote, ok2 := liveParseSSAddr(f[4])
		if ok1 && ok2 && (slices.Contains(addrs, local) || slices.Contains(addrs, remote)) {
			ours[liveKey(st, local, remote)]++
		}
	}
	return counts, ours, nil
}

// liveHostCounts counts the sockets of the host's namespace, the one ss
// sees, by state, and keys those that involve one of addrs.
func liveHostCounts(snap *Snapshot, addrs []netip.AddrPort) (map[TCPState]int, map[liveSSKey]int) {
	counts, ours := make(map[TCPState]int), make(map[liveSSKey]int)
	for _, s := range snap.Sockets {
		if s.NetNS != snap.HostNetNS {
			continue
		}
		counts[s.State]++
		if slices.Contains(addrs, s.Local) || slices.Contains(addrs, s.Remote) {
			ours[liveKey(s.State, s.Local, s.Remote)]++
		}
	}
	return counts, ours
}

// TestLiveCountsMatchSS compares per-state counts of an unfiltered scan
// with ss -tan, with sockets of several states open: all of the host
// namespace's, and exactly for the test's own.
func TestLiveCountsMatchSS(t *testing.T) {
	livetest.Skip(t)
	ss, err := exec.LookPath("ss")
	if err != nil {
		t.Skip("ss (iproute2) is not installed")
	}
	if _, _, err := liveSS(ss, nil); err != nil {
		t.Skipf("ss does not work here: %v", err)
	}
	var addrs []netip.AddrPort
	var wants []liveWant
	for _, n := range []liveNet{liveTCP4, liveTCP6} {
		if n == liveTCP6 && !liveHasIPv6() {
			t.Log("IPv6 loopback ::1 is not available: comparing IPv4 only")
			continue
		}
		ln, w := liveMakeStates(t, n)
		addrs = append(addrs, liveAddr(ln.Addr()))
		wants = append(wants, w...)
	}
	liveWait(t, Options{}, func(s *Snapshot) error { return liveSettled(s, wants) })

	// Other processes on the host (other tests, a load generator) may
	// open and close connections meanwhile. ss runs before and right after
	// the scan, and the change it sees across the scan is the tolerance for
	// every state: none on a quiet host.
	var last error
	deadline := time.Now().Add(liveTimeout)
	for attempt := 1; ; attempt++ {
		ss0, _, err := liveSS(ss, addrs)
		if err != nil {
			t.Fatal(err)
		}
		scan, scanOurs := liveHostCounts(liveScan(t, Options{}), addrs)
		ss1, ssOurs, err := liveSS(ss, addrs)
		if err != nil {
			t.Fatal(err)
		}
		// The test's own sockets do not change by themselves: exact.
		if diff := cmp.Diff(scanOurs, ssOurs); diff != "" {
			t.Errorf("the test's sockets: Scan and ss -tan differ (-scan +ss):\n%s", diff)
		}
		for _, w := range wants {
			if k := liveKey(w.state, w.local, w.remote); !w.gone && ssOurs[k] != 1 {
				t.Errorf("%s: ss -tan shows %d of %+v, want 1", w.name, ssOurs[k], k)
			}
		}
		if t.Failed() {
			return
		}
		if last = liveCompareCounts(ss0, scan, ss1); last == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Scan and ss -tan did not agree within %v (%d attempts); last:\n%v", liveTimeout, attempt, last)
		}
		t.Logf("attempt %d: %v", attempt, last)
	}
}

// liveCompareCounts checks Scan's per-state counts against ss's after it,
// allowing what changed from the ss before it, and more for transient
// states.
func liveCompareCounts(ssBefore, scan, ss map[TCPState]int) error {
	var errs []error
	for _, st := range States {
		tol := max(ss[st]-ssBefore[st], ssBefore[st]-ss[st])
		if liveTransient[st] {
			tol += liveTransientTolerance
		}
		if d := max(scan[st]-ss[st], ss[st]-scan[st]); d > tol {
			errs = append(errs, fmt.Errorf("%v: Scan %d, ss -tan %d (%d before the scan)", st, scan[st], ss[st], ssBefore[st]))
		}
	}
	return errors.Join(errs...)
}

// TestLiveWalkOrder: the walk starts with the process that has most
// descriptors, and leaves out those already walked.
func TestLiveWalkOrder(t *testing.T) {
	livetest.Skip(t)
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	var pids []int
	for _, n := range []int{1, 200, 20} {
		extra := slices.Repeat([]*os.File{devnull}, n)
		child, err := startLiveChild(t, "hold", func(cmd *exec.Cmd) { cmd.ExtraFiles = extra })
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, child.pid)
	}
	fsys, err := NewFS("/proc")
	if err != nil {
		t.Fatal(err)
	}
	procs := []procScan{{p: Process{PID: os.Getpid()}, done: true}}
	for _, pid := range pids {
		procs = append(procs, procScan{p: Process{PID: pid}})
	}
	if got, want := fsys.walkOrder(procs), []int{2, 3, 1}; !slices.Equal(got, want) {
		t.Errorf("walk order %v, want %v (largest first, the walked one left out)", got, want)
	}
}

// runAsNobody runs this test binary as uid and gid 65534 in dir with env,
// as a child that prints its result as JSON, and decodes that into res.
func runAsNobody(t *testing.T, ctx context.Context, bin, dir string, env []string, res any) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, "-test.run=^$")
	cmd.Env, cmd.Dir = env, dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child scan as nobody: %v; stderr:\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), res); err != nil {
		t.Fatalf("child printed %q: %v", stdout.String(), err)
	}
}

// nobodyDir makes a directory that user nobody may enter, removed at
// cleanup: t.TempDir is 0700 under a 0700 parent.
func nobodyDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// nobodyBinary copies this test binary into dir, where nobody can run it.
func nobodyBinary(t *testing.T, dir string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, filepath.Base(exe))
	if err := liveCopyFile(exe, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}
