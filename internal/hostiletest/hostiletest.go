// Package hostiletest holds the check that the tests of hostile input
// share: text that reached a terminal, a log or a scrape is printable,
// whatever the process names and command lines it shows held.
package hostiletest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// AssertPrintable fails t with Unprintable's error, if any.
func AssertPrintable(t testing.TB, out []byte, lines int) {
	t.Helper()
	if err := Unprintable(out, lines); err != nil {
		t.Errorf("%v:\n%q", err, out)
	}
}

// Unprintable says what is wrong with out, nil when it is valid UTF-8 with
// no control byte but the newlines between lines, no line of it was
// forged (one that starts "SOCKLEAK OK"), and it has lines lines (any
// number when 0).
func Unprintable(out []byte, lines int) error {
	var bad []string
	if !utf8.Valid(out) {
		bad = append(bad, "invalid UTF-8")
	}
	if i := bytes.IndexFunc(out, func(r rune) bool { return r < 0x20 && r != '\n' || r == 0x7f }); i >= 0 {
		bad = append(bad, fmt.Sprintf("byte %#x at %d", out[i], i))
	}
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "SOCKLEAK OK") {
			bad = append(bad, fmt.Sprintf("a forged line %q", l))
		}
	}
	if n := bytes.Count(out, []byte("\n")); lines > 0 && n != lines {
		bad = append(bad, fmt.Sprintf("%d lines, want %d", n, lines))
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}
