//go:build linux

package main

import "testing"

func TestPlanAddsUpToN(t *testing.T) {
	for _, n := range []int{8, 9, 1000, 10001, 100000, 250000} {
		specs, err := plan(n, 0, 8000, 0.25, 0.10, 4, 5000, 16, false)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		total := 0
		for _, s := range specs {
			for _, c := range s.states() {
				total += c
			}
			total += s.TimeWait
			if s.fds() > 18000 {
				t.Errorf("n=%d: worker %d needs %d fds", n, s.Index, s.fds())
			}
		}
		if total != n {
			t.Errorf("n=%d: plan makes %d sockets", n, total)
		}
	}
	if _, err := plan(7, 2, 0, 0.25, 0.10, 4, 5000, 16, false); err == nil {
		t.Error("fewer sockets than LISTEN sockets: want an error")
	}
}
