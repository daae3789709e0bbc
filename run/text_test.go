package run

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestWriteText(t *testing.T) {
	res := leakingResult(t)
	var b bytes.Buffer
	if err := WriteText(&b, res); err != nil {
		t.Fatal(err)
	}
	want := `sockleak run: 1 socket sat in CLOSE_WAIT for 1s or longer (exit status 0, 2.3s, 3 samples of up to 1 process)

PID   PROCESS  STATE       PEER            SOCKETS  HELD
8372  leaky    CLOSE_WAIT  127.0.0.1:7000  1        longest at least 2s, closed

PROCESSES
8372  leaky  /tmp/leaky -addr 127.0.0.1:7000 -n 2
peak: ESTABLISHED 1 · CLOSE_WAIT 2
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Text (-want +got):\n%s", diff)
	}

	b.Reset()
	res.Leaks = nil
	if err := WriteText(&b, res); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "sockleak run: no socket sat in CLOSE_WAIT for 1s or longer (exit status 0,") {
		t.Errorf("clean Text = %q", b.String())
	}
}

// TestWriteTextHostile: a process's name and command line are its own
// text; the CI log gets them escaped, with no line of theirs.
func TestWriteTextHostile(t *testing.T) {
	res := leakingResult(t)
	for i := range res.Leaks {
		res.Leaks[i].Name = "\xff\xfebad\x1b[31m"
		res.Leaks[i].Cmdline = "x\nsockleak run: no socket sat in CLOSE_WAIT"
	}
	res.Warnings = []string{"pid 9 (\x1b]0;pwned\x07) gone"}
	var b bytes.Buffer
	if err := WriteText(&b, res); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x07") || !utf8.ValidString(out) { // \xff: not valid UTF-8
		t.Errorf("raw control bytes or invalid UTF-8 in:\n%q", out)
	}
	if n := strings.Count("\n"+out, "\nsockleak run:"); n != 1 {
		t.Errorf("%d lines start a report, want 1 (a command line forged one):\n%s", n, out)
	}
}
