package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/sockleak/sockleak/internal/wording"
)

// Behaviour is how a Peer treats each connection.
type Behaviour string

// The Peer's behaviours. Each reads one request (a line, or what arrives
// before the client's FIN) before it acts.
const (
	// Echo answers every request line and closes after the client's FIN:
	// a well-behaved peer that lets the client close first.
	Echo Behaviour = "echo"
	// ReplyClose answers, then closes: the peer closes first.
	ReplyClose Behaviour = "reply-close"
	// Slow answers after Delay, then closes: the incident's peer, when
	// Delay exceeds the client's receive timeout.
	Slow Behaviour = "slow"
	// HalfCloseHold sends its FIN with shutdown(SHUT_WR) without answering
	// and keeps the descriptor until the client closes: its side waits in
	// FIN_WAIT2, which never times out while owned, for as long as the
	// client sits in CLOSE_WAIT.
	HalfCloseHold Behaviour = "half-close-hold"
	// Reset closes with SO_LINGER 0: the client gets RST instead of a reply.
	Reset Behaviour = "reset"
	// NeverClose answers every request line and never closes, even after
	// the client's FIN: the peer's own CLOSE_WAIT leak, seen from the
	// client as an orphan in FIN_WAIT2.
	NeverClose Behaviour = "never-close"
)

// Behaviours lists every behaviour.
var Behaviours = []Behaviour{Echo, ReplyClose, Slow, HalfCloseHold, Reset, NeverClose}

// ParseBehaviour returns the behaviour named s.
func ParseBehaviour(s string) (Behaviour, error) {
	for _, b := range Behaviours {
		if string(b) == s {
			return b, nil
		}
	}
	return "", fmt.Errorf("unknown behaviour %q: want one of %v", s, Behaviours)
}

// PeerOptions configures a Peer.
type PeerOptions struct {
	// Addr is the loopback address to listen on. Optional: "127.0.0.1:0",
	// a free port. Other addresses are refused: the Peer misbehaves on
	// purpose and is no service to expose.
	Addr      string
	Behaviour Behaviour // Optional: Echo.
	// Delay is how long Slow waits before answering. Optional: 3 s.
	Delay time.Duration
	// CloseDelay is how long Echo waits after the client's FIN before it
	// closes. The client's end sits in FIN_WAIT2 meanwhile, which a traced
	// client then shows; with none, Echo's FIN follows at once and the
	// client goes from FIN_WAIT1 straight to TIME_WAIT. Optional: 0.
	CloseDelay time.Duration
	// Reply is the answer to every request. Optional: the request, echoed.
	Reply []byte
	// Logf, when set, is told of each connection's events. Calls are
	// serialized. Optional.
	Logf func(format string, args ...any)
}

// Peer is a loopback TCP server that closes (or does not) in one of the
// Behaviours, to try a client against.
type Peer struct {
	opts  PeerOptions
	ln    net.Listener
	done  chan struct{}
	wg    sync.WaitGroup
	logMu sync.Mutex

	mu       sync.Mutex
	conns    map[*net.TCPConn]bool
	accepted int
	closed   bool
}

const maxRequest = 64 << 10

// StartPeer listens on opts.Addr and serves until Close.
func StartPeer(opts PeerOptions) (*Peer, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Behaviour == "" {
		opts.Behaviour = Echo
	}
	if _, err := ParseBehaviour(string(opts.Behaviour)); err != nil {
		return nil, err
	}
	if opts.Delay <= 0 {
		opts.Delay = 3 * time.Second
	}
	ap, err := netip.ParseAddrPort(opts.Addr)
	if err != nil || !ap.Addr().IsLoopback() {
		return nil, fmt.Errorf("peer address %q: want a loopback IP:port, e.g. 127.0.0.1:7000 or [::1]:7000", opts.Addr)
	}
	// No keepalive: probes would reset the client's leaked sockets.
	lc := net.ListenConfig{KeepAlive: -1}
	ln, err := lc.Listen(context.Background(), "tcp", opts.Addr)
	if err != nil {
		return nil, err
	}
	p := &Peer{opts: opts, ln: ln, done: make(chan struct{}), conns: make(map[*net.TCPConn]bool)}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr returns the address the Peer listens on.
func (p *Peer) Addr() netip.AddrPort { return p.ln.Addr().(*net.TCPAddr).AddrPort() }

// Accepted returns how many connections the Peer has accepted.
func (p *Peer) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Close stops the Peer: it stops listening, closes every connection it
// still holds and waits for its goroutines.
func (p *Peer) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	err := p.ln.Close()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Peer) logf(format string, args ...any) {
	if p.opts.Logf == nil {
		return
	}
	p.logMu.Lock()
	defer p.logMu.Unlock()
	p.opts.Logf(format, args...)
}

