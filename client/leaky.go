package client

import (
	"context"
	"net"
	"sync"
)

// LeakyClient is the bad example: the incident's client, kept to reproduce
// the bug in the demo and the tests. Never use it for anything else.
//
// Its Send is Send with the bug: when receiving the reply fails (the
// receive timeout above all, but also the peer's FIN or RST, or a reply too
// large) it returns the error without closing the socket, like a C client
// doing
//
//	if (recv(fd, buf, sizeof buf, 0) <= 0)
//		return -1;	/* fd leaks */
//
// The peer, answering late, closes its end: the leaked socket sits in
// CLOSE_WAIT, for ever, holding a descriptor. It closes on the other paths.
//
// The client keeps every leaked connection so that the garbage collector
// cannot close them behind its back (a net.Conn that becomes garbage is
// closed by a finalizer, which would hide the leak), and dials without TCP
// keepalive (a probe to a peer that closed draws a reset, which would make
// the CLOSE_WAIT socket vanish). A C program has neither safety net.
type LeakyClient struct {
	mu     sync.Mutex
	leaked []*net.TCPConn
}

// Send is the leaky exchange. See LeakyClient.
func (l *LeakyClient) Send(ctx context.Context, addr string, request []byte, opts Options) ([]byte, error) {
	opts = opts.withDefaults()
	x := &exchange{ctx: ctx, addr: addr, opts: opts}
	if err := x.dial(); err != nil {
		return nil, err
	}
	x.connected()
	if err := x.write(request); err != nil {
		x.finish(err)
		return nil, err
	}
	reply, err := x.read()
	if err != nil {
		x.stop()
		l.mu.Lock()
		l.leaked = append(l.leaked, x.conn)
		l.mu.Unlock()
		return nil, err // THE BUG: no close on the receive-error path
	}
	x.finish(nil)
	return reply, nil
}

// Leaked returns the connections Send leaked so far, oldest first.
func (l *LeakyClient) Leaked() []*net.TCPConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*net.TCPConn(nil), l.leaked...)
}

// CloseLeaked closes the leaked connections: the fix, applied late.
func (l *LeakyClient) CloseLeaked() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.leaked {
		_ = c.Close()
	}
	l.leaked = nil
}
