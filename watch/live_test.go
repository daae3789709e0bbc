package watch

import (
	"bytes"
	"slices"
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
		if err := v.Stop(false); err != nil {
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
		// The table's header follows the headline (on one line or two)
		// and the counts by state.
		h := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, " PID PROCESS ") })
		if h < 3 || h > 4 || h+1 >= len(lines) || !strings.Contains(lines[h], "CW RATE") || !strings.Contains(lines[h], "LIMIT IN") ||
			!strings.Contains(lines[h+1], "42 leaky") || !strings.Contains(lines[h+1], "10/64 16%") ||
			!strings.Contains(lines[h+1], "+12/min") || !strings.Contains(lines[h+1], "~5m") {
			t.Fatalf("%d columns: header at line %d; want it at 3 or 4, then pid 42 with 10/64 16%%, +12/min and ~5m", cols, h)
		}
		if wide := strings.Contains(lines[h], "CW TREND"); wide != (cols >= 120) {
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

// TestLiveNotCut: at 80 and 120 columns the headline and the alerts are
// wrapped onto more lines, never cut: every word of them is on screen.
func TestLiveNotCut(t *testing.T) {
	st := exporterStatus(t)
	plainOf := strings.NewReplacer(eraseLine, "", red, "", green, "", bold, "", reset, "", home, "", eraseBelow, "")
	for _, cols := range []int{80, 120} {
		var b bytes.Buffer
		v := NewLive(&b, true, func() (int, int) { return cols, 30 })
		if err := v.Draw(st); err != nil {
			t.Fatal(err)
		}
		screen := plainOf.Replace(b.String())
		lines := strings.Split(screen, "\n")
		for _, l := range lines {
			if n := len([]rune(l)); n > cols {
				t.Errorf("%d columns: a line of %d: %q", cols, n, l)
			}
		}
		words := strings.Join(strings.Fields(screen), " ")
		// The headline breaks between its parts.
		wants := []string{"sockleak watch · " + st.Time.Format("15:04:05") + " · sample 4 (250ms) · 12 TCP sockets, 3 processes", "2 not inspectable · 1 failed sample"}
		if len(v.recent) == 0 {
			t.Fatal("no alert to draw: the test cannot tell a cut one")
		}
		long := false
		for _, a := range v.recent {
			wants = append(wants, a)
			long = long || len([]rune(a)) > cols
		}
		if !long {
			t.Errorf("%d columns: no alert line is longer than the screen is wide: the test cannot tell a cut one", cols)
		}
		for _, w := range wants {
			if !strings.Contains(words, strings.Join(strings.Fields(w), " ")) {
				t.Errorf("%d columns: %q is not whole on screen:\n%s", cols, w, screen)
			}
		}
		t.Logf("%d columns:\n%s", cols, screen)
	}
}

// TestLiveStopKeeps: a watch that ended on its own (--count) leaves its
// last frame on the terminal after giving the screen back; one stopped
// by the user leaves the screen as it was.
func TestLiveStopKeeps(t *testing.T) {
	st := exporterStatus(t)
	for _, keep := range []bool{true, false} {
		var b bytes.Buffer
		v := NewLive(&b, false, func() (int, int) { return 100, 20 })
		if err := v.Draw(st); err != nil {
			t.Fatal(err)
		}
		b.Reset()
		if err := v.Stop(keep); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.HasPrefix(out, leaveScreen) {
			t.Fatalf("keep %v: the screen is not given back first: %q", keep, out)
		}
		frame := strings.TrimPrefix(out, leaveScreen)
		if !keep {
			if frame != "" {
				t.Errorf("stopped by the user: %q printed after the screen is given back", frame)
			}
			continue
		}
		if !strings.Contains(frame, "FIRING close_wait: pid 42 (leaky)") || !strings.Contains(frame, "CLOSE_WAIT") ||
			!strings.HasSuffix(frame, "\n") || strings.Contains(frame, "\x1b[") {
			t.Errorf("the last frame, kept: %q; want its table and alerts, plain, ending in a newline", frame)
		}
	}
}

// TestLiveShortScreen: on a screen too short for the table and the
// alerts, the table gives way and the latest alert stays whole at the
// bottom; nothing is drawn below the last row.
func TestLiveShortScreen(t *testing.T) {
	st := exporterStatus(t)
	for _, rows := range []int{3, 6, 9} {
		var b bytes.Buffer
		v := NewLive(&b, false, func() (int, int) { return 80, rows })
		if err := v.Draw(st); err != nil {
			t.Fatal(err)
		}
		screen := strings.NewReplacer(eraseLine, "", home, "", eraseBelow, "").Replace(b.String())
		lines := strings.Split(screen, "\n")
		if len(lines) > rows {
			t.Errorf("%d rows: %d lines drawn:\n%s", rows, len(lines), screen)
		}
		if !strings.HasSuffix(lines[len(lines)-1], "CLOSE_WAIT]") {
			t.Errorf("%d rows: the last line is not the end of the latest alert:\n%s", rows, screen)
		}
	}
}
