package wording

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape makes text from the host (a process's name, its command line,
// a user or host name) safe to print, as ps and lsof do: control
// characters, escape sequences and invalid UTF-8 come out as Go writes
// them in a string literal ("\x1b", "\n", "\xff", "\u202e"), so a name
// can neither drive a terminal nor start a line of its own. Every text
// renderer and every metric label takes host text through it.
//
// Like ps and lsof it leaves a backslash as it is, so escaping twice
// changes nothing: a renderer may escape a line built from parts that
// were escaped already.
func Escape(s string) string {
	if printableASCII(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
		case unicode.IsGraphic(r):
			b.WriteString(s[i : i+n])
		default:
			q := strconv.QuoteRuneToGraphic(r) // '\x1b', '\n', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

// printableASCII reports whether s is printable ASCII alone, which
// Escape returns as it is.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
