package client

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// Step is one step of an exchange, as Options.Trace sees it.
type Step struct {
	// Op is the step: "connect", "write", "read", "shutdown(SHUT_WR)",
	// "drain", "SO_LINGER 0" or "close".
	Op     string
	Detail string        // what happened, e.g. "12 bytes"; may be empty
	At     time.Duration // when the step ended, since the exchange began
	Took   time.Duration // how long the step took
	// Local and Remote are the connection's addresses; zero when there is
	// no connection (a refused dial).
	Local, Remote netip.AddrPort
	// State is the socket's kernel state after the step: tcpi_state from
	// getsockopt(TCP_INFO) on the socket's own descriptor. After "close"
	// there is no descriptor left: State is then the state of the
	// connection's entry in the kernel's socket table (/proc/net/tcp or
	// tcp6), FromTable is true, and State is 0 when there is no entry.
	State     inspect.TCPState
	FromTable bool
	Err       error // the step's failure; nil when it succeeded
}

// String renders the step as one line of a trace:
//
//	+1.2ms  (0.1ms)  read               CLOSE_WAIT    6 bytes
func (s Step) String() string {
	state := s.State.String()
	switch {
	case s.FromTable && s.State == 0:
		state = "gone"
	case s.FromTable:
		state += " (kernel)"
	case s.State == 0:
		state = "-"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%9s %9s  %-18s %-20s", "+"+round(s.At), "("+round(s.Took)+")", s.Op, state)
	if s.Detail != "" {
		b.WriteString(" " + s.Detail)
	}
	if s.Err != nil {
		b.WriteString(" error: " + s.Err.Error())
	}
	return strings.TrimRight(b.String(), " ")
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}

// tracer calls Options.Trace after each step. A nil tracer does nothing,
// so that tracing costs nothing when it is off.
type tracer struct {
	fn    func(Step)
	begin time.Time
}

func newTracer(fn func(Step)) *tracer {
	if fn == nil {
		return nil
	}
	return &tracer{fn: fn, begin: time.Now()}
}

func (t *tracer) step(c *net.TCPConn, op, detail string, start time.Time, err error) {
	if t == nil {
		return
	}
	now := time.Now()
	s := Step{Op: op, Detail: detail, At: now.Sub(t.begin), Took: now.Sub(start), Err: err}
	if c != nil {
		s.Local, s.Remote = addrs(c)
		if st, err := KernelState(c); err == nil {
			s.State = st
		}
	}
	t.fn(s)
}

// closed reports the close: the descriptor is gone, so the state is the
// socket table's.
func (t *tracer) closed(local, remote netip.AddrPort, detail string, start time.Time) {
	if t == nil {
		return
	}
	now := time.Now()
	s := Step{Op: "close", Detail: detail, At: now.Sub(t.begin), Took: now.Sub(start),
		Local: local, Remote: remote, FromTable: true}
	s.State, _ = TableState(local, remote)
	t.fn(s)
}

func addrs(c net.Conn) (local, remote netip.AddrPort) {
	if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
		local = a.AddrPort()
		local = netip.AddrPortFrom(local.Addr().Unmap(), local.Port())
	}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		remote = a.AddrPort()
		remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	}
	return local, remote
}

// TableState returns the state of the connection local→remote in the
// kernel's socket table of this network namespace, or 0 when the kernel
// holds no such socket. It sees what a descriptor no longer can: a
// TIME_WAIT socket, or an orphan in FIN_WAIT2 after close. It asks the
// kernel for that one socket (sock_diag), and reads /proc/net/tcp only if
// that fails.
func TableState(local, remote netip.AddrPort) (inspect.TCPState, error) {
	if s, ok, err := inspect.LookupSocket(local, remote); err == nil {
		if !ok {
			return 0, nil
		}
		return s.State, nil
	}
	path, proto := "/proc/net/tcp", inspect.TCP
	if !local.Addr().Unmap().Is4() {
		path, proto = "/proc/net/tcp6", inspect.TCP6
	}
	socks, err := inspect.ReadNetTCP(path, proto)
	if err != nil {
		return 0, err
	}
	for _, s := range socks {
		if s.Local == local && s.Remote == remote {
			return s.State, nil
		}
	}
	return 0, nil
}
