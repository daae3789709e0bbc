package watch

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sockleak/sockleak/internal/livetest"
)

// get fetches a path from the server and returns its status and body.
func get(t *testing.T, s *Server, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr().String() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestServe(t *testing.T) {
	livetest.Skip(t)
	if _, err := Serve("256.0.0.1:1", NewExporter(1), time.Second); err == nil {
		t.Error("Serve on a bad address: no error")
	}
	exp := NewExporter(1)
	s, err := Serve("127.0.0.1:0", exp, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if code, body := get(t, s, "/healthz"); code != http.StatusServiceUnavailable || body != "no sample yet\n" {
		t.Errorf("/healthz before a sample = %d %q", code, body)
	}
	st := exporterStatus(t)
	st.Time = time.Now()
	exp.Update(st)
	if code, body := get(t, s, "/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz after a sample = %d %q", code, body)
	}
	if code, body := get(t, s, "/metrics"); code != http.StatusOK || !strings.Contains(body, "\nsockleak_sockets{state=\"close_wait\"} 7\n") {
		t.Errorf("/metrics = %d\n%s", code, body)
	}
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.Dial("tcp", s.Addr().String()); err == nil {
		conn.Close()
		t.Error("the server still listens after Close")
	}
}
