package socktest

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// Control records where each socket it is called for was opened, so that
// a leak's message points at the line that opened it. Use it as a
// net.Dialer's or a net.ListenConfig's control function:
//
//	d := net.Dialer{Control: socktest.Control}
//	lc := net.ListenConfig{Control: socktest.Control}
//
// It never fails the dial or the listen.
func Control(network, address string, c syscall.RawConn) error {
	pcs := callers()
	_ = c.Control(func(fd uintptr) { recordFD(fd, pcs) })
	return nil
}

// Track records where the connection or listener v was opened (the
// caller's line), when err is nil, and returns both unchanged:
//
//	ln, err := socktest.Track(net.Listen("tcp", "127.0.0.1:0"))
//
// v is a net.Conn, a net.Listener or anything with a SyscallConn method
// (a *tls.Conn is unwrapped); anything else is not recorded.
func Track[T any](v T, err error) (T, error) {
	if err == nil {
		recordValue(v, callers())
	}
	return v, err
}

// Transport makes tr record where each of its connections was opened:
// the line that sent the request for which it dialled. It wraps tr's
// DialContext (and DialTLSContext, if set), and returns the round tripper
// to use, which notes each request's caller:
//
//	client := &http.Client{Transport: socktest.Transport(tr)}
//
// tr is changed in place; its CloseIdleConnections still closes the pool.
func Transport(tr *http.Transport) http.RoundTripper {
	dial := tr.DialContext
	if dial == nil {
		// http.DefaultTransport's dialer.
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	tr.DialContext = recordingDial(dial)
	if tr.DialTLSContext != nil {
		tr.DialTLSContext = recordingDial(tr.DialTLSContext)
	}
	return roundTripper{tr}
}

type dialFunc = func(ctx context.Context, network, addr string) (net.Conn, error)

// recordingDial records each connection dial opens with the stack that
// the request's context carries: the transport dials on a goroutine of
// its own.
func recordingDial(dial dialFunc) dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err == nil {
			pcs, ok := ctx.Value(stackKey{}).([]uintptr)
			if !ok {
				pcs = callers()
			}
			recordValue(c, pcs)
		}
		return c, err
	}
}

type stackKey struct{}

type roundTripper struct{ tr *http.Transport }

// RoundTrip notes the caller's stack in the request's context, for the
// dial.
func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := context.WithValue(req.Context(), stackKey{}, callers())
	return rt.tr.RoundTrip(req.WithContext(ctx))
}

// CloseIdleConnections closes the transport's idle connections, as
// http.Client.CloseIdleConnections asks.
func (rt roundTripper) CloseIdleConnections() { rt.tr.CloseIdleConnections() }

// recordValue records the socket of a connection or listener.
func recordValue(v any, pcs []uintptr) {
	if n, ok := v.(interface{ NetConn() net.Conn }); ok { // *tls.Conn
		v = n.NetConn()
	}
	sc, ok := v.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) { recordFD(fd, pcs) })
}

func recordFD(fd uintptr, pcs []uintptr) {
	if ino, ok := fdInode(fd); ok {
		registry.record(ino, pcs)
	}
}

// callers returns the stack of its caller's caller.
func callers() []uintptr {
	var pcs [32]uintptr
	n := runtime.Callers(3, pcs[:])
	return append([]uintptr(nil), pcs[:n]...)
}

// opening is where a socket was opened.
type opening struct {
	pcs []uintptr
	seq uint64 // when it was recorded, in registry.seq's count
}

// maxFrames is how many frames of the test's own code a message shows.
const maxFrames = 4

// frames returns the frames of opening's stack outside the standard
// library and this package: the test's own lines.
func (o opening) frames() []runtime.Frame {
	if len(o.pcs) == 0 {
		return nil
	}
	var out []runtime.Frame
	fs := runtime.CallersFrames(o.pcs)
	for more := true; more && len(out) < maxFrames; {
		var f runtime.Frame
		f, more = fs.Next()
		if f.Function != "" && !internalFrame(f) {
			out = append(out, f)
		}
	}
	return out
}

// internalFrame reports whether f belongs to the standard library (the
// first element of its package's path has no dot, and it is not main), to
// a test binary's generated main, or to this package's own code (not its
// tests).
func internalFrame(f runtime.Frame) bool {
	if strings.HasSuffix(f.File, "_testmain.go") {
		return true
	}
	fn := f.Function
	pkg := fn
	if slash := strings.LastIndexByte(fn, '/'); slash >= 0 {
		if dot := strings.IndexByte(fn[slash:], '.'); dot >= 0 {
			pkg = fn[:slash+dot]
		}
	} else if dot := strings.IndexByte(fn, '.'); dot >= 0 {
		pkg = fn[:dot]
	}
	if pkg == "github.com/sockleak/sockleak/socktest" {
		return !strings.HasSuffix(f.File, "_test.go")
	}
	first, _, _ := strings.Cut(pkg, "/")
	return pkg != "main" && !strings.Contains(first, ".")
}

// registry holds where each socket the hooks saw was opened, by inode.
// Entries of sockets closed since are pruned at each look.
var registry = &openings{byInode: make(map[uint64]opening)}

type openings struct {
	mu      sync.Mutex
	seq     uint64
	byInode map[uint64]opening
}

func (r *openings) record(inode uint64, pcs []uintptr) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	r.byInode[inode] = opening{pcs: pcs, seq: r.seq}
}

func (r *openings) lookup(inode uint64) (opening, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.byInode[inode]
	return o, ok
}

// next returns the sequence number the next record will be given.
func (r *openings) next() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seq + 1
}

// prune forgets the sockets recorded before since that are not among
// socks: closed, their inode free for another socket. One recorded since
// may have been opened after socks were read.
func (r *openings) prune(socks []inspect.OwnSocket, since uint64) {
	open := make(map[uint64]bool, len(socks))
	for _, s := range socks {
		open[s.Inode] = true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for ino, o := range r.byInode {
		if o.seq < since && !open[ino] {
			delete(r.byInode, ino)
		}
	}
}
