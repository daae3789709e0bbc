package wording

import (
	"testing"
	"time"
)

func TestRound(t *testing.T) {
	for _, tt := range []struct{ in, want time.Duration }{
		{1934567 * time.Microsecond, 1930 * time.Millisecond},
		{250400 * time.Microsecond, 250 * time.Millisecond},
		{0, 0},
	} {
		if got := Round(tt.in); got != tt.want {
			t.Errorf("Round(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestTimestamp(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	for _, tt := range []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 12, 2, 11, 0, 0, 999_999_999, paris), "2026-12-02T10:00:00Z"}, // UTC, the fraction cut, not rounded up
		{time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), "2026-12-02T10:00:00Z"},
		{time.Time{}, ""},
	} {
		got := Timestamp(tt.in)
		if got != tt.want {
			t.Errorf("Timestamp(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if got == "" {
			continue
		}
		if back, err := time.Parse(time.RFC3339, got); err != nil || !back.Equal(tt.in.Truncate(time.Second)) {
			t.Errorf("%q parses back to %v, %v", got, back, err)
		}
	}
}
