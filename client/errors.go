package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
)

// Kind says what went wrong in an exchange, so that a caller can react:
// retry a refused connection later, not retry a reply that is too large,
// and so on.
type Kind int

// The kinds of failure Send tells apart.
const (
	KindOther      Kind = iota // anything else, e.g. EMFILE or a bad address
	KindTimeout                // an operation's deadline, or the context's, passed
	KindRefused                // nothing listens at the address (RST to our SYN)
	KindReset                  // the peer reset the connection (RST)
	KindPeerClosed             // the peer closed (FIN) before a complete reply
	KindTooLarge               // the reply exceeded Options.MaxReply
	KindCanceled               // the context was cancelled
)

var kindNames = [...]string{
	KindOther:      "error",
	KindTimeout:    "timeout",
	KindRefused:    "connection refused",
	KindReset:      "connection reset by peer",
	KindPeerClosed: "peer closed before replying",
	KindTooLarge:   "reply too large",
	KindCanceled:   "cancelled",
}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// Sentinels for errors.Is: errors.Is(err, client.ErrTimeout) holds for every
// *Error of KindTimeout.
var (
	ErrTimeout    = errors.New("timeout")
	ErrRefused    = errors.New("connection refused")
	ErrReset      = errors.New("connection reset by peer")
	ErrPeerClosed = errors.New("peer closed before replying")
	ErrTooLarge   = errors.New("reply too large")
	ErrCanceled   = errors.New("cancelled")
)

var sentinels = map[Kind]error{
	KindTimeout:    ErrTimeout,
	KindRefused:    ErrRefused,
	KindReset:      ErrReset,
	KindPeerClosed: ErrPeerClosed,
	KindTooLarge:   ErrTooLarge,
	KindCanceled:   ErrCanceled,
}

// Error is the error Send returns: which operation failed, against which
// address, of which kind, and the underlying error.
type Error struct {
	Op   string // "dial", "write" or "read"
	Addr string // the address Send was given
	Kind Kind
	Err  error // the underlying error, e.g. a *net.OpError or context.Canceled
}

func (e *Error) Error() string {
	// A *net.OpError already names the operation and the addresses.
	var oe *net.OpError
	msg := e.Err.Error()
	if !errors.As(e.Err, &oe) {
		msg = e.Op + " " + e.Addr + ": " + msg
	}
	if e.Kind == KindOther {
		return msg
	}
	return e.Kind.String() + ": " + msg
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's kind.
func (e *Error) Is(target error) bool {
	s, ok := sentinels[e.Kind]
	return ok && target == s
}

// classify wraps err from op into an *Error of the right kind. A context
// that is done explains the failure first: cancelling interrupts a blocked
// read by moving its deadline, which would otherwise read as a timeout.
func classify(ctx context.Context, op, addr string, err error) *Error {
	e := &Error{Op: op, Addr: addr, Err: err}
	var ne net.Error
	switch {
	case ctx.Err() != nil:
		e.Err = ctx.Err()
		e.Kind = KindCanceled
		if errors.Is(e.Err, context.DeadlineExceeded) {
			e.Kind = KindTimeout
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Kind = KindRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		// EPIPE: a write after the peer's RST.
		e.Kind = KindReset
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		e.Kind = KindTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		e.Kind = KindPeerClosed
	}
	return e
}
