package watch

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Server serves an Exporter's /metrics and /healthz over HTTP while a
// watch runs.
type Server struct {
	ln     net.Listener
	srv    *http.Server
	served chan struct{}
}

// Serve listens on addr and serves exp from a registry of its own (never
// the global default). /healthz fails once the latest sample is three
// intervals and ten seconds old: a sampling loop that hangs is unhealthy.
func Serve(addr string, exp *Exporter, interval time.Duration) (*Server, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(exp); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	maxAge := 3*interval + 10*time.Second
	s := &Server{
		ln: ln,
		srv: &http.Server{
			Handler:           Handler(reg, func() error { return exp.Health(time.Now(), maxAge) }),
			ReadHeaderTimeout: 10 * time.Second,
		},
		served: make(chan struct{}),
	}
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(ln) // ends with ErrServerClosed at Shutdown
	}()
	return s, nil
}

// Addr is the address the server listens on (the port chosen for port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops listening, lets the scrapes in flight finish for up to 5 s,
// and returns once the server is done.
func (s *Server) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.served
	return err
}