func (p *Peer) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// EMFILE and the like: the peer is out of descriptors too.
			// Keep serving once some are freed.
			p.logf("accept: %v", err)
			select {
			case <-p.done:
				return
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		tc := c.(*net.TCPConn)
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			_ = tc.Close()
			return
		}
		p.accepted++
		p.conns[tc] = true
		p.wg.Add(1)
		p.mu.Unlock()
		go p.handle(tc)
	}
}

// forget drops c from the connections Close must close, and closes it.
func (p *Peer) forget(c *net.TCPConn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

func (p *Peer) handle(c *net.TCPConn) {
	defer p.wg.Done()
	remote := c.RemoteAddr()
	p.logf("%s: accepted (%s)", remote, p.opts.Behaviour)
	r := bufio.NewReaderSize(c, 4096)
	switch p.opts.Behaviour {
	case Echo, NeverClose:
		for {
			req, err := readRequest(r)
			if len(req) > 0 {
				p.logf("%s: request of %s, answered", remote, wording.Plural(len(req), "byte"))
				if _, werr := c.Write(p.reply(req)); werr != nil {
					err = werr
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					// A reset (the client aborted): no FIN, and no socket
					// left to hold or to close gracefully.
					p.logf("%s: %v; closing", remote, err)
					p.forget(c)
					return
				}
				break
			}
		}
		if p.opts.Behaviour == NeverClose {
			p.logf("%s: client closed; holding the socket (CLOSE_WAIT here) until the peer stops", remote)
			<-p.done
			p.forget(c)
			return
		}
		if d := p.opts.CloseDelay; d > 0 {
			p.logf("%s: client closed; closing in %v (CLOSE_WAIT here, FIN_WAIT2 there)", remote, d)
			select {
			case <-time.After(d):
			case <-p.done:
			}
		} else {
			p.logf("%s: client closed; closing", remote)
		}
		p.forget(c)
	case ReplyClose, Slow:
		req, _ := readRequest(r)
		if p.opts.Behaviour == Slow {
			p.logf("%s: request of %s; answering in %v", remote, wording.Plural(len(req), "byte"), p.opts.Delay)
			select {
			case <-time.After(p.opts.Delay):
			case <-p.done:
				p.logf("%s: peer stopping before answering; closing", remote)
				p.forget(c)
				return
			}
		}
		if _, err := c.Write(p.reply(req)); err != nil {
			p.logf("%s: answer failed: %v", remote, err)
		}
		p.logf("%s: answered; closing", remote)
		p.forget(c)
	case HalfCloseHold:
		req, err := readRequest(r)
		p.logf("%s: request of %s; shutdown(SHUT_WR) without answering, holding the socket", remote, wording.Plural(len(req), "byte"))
		_ = c.CloseWrite()
		for err == nil {
			_, err = r.Discard(1)
		}
		p.logf("%s: client closed; closing", remote)
		p.forget(c)
	case Reset:
		req, _ := readRequest(r)
		p.logf("%s: request of %s; closing with RST", remote, wording.Plural(len(req), "byte"))
		_ = c.SetLinger(0)
		p.forget(c)
	}
}

func (p *Peer) reply(req []byte) []byte {
	if p.opts.Reply != nil {
		return p.opts.Reply
	}
	return req
}

// readRequest reads a line, or what arrives before the client's FIN, up to
// maxRequest bytes. A partial request comes with the error that ended it.
func readRequest(r *bufio.Reader) ([]byte, error) {
	var req []byte
	for len(req) < maxRequest {
		b, err := r.ReadSlice('\n')
		req = append(req, b...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return req, err
	}
	return req, nil
}
