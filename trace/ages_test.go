package trace

import (
	"testing"
	"time"

	"github.com/sockleak/sockleak/inspect"
)

func TestExactAges(t *testing.T) {
	now := t0.Add(time.Hour)
	snap := &inspect.Snapshot{Time: now, Sockets: []inspect.Socket{
		{Inode: 1, State: inspect.CloseWait},                            // seen entering CLOSE_WAIT 90 s ago
		{Inode: 2, State: inspect.CloseWait, AgeMs: 5000, HasAge: true}, // the kernel's bound, 5 s, is replaced
		{Inode: 3, State: inspect.CloseWait},                            // accepted in it: no change seen
		{Inode: 4, State: inspect.CloseWait},                            // recorded in another state
		{Inode: 5, State: inspect.CloseWait},                            // not recorded
		{Inode: 0, State: inspect.CloseWait},                            // no inode
	}}
	live := map[uint64]Socket{
		1: {State: inspect.CloseWait, Since: now.Add(-90 * time.Second), Exact: true},
		2: {State: inspect.CloseWait, Since: now.Add(-61500 * time.Millisecond), Exact: true},
		3: {State: inspect.CloseWait, Since: now.Add(-time.Minute)},
		4: {State: inspect.Established, Since: now.Add(-time.Minute), Exact: true},
		0: {State: inspect.CloseWait, Since: now.Add(-time.Minute), Exact: true},
	}
	if n := ExactAges(snap, live); n != 2 {
		t.Errorf("set %d, want 2", n)
	}
	want := []struct {
		ms  uint32
		has bool
	}{{90000, true}, {61500, true}, {0, false}, {0, false}, {0, false}, {0, false}}
	for i, w := range want {
		if s := snap.Sockets[i]; s.AgeMs != w.ms || s.HasAge != w.has {
			t.Errorf("socket %d: AgeMs %d HasAge %v, want %d %v", s.Inode, s.AgeMs, s.HasAge, w.ms, w.has)
		}
	}
}
