package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// golden compares got with testdata/golden/NAME.golden at the repository
// root, rewriting the file first under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "golden", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/sockleak -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// The scan time is the only thing a fixture does not fix.
var (
	tableTime = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z+\-0-9]+`)
	jsonTime  = regexp.MustCompile(`"time": "[^"]+"`)
)

func runGolden(t *testing.T, args ...string) []byte {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := Main(args, &stdout, &stderr); code != 0 {
		t.Fatalf("sockleak %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	out := tableTime.ReplaceAll(stdout.Bytes(), []byte("TIME"))
	return jsonTime.ReplaceAll(out, []byte(`"time": "TIME"`))
}

// TestGoldenInspect renders every fixture tree end to end, through Main,
// as a table and as JSON.
func TestGoldenInspect(t *testing.T) {
	for _, tc := range []struct {
		name string
		tree string
		args []string
	}{
		{"incident-client", "incident/client", nil},
		{"incident-peer", "incident/peer", nil},
		{"healthy", "healthy", nil},
		{"ipv6", "ipv6", nil},
		{"netns", "netns", nil},
		{"hung", "hung", nil},
		{"hung-sockets", "hung", []string{"--pid", "2100", "--sockets", "--top", "2"}},
		{"incident-client-filtered", "incident/client", []string{"--state", "close-wait", "--peer", "10.0.0.0/24", "--port", "32781,32782", "--sockets", "--top", "1"}},
		{"healthy-nginx-sockets", "healthy", []string{"--name", "NGINX", "--sockets", "--top", "1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join("..", "..", "testdata", filepath.FromSlash(tc.tree), "proc")
			args := append([]string{"inspect", "--proc-root", root}, tc.args...)
			golden(t, "inspect-"+tc.name+".table", runGolden(t, args...))
			golden(t, "inspect-"+tc.name+".json", runGolden(t, append(args, "-o", "json")...))
		})
	}
}

func TestGoldenExplain(t *testing.T) {
	golden(t, "explain", runGolden(t, "explain"))
	golden(t, "explain-close-wait", runGolden(t, "explain", "CLOSE-WAIT"))
}
