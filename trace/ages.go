package trace

import (
	"math"

	"github.com/sockleak/sockleak/inspect"
)

// ExactAges gives each socket of snap that the recording saw enter its
// current state its exact time in it, where the rest of sockleak reads
// the kernel's age bound (Socket.AgeMs and HasAge: how long at least):
// exact, it is a bound too, the tightest. watch's ages then start when
// the state did, not at the first sample that saw it. live is Peek's.
// It returns how many sockets it set.
func ExactAges(snap *inspect.Snapshot, live map[uint64]Socket) int {
	n := 0
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		r, ok := live[s.Inode]
		if !ok || s.Inode == 0 || !r.Exact || r.State != s.State {
			continue
		}
		ms := max(snap.Time.Sub(r.Since).Milliseconds(), 0)
		s.AgeMs, s.HasAge = uint32(min(ms, math.MaxUint32)), true
		n++
	}
	return n
}
