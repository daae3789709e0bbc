package watch

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"time"
)

// scrapeSharer serves /metrics so that many scrapes cost about one: a
// scrape that arrives while another with the same Accept and
// Accept-Encoding is being rendered waits for that render and is sent its
// bytes, and renders run one at a time. Two hundred concurrent scrapes
// then hold one rendered body and one compressor, not two hundred of
// each. Other paths go straight to next.
type scrapeSharer struct {
	next http.Handler // renders /metrics (and serves the rest)
	wait time.Duration

	turn chan struct{} // held by the render under way

	mu       sync.Mutex
	inflight map[string]*sharedRender
}

// sharedRender is one render of /metrics, and its result once done is
// closed.
type sharedRender struct {
	done   chan struct{}
	status int
	header http.Header
	body   []byte
}

// newScrapeSharer returns next with /metrics shared; a scrape waits for
// its render at most wait, then gets 503.
func newScrapeSharer(next http.Handler, wait time.Duration) *scrapeSharer {
	return &scrapeSharer{next: next, wait: wait, turn: make(chan struct{}, 1), inflight: map[string]*sharedRender{}}
}

func (s *scrapeSharer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/metrics" {
		s.next.ServeHTTP(w, r)
		return
	}
	accept, encoding := r.Header.Get("Accept"), r.Header.Get("Accept-Encoding")
	key := accept + "\x00" + encoding
	s.mu.Lock()
	rd := s.inflight[key]
	if rd == nil {
		rd = &sharedRender{done: make(chan struct{})}
		s.inflight[key] = rd
		// The render is the server's, not this scrape's: it goes on for
		// those that share it if this one gives up.
		go s.render(rd, key, accept, encoding)
	}
	s.mu.Unlock()

	timer := time.NewTimer(s.wait)
	defer timer.Stop()
	select {
	case <-rd.done:
	case <-r.Context().Done():
		return
	case <-timer.C:
		http.Error(w, "too many scrapes at once", http.StatusServiceUnavailable)
		return
	}
	for k, v := range rd.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rd.status)
	_, _ = w.Write(rd.body) // a client gone away: nothing to tell it
}

// render waits for its turn (at most s.wait), renders /metrics for the
// given Accept and Accept-Encoding, and hands the result to the scrapes
// waiting for it.
func (s *scrapeSharer) render(rd *sharedRender, key, accept, encoding string) {
	defer func() {
		s.mu.Lock()
		delete(s.inflight, key)
		s.mu.Unlock()
		close(rd.done)
	}()
	timer := time.NewTimer(s.wait)
	defer timer.Stop()
	select {
	case s.turn <- struct{}{}:
		defer func() { <-s.turn }()
	case <-timer.C:
		rd.status, rd.body = http.StatusServiceUnavailable, []byte("too many scrapes at once\n")
		return
	}
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "/metrics", nil) // a constant URL: no error
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	rec := &recorder{header: http.Header{}}
	s.next.ServeHTTP(rec, req)
	rd.status, rd.header, rd.body = rec.status, rec.header, rec.body.Bytes()
	if rd.status == 0 {
		rd.status = http.StatusOK
	}
}

// recorder is an http.ResponseWriter that keeps the response in memory.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
