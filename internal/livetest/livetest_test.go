package livetest

import "testing"

func TestSkip(t *testing.T) {
	ran := false
	t.Run("live", func(t *testing.T) {
		Skip(t)
		ran = true
	})
	if ran == testing.Short() {
		t.Errorf("a live subtest ran: %v, under -short: %v; want it to run only without -short", ran, testing.Short())
	}
}
