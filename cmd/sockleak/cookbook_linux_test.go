package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cookbookBlock is a README block the cookbook test runs: ```sh cookbook.
var cookbookBlock = regexp.MustCompile("(?s)```sh cookbook\n(.*?)```")

// TestCookbook runs the README's jq cookbook, each ```sh cookbook block,
// with sh and jq against real output: sockleak is this test binary
// (TestHelperProcess) reading the incident's client tree, the one with a
// leak. Each block must succeed and print something, no null (what a
// renamed field reads as), and nothing on stderr.
func TestCookbook(t *testing.T) {
	jq, blocks := cookbook(t)
	if len(blocks) < 5 {
		t.Fatalf("%d cookbook blocks in README.md, want 5 or more", len(blocks))
	}
	root, err := filepath.Abs(filepath.Join("..", "..", "testdata", "incident", "client", "proc"))
	if err != nil {
		t.Fatal(err)
	}
	// watch samples at its least interval, so --count 1 ends at once.
	env := cookbookEnv(t, jq, "--proc-root "+shellQuote(root), `[ "$sub" = watch ] && extra="--interval 100ms"`)
	for i, b := range blocks {
		script := string(b[1])
		name := strings.TrimPrefix(strings.SplitN(script, "\n", 2)[0], "# ")
		t.Run(fmt.Sprint(i+1), func(t *testing.T) {
			stdout := runCookbook(t, env, name, script)
			if strings.TrimSpace(stdout) == "" {
				t.Errorf("%s printed nothing on the incident's tree:\n%s", name, script)
			}
			// A field the documents no longer have reads as null in jq.
			if strings.Contains(stdout, "null") {
				t.Errorf("%s printed a null (a field renamed?):\n%s", name, stdout)
			}
			t.Logf("%s\n%s", name, stdout)
		})
	}
}

// cookbook returns jq's path and the README's cookbook blocks; it skips
// t where jq is not installed.
func cookbook(t *testing.T) (jq string, blocks [][][]byte) {
	t.Helper()
	jq, err := exec.LookPath("jq")
	if err != nil {
		t.Skip("jq is not installed (.ci/run installs it): cannot run the README's jq examples")
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return jq, cookbookBlock.FindAllSubmatch(readme, -1)
}

// cookbookEnv is the environment a cookbook block runs in: sockleak on
// PATH is this test binary (TestHelperProcess), given args before the
// block's own and after its subcommand; setExtra is shell that may set
// $extra from $sub, for arguments of one subcommand only.
func cookbookEnv(t *testing.T, jq, args, setExtra string) []string {
	t.Helper()
	bin := t.TempDir()
	wrapper := fmt.Sprintf(`#!/bin/sh
sub=$1; shift
extra=
%s
SOCKLEAK_TEST_HELPER=sockleak exec %s -test.run='^TestHelperProcess$' -- "$sub" %s $extra "$@"
`, setExtra, shellQuote(os.Args[0]), args)
	if err := os.WriteFile(filepath.Join(bin, "sockleak"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+filepath.Dir(jq)+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// runCookbook runs one block with sh -e and returns its stdout; it fails
// t when the block fails or writes to stderr.
func runCookbook(t *testing.T, env []string, name, script string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", "set -e\n"+script)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Errorf("%s: %v\nstderr:\n%s\n%s", name, err, stderr.String(), script)
	}
	return stdout.String()
}

// TestCookbookAgeLive runs the cookbook's age example where ages exist:
// on a live process holding 3 sockets in CLOSE_WAIT (the fixture tree
// has no ages: /proc/net/tcp does not tell them, so there it can only
// print 0). With its threshold lowered from 60 s to 1 s, once the
// sockets are older than that, it counts all 3; at an hour, none.
func TestCookbookAgeLive(t *testing.T) {
	jq, blocks := cookbook(t)
	var script string
	for _, b := range blocks {
		if strings.Contains(string(b[1]), ".age_ms") {
			script = string(b[1])
		}
	}
	if !strings.Contains(script, "--argjson secs 60 ") {
		t.Fatalf("no cookbook block reads .age_ms with --argjson secs 60:\n%s", script)
	}
	pid, _ := leakingClient(t, 3, 50*time.Millisecond)
	time.Sleep(1500 * time.Millisecond) // the sockets entered CLOSE_WAIT before leakingClient returned
	env := cookbookEnv(t, jq, "--pid "+strconv.Itoa(pid), "")
	for secs, want := range map[string]string{"1": "3", "3600": "0"} {
		out := runCookbook(t, env, "age example", strings.Replace(script, "--argjson secs 60 ", "--argjson secs "+secs+" ", 1))
		if strings.TrimSpace(out) != want {
			t.Errorf("age example at %s s printed %q, want %s", secs, out, want)
		}
	}
}
