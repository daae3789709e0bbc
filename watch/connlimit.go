package watch

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// connLimiter is a listener that serves at most max connections at once,
// so that clients cannot take the descriptors the sampling loop needs.
// Past the cap it makes room rather than wait where it can: it closes the
// connection idle the longest (a keep-alive client reconnects), or else
// the oldest that has not sent a byte within newGrace; only when every
// connection is busy does Accept wait for one to end. A listener that
// merely blocked (netutil.LimitListener) would let idle keep-alive
// connections hold every slot, and /healthz with them, until their idle
// timeout.
type connLimiter struct {
	net.Listener
	max      int
	newGrace time.Duration

	mu     sync.Mutex
	room   *sync.Cond // signalled when a connection ends or goes idle, and at Close
	conns  map[*limitedConn]*connEntry
	closed bool
}

// connEntry is what the limiter knows of a connection: its HTTP state and
// since when it is in it.
type connEntry struct {
	state http.ConnState
	since time.Time
}

// limitedConn is a connection the limiter counts until it is closed.
type limitedConn struct {
	net.Conn
	l    *connLimiter
	once sync.Once
}

// Close closes the connection and frees its slot.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c) })
	return err
}

func newConnLimiter(ln net.Listener, max int, newGrace time.Duration) *connLimiter {
	l := &connLimiter{Listener: ln, max: max, newGrace: newGrace, conns: map[*limitedConn]*connEntry{}}
	l.room = sync.NewCond(&l.mu)
	return l
}

// Accept accepts a connection, then makes room for it or waits for room:
// one descriptor past the cap at most.
func (l *connLimiter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	for !l.closed && len(l.conns) >= l.max {
		if victim := l.evictable(time.Now()); victim != nil {
			delete(l.conns, victim)
			l.mu.Unlock()
			victim.Close() //nolint:errcheck // closing an idle connection: nothing to tell its client
			l.mu.Lock()
			continue
		}
		l.waitForRoom()
	}
	if l.closed {
		l.mu.Unlock()
		c.Close() //nolint:errcheck // the server is stopping
		return nil, net.ErrClosed
	}
	lc := &limitedConn{Conn: c, l: l}
	l.conns[lc] = &connEntry{state: http.StateNew, since: time.Now()}
	l.mu.Unlock()
	return lc, nil
}

// evictable returns the connection to close to make room, or nil: the one
// idle the longest, or else the oldest that has not sent a byte for
// newGrace. l.mu is held.
func (l *connLimiter) evictable(now time.Time) *limitedConn {
	var idle, fresh *limitedConn
	for c, e := range l.conns {
		switch {
		case e.state == http.StateIdle && (idle == nil || e.since.Before(l.conns[idle].since)):
			idle = c
		case e.state == http.StateNew && now.Sub(e.since) >= l.newGrace && (fresh == nil || e.since.Before(l.conns[fresh].since)):
			fresh = c
		}
	}
	if idle != nil {
		return idle
	}
	return fresh
}

// waitForRoom waits for a connection to end or go idle, or for a new one
// to pass newGrace. l.mu is held.
func (l *connLimiter) waitForRoom() {
	for _, e := range l.conns {
		if e.state == http.StateNew {
			t := time.AfterFunc(l.newGrace, l.room.Broadcast)
			defer t.Stop()
			break
		}
	}
	l.room.Wait()
}

func (l *connLimiter) release(c *limitedConn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
	l.room.Broadcast()
}

// track is the http.Server's ConnState hook: it follows each connection's
// state, for evictable.
func (l *connLimiter) track(c net.Conn, state http.ConnState) {
	if u, ok := c.(interface{ NetConn() net.Conn }); ok { // a TLS connection over ours
		c = u.NetConn()
	}
	lc, ok := c.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	if e := l.conns[lc]; e != nil {
		e.state, e.since = state, time.Now()
	}
	l.mu.Unlock()
	if state == http.StateIdle {
		l.room.Broadcast()
	}
}

// Close stops listening and wakes an Accept waiting for room. Closing
// again does nothing.
func (l *connLimiter) Close() error {
	l.mu.Lock()
	was := l.closed
	l.closed = true
	l.mu.Unlock()
	if was {
		return nil
	}
	l.room.Broadcast()
	return l.Listener.Close()
}

// closeSilent closes the connections that have not sent a request yet.
func (l *connLimiter) closeSilent() {
	l.mu.Lock()
	var silent []*limitedConn
	for c, e := range l.conns {
		if e.state == http.StateNew {
			silent = append(silent, c)
		}
	}
	l.mu.Unlock()
	for _, c := range silent {
		c.Close() //nolint:errcheck // the server is stopping
	}
}
