package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/sockleak/sockleak/internal/buildinfo"
)

// TestVersion: --version, -V and the version command print the same line,
// the version and the Go version that built it, on stdout, and exit 0.
func TestVersion(t *testing.T) {
	want := buildinfo.Read().String() + "\n"
	if !strings.HasPrefix(want, "sockleak "+buildinfo.Read().Version+" (") || !strings.Contains(want, runtime.Version()) {
		t.Fatalf("buildinfo line %q", want)
	}
	for _, args := range [][]string{{"--version"}, {"-V"}, {"version"}} {
		var stdout, stderr bytes.Buffer
		if code := Main(args, &stdout, &stderr); code != 0 || stderr.Len() > 0 {
			t.Errorf("sockleak %v: exit %d, stderr %q", args, code, stderr.String())
		}
		if stdout.String() != want {
			t.Errorf("sockleak %v printed %q, want %q", args, stdout.String(), want)
		}
	}
}
