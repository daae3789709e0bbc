package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/sockleak/sockleak/internal/metrics"
)

// ServeOptions are the exporter's settings. Only Addr is required; the
// limits default to what keeps the exporter answering, and its
// descriptors to spare for sampling, whatever its clients do.
type ServeOptions struct {
	Addr string // --listen: the address to serve on
	// Interval is the sampling interval: /healthz fails once the latest
	// sample is three intervals and ten seconds old.
	Interval time.Duration
	// Version is sockleak_build_info's version, what sockleak version
	// prints. Optional: "" takes the module's from the build info.
	Version string

	// WebConfigFile is --web.config.file: TLS and basic auth, in the
	// Prometheus exporter-toolkit's format (as node_exporter's). Optional:
	// "" serves plain HTTP to anyone. It is read again at each request
	// and TLS handshake, so new certificates and users take effect
	// without a restart.
	WebConfigFile string
	// Log receives the server's and the toolkit's warnings (failed TLS
	// handshakes, a web config that no longer parses). Optional: nil
	// discards them.
	Log io.Writer

	// MaxConns is how many connections are served at once. Optional: 0
	// derives it from the open-files limit (connCap).
	MaxConns int
	// The HTTP timeouts. Optional: 0 takes the default (DefaultTimeouts).
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// DefaultTimeouts are the exporter's HTTP timeouts unless told otherwise:
// a request's header within 10 s and the whole of it within 15 s (a scrape
// is a GET), its response written within 30 s (a scrape's own timeout is
// 10 s by default), and an idle keep-alive connection closed after 90 s
// (longer than a usual scrape interval, so a scraper keeps its
// connection; the connection cap closes idle ones first when it is short
// of room anyway).
var DefaultTimeouts = ServeOptions{ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 15 * time.Second,
	WriteTimeout: 30 * time.Second, IdleTimeout: 90 * time.Second}

// maxHeaderBytes bounds a request's header: a scrape's is a few hundred
// bytes, and the server's default (1 MB) times every connection is memory
// a client could make it hold.
const maxHeaderBytes = 16 << 10

// Server serves an Exporter's /metrics and /healthz over HTTP while a
// watch runs.
type Server struct {
	ln     *connLimiter
	srv    *http.Server
	served chan struct{}
}

// Serve listens on o.Addr and serves exp from a registry of its own
// (never the global default). /healthz fails once the latest sample is
// three intervals and ten seconds old: a sampling loop that hangs is
// unhealthy. Clients cannot starve it: connections are capped below the
// open-files limit (the sampling loop keeps its descriptors), idle ones
// make room for new ones, every phase of a request has a timeout, and
// concurrent scrapes share one render.
func Serve(o ServeOptions, exp *Exporter) (*Server, error) {
	o = o.withDefaults()
	if o.MaxConns <= 0 {
		c, err := connCap()
		if err != nil {
			return nil, err
		}
		o.MaxConns = c
	}
	reg, err := registry(exp, o.Version)
	if err != nil {
		return nil, err
	}
	if err := web.Validate(o.WebConfigFile); err != nil {
		return nil, fmt.Errorf("--web.config.file: %w", err)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	lim := newConnLimiter(ln, o.MaxConns, min(time.Second, o.ReadHeaderTimeout/2))
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	logger := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	maxAge := 3*o.Interval + 10*time.Second
	handler := Handler(reg, func() error { return exp.Health(time.Now(), maxAge) })
	s := &Server{
		ln: lim,
		srv: &http.Server{
			Handler:           newScrapeSharer(handler, o.WriteTimeout),
			ReadHeaderTimeout: o.ReadHeaderTimeout,
			ReadTimeout:       o.ReadTimeout,
			WriteTimeout:      o.WriteTimeout,
			IdleTimeout:       o.IdleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ConnState:         lim.track,
			HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: 16},
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		served: make(chan struct{}),
	}
	flags := &web.FlagConfig{WebConfigFile: &o.WebConfigFile}
	go func() {
		defer close(s.served)
		// Ends with ErrServerClosed at Shutdown, or at once with a web
		// config that changed for the worse since Validate.
		if err := web.Serve(lim, s.srv, flags, logger); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("the exporter stopped", "err", err)
		}
	}()
	return s, nil
}

// registry returns the exporter's registry (its own, never the global
// default): the exporter's metrics, sockleak_build_info, and the Go
// runtime's and this process's, as every exporter has (the process's open
// descriptors against its limit tell when the exporter itself runs short).
func registry(exp *Exporter, version string) (*prometheus.Registry, error) {
	build, err := metrics.BuildInfoGauge(version)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{exp, build, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

func (o ServeOptions) withDefaults() ServeOptions {
	d := DefaultTimeouts
	for _, f := range []struct{ v, def *time.Duration }{
		{&o.ReadHeaderTimeout, &d.ReadHeaderTimeout}, {&o.ReadTimeout, &d.ReadTimeout},
		{&o.WriteTimeout, &d.WriteTimeout}, {&o.IdleTimeout, &d.IdleTimeout},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return o
}

// maxConnsDefault is the connection cap where the open-files limit allows
// more: a few Prometheus servers and probes need a handful.
const maxConnsDefault = 128

// connCap returns how many connections the exporter serves at once: half
// of the open files left once those a scan needs are set aside (its fd
// walkers, two descriptors each, two per core; the netlink socket; the
// runtime's and the process collector's; with room to spare), at most
// maxConnsDefault. Go raises the soft limit to the hard one at start, so
// the soft limit read here is the one in force.
func connCap() (int, error) {
	limit, err := openFilesLimit()
	if err != nil {
		return 0, fmt.Errorf("read the open-files limit: %w", err)
	}
	return capFromLimit(limit, runtime.GOMAXPROCS(0)), nil
}

func capFromLimit(limit uint64, procs int) int {
	reserve := uint64(64 + 4*procs)
	if limit <= reserve+4 {
		return 2
	}
	return int(min((limit-reserve)/2, maxConnsDefault))
}

// Addr is the address the server listens on (the port chosen for port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops listening, lets the scrapes in flight finish for up to 5 s,
// and returns once the server is done. Connections that have not sent a
// request are closed at once: a scraper's spare connections, dialled
// ahead, would otherwise hold it for those 5 s.
func (s *Server) Shutdown() error {
	_ = s.ln.Close() // Shutdown would; first, so that no connection comes in meanwhile
	s.ln.closeSilent()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	<-s.served
	return err
}
