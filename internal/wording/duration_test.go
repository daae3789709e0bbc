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
