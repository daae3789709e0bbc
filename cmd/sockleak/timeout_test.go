package main

import (
	"strconv"
	"testing"
	"time"
)

func TestSecondsFlag(t *testing.T) {
	for in, want := range map[string]time.Duration{"5": 5 * time.Second, "0": 0, "1.5": 1500 * time.Millisecond, "500ms": 500 * time.Millisecond,
		"2m": 2 * time.Minute, "-1": -time.Second} {
		var s seconds
		if err := s.Set(in); err != nil || time.Duration(s) != want {
			t.Errorf("-t %s = %v, %v; want %v", in, time.Duration(s), err, want)
		}
	}
	for _, in := range []string{"", "soon", "5 s", "NaN", "1e300", "inf"} {
		var s seconds
		if err := s.Set(in); err == nil {
			t.Errorf("-t %q = %v, want an error", in, time.Duration(s))
		}
	}
}

// FuzzSecondsFlag: -t takes text from people and scripts: it never
// panics, and a plain count of seconds means that many seconds.
func FuzzSecondsFlag(f *testing.F) {
	for _, s := range []string{"5", "0.25", "500ms", "1h2m", "-3", "9223372036", "1e9", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var s seconds
		if err := s.Set(in); err != nil {
			return
		}
		if n, err := strconv.Atoi(in); err == nil && n >= -1e9 && n <= 1e9 && time.Duration(s) != time.Duration(n)*time.Second {
			t.Errorf("-t %q = %v, want %d s", in, time.Duration(s), n)
		}
	})
}
