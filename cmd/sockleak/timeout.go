package main

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"
)

// defaultCheckTimeout is -t's default, the Nagios plugin guidelines'
// usual 10 s.
const defaultCheckTimeout = 10 * time.Second

// seconds is a duration flag that also takes a plain number of seconds,
// as the plugin guidelines' -t does: -t 5 is -t 5s.
type seconds time.Duration

func (s *seconds) String() string { return time.Duration(*s).String() }
func (s *seconds) Type() string   { return "duration" }

func (s *seconds) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.ParseFloat(v, 64)
		if nerr != nil || math.IsNaN(n) || math.Abs(n) > math.MaxInt64/float64(time.Second) {
			return fmt.Errorf("want seconds (5) or a duration (500ms, 1m): %w", err)
		}
		d = time.Duration(n * float64(time.Second))
	}
	*s = seconds(d)
	return nil
}

// withTimeout runs f, and gives up on it after timeout (0: never) with an
// error, whether or not f heeds its context: a plugin that does not
// answer in time is as bad as one that fails. f writes nothing the caller
// writes to.
func withTimeout[T any](ctx context.Context, timeout time.Duration, f func(context.Context) (T, error)) (T, error) {
	if timeout <= 0 {
		return f(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f(ctx)
		done <- result{v, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case res := <-done:
		return res.v, res.err
	case <-t.C:
		var zero T
		return zero, fmt.Errorf("the check did not finish within --timeout %v", timeout)
	}
}
