package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/hostiletest"
)

// complete runs sockleak __complete ARGS... as a shell's completion script
// does, and returns the candidates (without descriptions) and the
// directive line.
func complete(t *testing.T, args ...string) (names, lines []string, directive string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := Main(append([]string{cobra.ShellCompRequestCmd}, args...), &stdout, &stderr); code != 0 {
		t.Fatalf("__complete %q: exit %d: %s", args, code, stderr.String())
	}
	lines = strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
		t.Fatalf("__complete %q: no directive line in %q", args, stdout.String())
	}
	directive, lines = lines[len(lines)-1], lines[:len(lines)-1]
	for _, l := range lines {
		name, _, _ := strings.Cut(l, "\t")
		names = append(names, name)
	}
	return names, lines, directive
}

// noFiles is ShellCompDirectiveNoFileComp alone, as __complete prints it.
var noFiles = ":4"

// TestCompleteStates is the acceptance: sockleak __complete
// inspect --state "" lists the states, each with what it means, and no
// file names.
func TestCompleteStates(t *testing.T) {
	names, lines, directive := complete(t, "inspect", "--state", "")
	var want []string
	for _, st := range inspect.States {
		want = append(want, st.String())
	}
	if len(want) < 12 || !slices.Equal(names, want) {
		t.Errorf("--state completes to %q, want %q", names, want)
	}
	for _, l := range lines {
		if _, desc, _ := strings.Cut(l, "\t"); desc == "" {
			t.Errorf("%q has no description", l)
		}
	}
	if directive != noFiles {
		t.Errorf("directive %s, want %s (no file names)", directive, noFiles)
	}
	// The last of a comma-separated list, in the case it was begun in.
	names, _, _ = complete(t, "inspect", "--state", "close-wait,fin")
	if !slices.Equal(names, []string{"close-wait,fin-wait1", "close-wait,fin-wait2"}) {
		t.Errorf("--state close-wait,fin completes to %q", names)
	}
	for _, args := range [][]string{{"explain", ""}, {"run", "--leak-state", ""}, {"watch", "--state", ""}, {"check", "--state", ""}} {
		if names, _, _ := complete(t, args...); !slices.Equal(names, want) {
			t.Errorf("%q completes to %q, want the states", args, names)
		}
	}
	if names, _, _ := complete(t, "explain", "close-wait", ""); len(names) != 0 {
		t.Errorf("explain takes one state; a second completes to %q", names)
	}
}

// TestCompleteEnumFlags: every flag that takes one of a few values
// completes to them, not to file names.
func TestCompleteEnumFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"inspect", "--backend", ""}, []string{"auto", "bpf", "netlink", "proc", "gopsutil"}},
		{[]string{"check", "--backend", "n"}, []string{"netlink"}},
		{[]string{"peer", "--behaviour", ""}, []string{"echo", "reply-close", "slow", "half-close-hold", "reset", "never-close"}},
		{[]string{"client", "--close", ""}, []string{"graceful", "abort"}},
		{[]string{"check", "--crit", "fd"}, []string{"fd-usage="}},
		{[]string{"check", "--max-state", "close"}, []string{"close=", "close-wait="}},
		{[]string{"check", "--crit", "fd-usage="}, nil},
		{[]string{"check", "-w", "close-wait=5,fd"}, []string{"close-wait=5,fd-usage="}},
		{[]string{"check", "--critical", "CLOSE-W"}, []string{"close-wait="}},
		{[]string{"inspect", "--top", ""}, nil},
	} {
		names, _, directive := complete(t, tt.args...)
		if !slices.Equal(names, tt.want) {
			t.Errorf("%q completes to %q, want %q", tt.args, names, tt.want)
		}
		if !strings.HasPrefix(directive, ":") || directive == ":0" {
			t.Errorf("%q: directive %s lets the shell offer file names", tt.args, directive)
		}
	}
	if _, _, d := complete(t, "inspect", "--proc-root", ""); d != ":0" {
		t.Errorf("--proc-root names a directory: directive %s, want the shell's default", d)
	}
}

// TestCompleteOutputs: each command's -o completes to exactly the formats
// its error for a bad -o lists, so the two cannot drift apart.
func TestCompleteOutputs(t *testing.T) {
	wantList := regexp.MustCompile(`want ([a-z, ]+)`)
	for cmd, formats := range outputFormats {
		args := []string{cmd, "-o", "bogus"}
		if cmd == "run" {
			args = append(args, "--", "true")
		}
		var stdout, stderr bytes.Buffer
		Main(args, &stdout, &stderr)
		m := wantList.FindStringSubmatch(stderr.String())
		if m == nil {
			t.Errorf("%s -o bogus: no list of formats in %q", cmd, stderr.String())
			continue
		}
		accepted := strings.FieldsFunc(strings.ReplaceAll(m[1], " or ", ","), func(r rune) bool { return r == ',' || r == ' ' })
		names, _, _ := complete(t, cmd, "-o", "")
		slices.Sort(accepted)
		slices.Sort(names)
		if len(names) != len(formats) || !slices.Equal(names, accepted) {
			t.Errorf("%s -o completes to %q; the command accepts %q", cmd, names, accepted)
		}
	}
}

// TestCompletePIDs: --pid completes to the processes of --proc-root, with
// their names escaped (a process names itself), after those already
// typed.
func TestCompletePIDs(t *testing.T) {
	root := t.TempDir()
	for pid, comm := range map[string]string{"7": "nginx", "70": "evil\x1b[2J\tname\n", "8": "sshd"} {
		if err := os.MkdirAll(filepath.Join(root, pid), 0o755); err != nil {
			t.Fatal(err)
		}
		stat := pid + " (" + comm + ") S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0"
		if err := os.WriteFile(filepath.Join(root, pid, "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names, lines, directive := complete(t, "inspect", "--proc-root", root, "--pid", "8,7")
	if !slices.Equal(names, []string{"8,7", "8,70"}) || directive != noFiles {
		t.Fatalf("--pid 8,7 completes to %q (%s)", lines, directive)
	}
	if lines[0] != "8,7\tnginx" {
		t.Errorf("%q, want the name as description", lines[0])
	}
	_, desc, _ := strings.Cut(lines[1], "\t")
	hostiletest.AssertPrintable(t, []byte(desc), 0)
	if strings.Contains(desc, "\t") || !strings.Contains(desc, "evil") {
		t.Errorf("hostile name's description %q", desc)
	}
	if names, _, _ := complete(t, "check", "--pid", ""); len(names) == 0 {
		t.Error("--pid completes to no process of this host")
	}
}
