package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/spf13/cobra/doc"
)

// The man pages in docs/man are generated from the commands, their help
// and flags, by cobra's doc generator: go generate ./cmd/sockleak (go
// test -run TestManPages -update) rewrites them, and this test fails
// when a command or flag changed and they were not.

var manDir = filepath.Join("..", "..", "docs", "man")

// manHeader fixes what would otherwise change with each run: the date
// (cobra's default is today) and the source (no version, which changes
// with each build).
var manHeader = doc.GenManHeader{
	Title: "SOCKLEAK", Section: "1", Source: "sockleak", Manual: "sockleak manual",
	Date: func() *time.Time { d := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC); return &d }(),
}

// genMan writes every command's man page (sockleak.1, sockleak-inspect.1,
// ...) to dir.
func genMan(t *testing.T, dir string) {
	t.Helper()
	root := newRootCmd()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	root.DisableAutoGenTag = true // its date changes daily
	h := manHeader
	if err := doc.GenManTree(root, &h, dir); err != nil {
		t.Fatal(err)
	}
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.1"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = string(b)
	}
	return out
}

func TestManPages(t *testing.T) {
	tmp := t.TempDir()
	genMan(t, tmp)
	want := readDir(t, tmp)
	for _, page := range []string{"sockleak.1", "sockleak-inspect.1", "sockleak-check.1", "sockleak-watch.1", "sockleak-run.1"} {
		if want[page] == "" {
			t.Fatalf("the generator wrote no %s: %v", page, slices.Sorted(func(yield func(string) bool) {
				for k := range want {
					if !yield(k) {
						return
					}
				}
			}))
		}
	}
	if *update {
		if err := os.RemoveAll(manDir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(manDir, 0o755); err != nil {
			t.Fatal(err)
		}
		genMan(t, manDir)
	}
	got := readDir(t, manDir)
	for name, page := range want {
		if got[name] != page {
			t.Errorf("docs/man/%s is stale or missing: run go generate ./cmd/sockleak", name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("docs/man/%s is of no command: run go generate ./cmd/sockleak", name)
		}
	}
}
