package wording

import "time"

// Round keeps a duration readable where a report prints it: 1.93s, 250ms.
func Round(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
