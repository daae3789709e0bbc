package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// cookbookBlock is a README block the cookbook test runs: ```sh cookbook.
var cookbookBlock = regexp.MustCompile("(?s)```sh cookbook\n(.*?)```")

// TestCookbook runs the README's jq cookbook, each ```sh cookbook block,
// with sh and jq against real output: sockleak is this test binary
// (TestHelperProcess) reading the incident's client tree, the one with a
// leak. Each block must succeed and print something, no null (what a
// renamed field reads as), and nothing on stderr.
func TestCookbook(t *testing.T) {
	jq, err := exec.LookPath("jq")
	if err != nil {
		t.Skip("jq is not installed (.ci/run installs it): cannot run the README's jq examples")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := cookbookBlock.FindAllSubmatch(readme, -1)
	if len(blocks) < 5 {
		t.Fatalf("%d cookbook blocks in README.md, want 5 or more", len(blocks))
	}
	root, err := filepath.Abs(filepath.Join("..", "..", "testdata", "incident", "client", "proc"))
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	// watch samples at its least interval, so --count 1 ends at once.
	wrapper := fmt.Sprintf(`#!/bin/sh
sub=$1; shift
extra=
[ "$sub" = watch ] && extra="--interval 100ms"
SOCKLEAK_TEST_HELPER=sockleak exec %q -test.run='^TestHelperProcess$' -- "$sub" --proc-root %q $extra "$@"
`, os.Args[0], root)
	if err := os.WriteFile(filepath.Join(bin, "sockleak"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+filepath.Dir(jq)+string(os.PathListSeparator)+os.Getenv("PATH"))
	for i, b := range blocks {
		script := string(b[1])
		name := strings.TrimPrefix(strings.SplitN(script, "\n", 2)[0], "# ")
		t.Run(fmt.Sprint(i+1), func(t *testing.T) {
			cmd := exec.Command("sh", "-c", "set -e\n"+script)
			cmd.Env = env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil || stderr.Len() > 0 {
				t.Errorf("%s: %v\nstderr:\n%s\n%s", name, err, stderr.String(), script)
			}
			if strings.TrimSpace(stdout.String()) == "" {
				t.Errorf("%s printed nothing on the incident's tree:\n%s", name, script)
			}
			// A field the documents no longer have reads as null in jq.
			if strings.Contains(stdout.String(), "null") {
				t.Errorf("%s printed a null (a field renamed?):\n%s", name, stdout.String())
			}
			t.Logf("%s\n%s", name, stdout.String())
		})
	}
}
