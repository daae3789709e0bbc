package watch

import (
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// minTrendPoints is the fewest samples a trend is fitted to: two points
// make a line through any noise.
const minTrendPoints = 3

// minETAGrowth is the fewest descriptors a process must have gained over
// the window before its time to the limit is estimated: one log file or
// DNS socket opened between two samples is not a leak, though a line
// through it reaches the limit soon enough.
const minETAGrowth = 5

// maxETA is the longest time to the fd limit worth estimating.
const maxETA = 365 * 24 * time.Hour

// nStates sizes per-state arrays indexed by inspect.TCPState (0 unused).
const nStates = int(inspect.NewSynRecv) + 1

// point is one sample of one process.
type point struct {
	at     time.Time
	fds    int32
	counts [nStates]int32
}

// status computes a process's counts and trends from its points.
func (m *Monitor) status(tr *procTrack, p *inspect.Process) ProcStatus {
	last := tr.points[len(tr.points)-1]
	ps := ProcStatus{
		ProcKey: tr.key, Name: p.Name, User: p.User, Workload: p.Workload, WorkloadName: p.WorkloadName(),
		States: map[inspect.TCPState]int{},
		FDs:    p.FDs, FDLimit: p.FDSoftLimit, Rates: map[inspect.TCPState]float64{}, ETA: -1,
	}
	for s, n := range last.counts {
		if n > 0 {
			ps.States[inspect.TCPState(s)] = int(n)
			ps.Sockets += int(n)
		}
	}
	ps.History = make([]int, len(tr.points))
	for i, q := range tr.points {
		ps.History[i] = int(q.counts[inspect.CloseWait])
	}
	if len(tr.points) < minTrendPoints {
		return ps
	}
	var held [nStates]bool
	for _, q := range tr.points {
		for s, n := range q.counts {
			held[s] = held[s] || n > 0
		}
	}
	for s := range held {
		if held[s] {
			ps.Rates[inspect.TCPState(s)] = slopePerMinute(tr.points, func(q *point) float64 { return float64(q.counts[s]) })
		}
	}
	ps.FDRate = slopePerMinute(tr.points, func(q *point) float64 { return float64(q.fds) })
	grown := last.fds - tr.points[0].fds
	if ps.FDRate > 0 && ps.FDLimit > 0 && grown >= minETAGrowth {
		left := max(0, float64(ps.FDLimit)-float64(ps.FDs))
		// Beyond a year the estimate means nothing (and would overflow).
		if eta := left / ps.FDRate * float64(time.Minute); eta < float64(maxETA) {
			ps.ETA = time.Duration(eta)
		}
	}
	return ps
}

// trendPoint is a point of a trend: a process's (point) or a workload's
// (wpoint).
type trendPoint interface{ when() time.Time }

func (p point) when() time.Time { return p.at }

// slopePerMinute fits y = a + b·t by least squares over the points and
// returns b in units per minute.
func slopePerMinute[T trendPoint](pts []T, y func(*T) float64) float64 {
	n := float64(len(pts))
	t0 := pts[0].when()
	var st, sy float64
	for i := range pts {
		st += pts[i].when().Sub(t0).Minutes()
		sy += y(&pts[i])
	}
	mt, my := st/n, sy/n
	var num, den float64
	for i := range pts {
		dt := pts[i].when().Sub(t0).Minutes() - mt
		num += dt * (y(&pts[i]) - my)
		den += dt * dt
	}
	if den == 0 {
		return 0
	}
	return num / den
}
