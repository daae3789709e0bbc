package watch

import (
	"bytes"
	"strings"
	"testing"
)

func TestLive(t *testing.T) {
	st := exporterStatus(t)
	for _, tc := range []struct {
		color bool
		cols  int
	}{{false, 100}, {true, 100}, {false, 80}, {false, 140}} {
		color, cols := tc.color, tc.cols
		var b bytes.Buffer
		v := NewLive(&b, color, func() (int, int) { return cols, 12 })
		if err := v.Start(); err != nil {
			t.Fatal(err)
		}
		if err := v.Draw(st); err != nil {
			t.Fatal(err)
		}
		if err := v.Stop(); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.HasPrefix(out, enterScreen) || !strings.HasSuffix(out, leaveScreen) {
			t.Errorf("the screen is not taken and given back: %q", out)
		}
		if got := strings.Contains(out, red); got != color {
			t.Errorf("color %v: red in the output = %v:\n%s", color, got, out)
		}
		screen := strings.TrimSuffix(strings.TrimPrefix(out, enterScreen+home), eraseBelow+leaveScreen)
		lines := strings.Split(screen, "\n")
		if len(lines) > 12 {
			t.Errorf("%d lines on a 12-row terminal", len(lines))
		}
		for _, l := range lines {
			plain := strings.NewReplacer(eraseLine, "", red, "", green, "", bold, "", reset, "").Replace(l)
			if n := len([]rune(plain)); n > cols {
				t.Errorf("line of %d columns on a %d-column terminal: %q", n, cols, plain)
			}
		}
		t.Logf("%d columns:\n%s", cols, screen)
		// The leaking process is on top, with its fds, rate and time to
		// limit, even on 80 columns.
		if len(lines) < 5 || !strings.Contains(lines[3], "CW RATE") || !strings.Contains(lines[3], "LIMIT IN") ||
			!strings.Contains(lines[4], "42 leaky") || !strings.Contains(lines[4], "10/64 16%") ||
			!strings.Contains(lines[4], "+12/min") || !strings.Contains(lines[4], "~5m") {
			t.Errorf("%d columns: header %q, first row %q; want pid 42 with 10/64 16%%, +12/min and ~5m",
				cols, lines[min(3, len(lines)-1)], lines[min(4, len(lines)-1)])
		}
		if wide := strings.Contains(lines[3], "CW TREND"); wide != (cols >= 120) {
			t.Errorf("%d columns: sparkline shown %v", cols, wide)
		}
		if !strings.Contains(screen, "FIRING close_wait: pid 42 (leaky)") {
			t.Errorf("no alert on screen:\n%s", screen)
		}
	}
}

func TestSparkline(t *testing.T) {
	for _, tt := range []struct {
		in    []int
		width int
		want  string
	}{
		{nil, 5, ""},
		{[]int{0, 0, 0}, 5, "▁▁▁"},
		{[]int{5, 5}, 5, "▄▄"},
		{[]int{0, 1, 2, 3, 4, 5, 6, 7}, 8, "▁▂▃▄▅▆▇█"},
		{[]int{0, 10, 20, 30, 40}, 5, "▁▃▅▆█"},
		// 12 values in 4 columns: the highest of each three, 10 to 40.
		{[]int{10, 0, 0, 5, 20, 0, 30, 0, 0, 40, 40, 1}, 4, "▁▃▆█"},
	} {
		if got := Sparkline(tt.in, tt.width); got != tt.want {
			t.Errorf("Sparkline(%v, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
	}
}
