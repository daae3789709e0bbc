package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// CloseMode is how Send ends a connection after a complete exchange.
type CloseMode int

const (
	// Graceful half-closes (shutdown(SHUT_WR): our FIN), reads and
	// discards until the peer's FIN or Options.DrainTimeout, then closes.
	// Use it by default: the peer sees a clean end of stream, nothing
	// still in flight is lost, and when the peer closes within the drain
	// the TIME_WAIT lands on this side, which opened the connection.
	Graceful CloseMode = iota
	// Abort sets SO_LINGER to 0 and closes: the kernel sends RST, drops
	// anything unsent and keeps no TIME_WAIT. Use it when the exchange is
	// over and the connection must not linger: a client that opens many
	// short connections to one peer and runs out of ephemeral ports to
	// TIME_WAIT, or a peer that must not be left waiting for a FIN. The
	// peer sees ECONNRESET instead of EOF, so use it only with peers that
	// expect it.
	Abort
)

func (m CloseMode) String() string {
	if m == Abort {
		return "abort"
	}
	return "graceful"
}

// Options configures Send. The zero value is usable: every field is
// optional and has a default.
type Options struct {
	// DialTimeout bounds connecting. Optional: 2 s.
	DialTimeout time.Duration
	// WriteTimeout bounds writing the whole request. Optional: 2 s.
	WriteTimeout time.Duration
	// ReadTimeout bounds reading the whole reply: the receive timeout of
	// the incident. Optional: 2 s.
	ReadTimeout time.Duration
	// MaxReply is the largest reply accepted, in bytes; a longer one fails
	// with ErrTooLarge. Optional: 64 KiB.
	MaxReply int
	// Delimiter ends the reply (it is included in it). Optional: when
	// empty, the reply ends at the peer's FIN (EOF).
	Delimiter []byte
	// Close is how a completed exchange ends. Optional: Graceful. After a
	// timeout, a cancellation or a reply too large the socket is closed at
	// once, whatever the mode: the exchange is abandoned, and waiting for
	// the peer's FIN would only keep the socket longer.
	Close CloseMode
	// DrainTimeout bounds the wait for the peer's FIN in a graceful close.
	// Optional: 500 ms.
	DrainTimeout time.Duration
	// Trace, when set, is called after each step with the socket's kernel
	// state. Optional.
	Trace func(Step)
}

const (
	defaultTimeout      = 2 * time.Second
	defaultMaxReply     = 64 << 10
	defaultDrainTimeout = 500 * time.Millisecond
	// drainLimit caps what a graceful close discards: a peer that keeps
	// sending is not worth waiting for, and closing with unread data sends
	// RST, which ends it.
	drainLimit = 64 << 10
)

func (o Options) withDefaults() Options {
	if o.DialTimeout <= 0 {
		o.DialTimeout = defaultTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = defaultTimeout
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = defaultTimeout
	}
	if o.MaxReply <= 0 {
		o.MaxReply = defaultMaxReply
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = defaultDrainTimeout
	}
	return o
}

// dialer disables TCP keepalive. Go enables it by default (15 s); the
// reference client needs none for one short exchange, and the leaky
// variant must not have it: a probe to a peer that closed draws a reset,
// and the leaked CLOSE_WAIT socket would vanish and hide the bug.
func dialer(o Options) *net.Dialer {
	return &net.Dialer{Timeout: o.DialTimeout, KeepAlive: -1}
}

// Send connects to addr, writes request, reads the reply and closes the
// connection, on every path and exactly once. Each operation has its own
// deadline (Options); ctx bounds the whole exchange and cancelling it
// interrupts a blocked dial, write or read. The reply ends at
// Options.Delimiter, or at the peer's FIN when there is none. Errors are
// *Error: use errors.Is with ErrTimeout, ErrRefused, ErrReset,
// ErrPeerClosed, ErrTooLarge or ErrCanceled to tell them apart. A peer that
// closes without sending a byte fails with ErrPeerClosed, with or without a
// delimiter.
func Send(ctx context.Context, addr string, request []byte, opts Options) (reply []byte, err error) {
	opts = opts.withDefaults()
	x := &exchange{ctx: ctx, addr: addr, opts: opts}
	if err := x.dial(); err != nil {
		return nil, err
	}
	// The one close of the connection, whatever happens below.
	defer func() { x.finish(err) }()
	x.connected()
	if err := x.write(request); err != nil {
		return nil, err
	}
	return x.read()
}

