package wording

import (
	"bytes"
	"strings"
	"testing"
)

func TestCount(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want string
	}{{0, "0 processes"}, {1, "1 process"}, {2, "2 processes"}} {
		if got := Count(tt.n, "process", "processes"); got != tt.want {
			t.Errorf("Count(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := Plural(1, "socket"); got != "1 socket" {
		t.Errorf("Plural(1) = %q", got)
	}
	if got := Plural(3, "socket"); got != "3 sockets" {
		t.Errorf("Plural(3) = %q", got)
	}
}

func TestWrap(t *testing.T) {
	text := strings.Repeat("word ", 60)
	got := Wrap(text)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("Wrap gave %d lines, want at least 3:\n%s", len(lines), got)
	}
	for i, l := range lines {
		if len(l) > Width {
			t.Errorf("line %d is %d wide, over %d: %q", i+1, len(l), Width, l)
		}
	}
	if strings.Join(strings.Fields(got), " ") != strings.TrimSpace(text) {
		t.Errorf("Wrap changed the words: %q", got)
	}

	var b bytes.Buffer
	WriteWrapped(&b, "hint: ", "      ", text)
	lines = strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if !strings.HasPrefix(lines[0], "hint: word") || !strings.HasPrefix(lines[1], "      word") {
		t.Errorf("WriteWrapped prefixes: %q", lines[:2])
	}
}
