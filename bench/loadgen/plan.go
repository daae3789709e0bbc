//go:build linux

package main

import (
	"errors"
	"fmt"
	"math"
)

// spec is what one worker builds; the parent passes it as JSON in the
// hidden -worker flag.
type spec struct {
	Index       int  `json:"index"`
	Established int  `json:"established"` // pairs
	CloseWait   int  `json:"close_wait"`  // CLOSE_WAIT + FIN_WAIT2 pairs
	TimeWait    int  `json:"time_wait"`   // connections closed client first
	Listen      int  `json:"listen"`      // listening sockets, at least 3
	PerIP       int  `json:"per_ip"`      // connections per source address
	Concurrency int  `json:"concurrency"` // dials in flight
	RenewTW     bool `json:"renew_time_wait"`
}

// plan splits n sockets over the workers: LISTEN first, then the
// CLOSE_WAIT/FIN_WAIT2 and TIME_WAIT shares, ESTABLISHED pairs for the rest.
func plan(n, workers, perWorker int, cwShare, twShare float64, listen, perIP, conc int, renewTW bool) ([]spec, error) {
	if workers <= 0 {
		if perWorker <= 0 {
			return nil, errors.New("-per-worker must be positive")
		}
		workers = max(2, (n+perWorker-1)/perWorker)
	}
	switch {
	case workers > 250:
		return nil, errors.New("at most 250 workers")
	case listen < 3:
		return nil, errors.New("-listen must be at least 3 (one listener per kind of connection)")
	case cwShare < 0 || twShare < 0 || cwShare+twShare > 1:
		return nil, errors.New("-close-wait and -time-wait must be shares between 0 and 1")
	case perIP < 1 || perIP > 20000:
		return nil, errors.New("-per-ip must be between 1 and 20000 (the port range is ~28000)")
	case conc < 1:
		return nil, errors.New("-concurrency must be positive")
	case n < workers*listen:
		return nil, fmt.Errorf("-n %d is less than the %d LISTEN sockets of %d workers", n, workers*listen, workers)
	}
	rest := n - workers*listen
	cw := int(math.Round(float64(n) * cwShare / 2))
	tw := int(math.Round(float64(n) * twShare))
	cw = min(cw, rest/2)
	tw = min(tw, rest-2*cw)
	est := (rest - 2*cw - tw) / 2
	tw += rest - 2*cw - tw - 2*est // an odd socket left over
	specs := make([]spec, workers)
	for i := range specs {
		specs[i] = spec{
			Index:       i,
			Established: share(est, workers, i),
			CloseWait:   share(cw, workers, i),
			TimeWait:    share(tw, workers, i),
			Listen:      listen,
			PerIP:       perIP,
			Concurrency: conc,
			RenewTW:     renewTW,
		}
	}
	return specs, nil
}

// share is worker i's part of total split over n workers.
func share(total, n, i int) int {
	s := total / n
	if i < total%n {
		s++
	}
	return s
}

// states is what a worker's sockets are, by state, once it is ready.
func (s spec) states() map[string]int {
	m := map[string]int{"LISTEN": s.Listen}
	if s.Established > 0 {
		m["ESTABLISHED"] = 2 * s.Established
	}
	if s.CloseWait > 0 {
		m["CLOSE_WAIT"] = s.CloseWait
		m["FIN_WAIT2"] = s.CloseWait
	}
	return m
}

// fds is how many descriptors a worker needs at most (TIME_WAIT pairs are
// open only briefly, at most Concurrency of them at once on each side).
func (s spec) fds() int {
	return s.Listen + 2*s.Established + 2*s.CloseWait + 2*s.Concurrency + 64
}