// exchange is one connection's life: the steps Send and LeakyClient take.
type exchange struct {
	ctx    context.Context
	addr   string
	opts   Options
	conn   *net.TCPConn
	stop   func() bool // unregisters the context's interruption
	sawEOF bool        // the peer's FIN has been read
	closed bool
	tracer *tracer
	// dialStart is when the dial began, for its trace step.
	dialStart time.Time
}

// aLongTimeAgo is a deadline in the past: setting it interrupts a blocked
// read or write at once.
var aLongTimeAgo = time.Unix(1, 0)

func (x *exchange) dial() error {
	x.tracer = newTracer(x.opts.Trace)
	start := time.Now()
	c, err := dialer(x.opts).DialContext(x.ctx, "tcp", x.addr)
	if err != nil {
		e := classify(x.ctx, "dial", x.addr, err)
		x.tracer.step(nil, "connect", "", start, e)
		return e
	}
	x.conn = c.(*net.TCPConn)
	x.stop = context.AfterFunc(x.ctx, func() { _ = x.conn.SetDeadline(aLongTimeAgo) })
	x.dialStart = start
	return nil
}

// connected traces the dial that succeeded. It comes after the caller has
// arranged the close: a trace callback may panic.
func (x *exchange) connected() {
	x.tracer.step(x.conn, "connect", "", x.dialStart, nil)
}

// write writes the whole request. net.Conn.Write already loops over short
// writes until all is written or an error; the loop states the contract.
func (x *exchange) write(b []byte) error {
	start := time.Now()
	_ = x.conn.SetWriteDeadline(start.Add(x.opts.WriteTimeout))
	n := 0
	for n < len(b) {
		m, err := x.conn.Write(b[n:])
		n += m
		if err != nil {
			e := classify(x.ctx, "write", x.addr, err)
			x.tracer.step(x.conn, "write", wording.Plural(n, "byte"), start, e)
			return e
		}
	}
	x.tracer.step(x.conn, "write", wording.Plural(n, "byte"), start, nil)
	return nil
}

// read reads the reply: up to the delimiter, or EOF when there is none,
// and no more than MaxReply bytes. One deadline covers the whole reply.
func (x *exchange) read() ([]byte, error) {
	start := time.Now()
	_ = x.conn.SetReadDeadline(start.Add(x.opts.ReadTimeout))
	var buf []byte
	chunk := make([]byte, 4096)
	for {
		n, err := x.conn.Read(chunk)
		if n > 0 {
			from := max(0, len(buf)-len(x.opts.Delimiter)+1)
			buf = append(buf, chunk[:n]...)
			if d := x.opts.Delimiter; len(d) > 0 {
				if i := bytes.Index(buf[from:], d); i >= 0 && from+i+len(d) <= x.opts.MaxReply {
					buf = buf[:from+i+len(d)]
					x.tracer.step(x.conn, "read", wording.Plural(len(buf), "byte"), start, nil)
					return buf, nil
				}
			}
			if len(buf) > x.opts.MaxReply {
				e := &Error{Op: "read", Addr: x.addr, Kind: KindTooLarge,
					Err: errors.New("more than " + wording.Plural(x.opts.MaxReply, "byte"))}
				x.tracer.step(x.conn, "read", wording.Plural(len(buf), "byte")+" so far", start, e)
				return nil, e
			}
		}
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			x.sawEOF = true
			if len(x.opts.Delimiter) == 0 && len(buf) > 0 {
				x.tracer.step(x.conn, "read", wording.Plural(len(buf), "byte")+" and the peer's FIN", start, nil)
				return buf, nil
			}
			err = io.EOF
			if len(buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
		}
		e := classify(x.ctx, "read", x.addr, err)
		x.tracer.step(x.conn, "read", wording.Plural(len(buf), "byte"), start, e)
		return nil, e
	}
}

