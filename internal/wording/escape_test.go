package wording

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"nginx", "nginx"},
		{"\xff\xfebad\x1b[31m", `\xff\xfebad\x1b[31m`},
		{"x\nSOCKLEAK OK - all fine", `x\nSOCKLEAK OK - all fine`},
		{"tab\there\r", `tab\there\r`},
		{"del\x7f", `del\x7f`},
		{"nel\u0085 rlo\u202e", `nel\u0085 rlo\u202e`},
		{"naïve 日本 a b", "naïve 日本 a b"}, // printable Unicode stays
		{`C:\dir "q"`, `C:\dir "q"`},     // a backslash and quotes stay, as in ps
		{"", ""},
	} {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzEscape: whatever the input, the output is valid UTF-8 with no
// control character, escaping it again changes nothing, and printable
// text comes out as it went in.
func FuzzEscape(f *testing.F) {
	f.Add("nginx")                  // plain
	f.Add("\xff\xfebad\x1b[31m")    // invalid UTF-8 and an escape sequence
	f.Add("a\nSOCKLEAK OK - x\r\n") // a forged line
	f.Add("\u202eevil\u2028")       // bidi override, line separator
	f.Add(`\x1b already escaped`)   // looks escaped
	f.Add("\xe6\x97")               // a cut rune
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if !utf8.ValidString(e) || strings.ContainsFunc(e, func(r rune) bool { return unicode.IsControl(r) || !unicode.IsGraphic(r) }) {
			t.Fatalf("Escape(%q) = %q: not printable", s, e)
		}
		if again := Escape(e); again != e {
			t.Fatalf("Escape(%q) = %q, escaped again %q", s, e, again)
		}
		if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) }) && e != s {
			t.Fatalf("Escape(%q) = %q: printable text changed", s, e)
		}
	})
}
