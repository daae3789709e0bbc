package hostiletest

import "testing"

func TestUnprintable(t *testing.T) {
	for _, tt := range []struct {
		in    string
		lines int
		ok    bool
	}{
		{"pid 1 (a\\x1bb)\n", 1, true},
		{"pid 1 (a\x1bb)\n", 0, false},
		{"\xff\n", 0, false},
		{"x\nSOCKLEAK OK - all fine\n", 0, false},
		{"a\nb\n", 1, false},
	} {
		if err := Unprintable([]byte(tt.in), tt.lines); (err == nil) != tt.ok {
			t.Errorf("Unprintable(%q, %d) = %v, want ok %v", tt.in, tt.lines, err, tt.ok)
		}
	}
}