// finish closes the connection once. After a completed exchange, or when
// the peer closed first, it closes as Options.Close says; after a timeout,
// a cancellation, a reset or a reply too large it closes at once.
func (x *exchange) finish(err error) {
	if x.closed {
		panic("client: connection closed twice") // our bug, not the caller's
	}
	x.closed = true
	x.stop()
	// Should a trace callback panic below, the descriptor is still closed
	// (a second Close is harmless).
	defer x.conn.Close()
	var ce *Error
	clean := err == nil || errors.As(err, &ce) && ce.Kind == KindPeerClosed
	switch {
	case x.opts.Close == Abort:
		start := time.Now()
		_ = x.conn.SetLinger(0)
		x.tracer.step(x.conn, "SO_LINGER 0", "", start, nil)
		x.close("RST")
	case clean && x.ctx.Err() == nil:
		x.graceful()
	default:
		x.close("")
	}
}

// graceful sends our FIN, waits a little for the peer's, then closes.
func (x *exchange) graceful() {
	var before inspect.TCPState
	if x.tracer != nil {
		before, _ = KernelState(x.conn)
	}
	start := time.Now()
	if err := x.conn.CloseWrite(); err != nil {
		x.tracer.step(x.conn, "shutdown(SHUT_WR)", "", start, err)
		x.close("")
		return
	}
	detail := "our FIN"
	if before == inspect.CloseWait {
		// The peer closed first: our FIN took us from CLOSE_WAIT to
		// LAST_ACK, and on loopback its ACK arrives before shutdown
		// returns, so the descriptor may already read CLOSE.
		if st, err := KernelState(x.conn); err == nil && st == inspect.Close {
			detail = "our FIN: LAST_ACK, then the peer's ACK (before shutdown returned)"
		}
	}
	x.tracer.step(x.conn, "shutdown(SHUT_WR)", detail, start, nil)
	if x.sawEOF {
		x.close("")
		return
	}
	start = time.Now()
	deadline := start.Add(x.opts.DrainTimeout)
	_ = x.conn.SetReadDeadline(deadline)
	if x.tracer != nil {
		x.traceAck(deadline)
	}
	n, err := io.Copy(io.Discard, io.LimitReader(x.conn, drainLimit))
	detail = "the peer's FIN"
	if x.tracer != nil && before != inspect.CloseWait {
		if st, err := KernelState(x.conn); err == nil && st == inspect.Close {
			detail += ": the kernel's TIME_WAIT socket now holds the connection"
		}
	}
	switch {
	case err != nil && errors.Is(err, os.ErrDeadlineExceeded):
		detail = "no FIN from the peer within " + x.opts.DrainTimeout.String()
	case err != nil:
		detail = err.Error()
	case n == drainLimit:
		detail = "the peer keeps sending"
	}
	if n > 0 {
		detail = wording.Plural(int(n), "byte") + " discarded, " + detail
	}
	x.tracer.step(x.conn, "drain", detail, start, nil)
	x.close("")
}

// traceAck waits, when tracing, until the peer acknowledges our FIN (the
// socket leaves FIN_WAIT1) and traces FIN_WAIT2 if the kernel shows it: a
// peer that sends its own FIN at once takes us from FIN_WAIT1 straight to
// TIME_WAIT. It polls the descriptor's state and reads nothing.
func (x *exchange) traceAck(deadline time.Time) {
	start := time.Now()
	for time.Now().Before(deadline) {
		st, err := KernelState(x.conn)
		if err != nil || st != inspect.FinWait1 {
			if st == inspect.FinWait2 {
				x.tracer.step(x.conn, "ACK", "the peer acknowledged our FIN; waiting for its own", start, nil)
			}
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func (x *exchange) close(detail string) {
	start := time.Now()
	local, remote := addrs(x.conn)
	_ = x.conn.Close()
	x.tracer.closed(local, remote, detail, start)
}
