package watch

import (
	"bytes"
	"strings"
	"testing"
)

func TestResolveOutput(t *testing.T) {
	for _, tt := range []struct {
		output   string
		terminal bool
		want     string
	}{{"", true, "live"}, {"", false, "text"}, {"json", true, "json"}, {"text", true, "text"}, {"live", false, "live"}} {
		if got := ResolveOutput(tt.output, tt.terminal); got != tt.want {
			t.Errorf("ResolveOutput(%q, %v) = %q, want %q", tt.output, tt.terminal, got, tt.want)
		}
	}
}

func TestNewRender(t *testing.T) {
	st := exporterStatus(t)
	for _, tt := range []struct{ output, prefix string }{
		{"text", "2026-11-25T10:00:30.000Z sample 4 ("},
		{"json", `{"type":"sample",`},
		{"live", "\x1b[?1049h"},
	} {
		var b bytes.Buffer
		render, done, err := NewRender(tt.output, &b, false, func() (int, int) { return 100, 20 })
		if err != nil {
			t.Fatal(err)
		}
		if err := render(st); err != nil {
			t.Fatal(err)
		}
		if err := done(false); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(b.String(), tt.prefix) {
			t.Errorf("%s: %.60q..., want it to start %q", tt.output, b.String(), tt.prefix)
		}
	}
	if _, _, err := NewRender("yaml", &bytes.Buffer{}, false, nil); err == nil {
		t.Error("NewRender(yaml): no error")
	}
}
