package report

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Range is a threshold in the range syntax of the Monitoring Plugins
// Development Guidelines ("Threshold and Ranges"): a value outside
// Start..End (inclusive) alerts, or with Inside (a leading '@') a value
// inside it does.
//
//	10      0..10: alert above 10 (or below 0)
//	10:     10..∞: alert below 10
//	~:10    -∞..10: alert above 10
//	10:20   alert below 10 or above 20
//	@10:20  alert from 10 to 20, both included
type Range struct {
	Start, End float64 // -Inf and +Inf for an open side
	Inside     bool
}

// AtMost is the range of a plain maximum n: alert above n. It is what
// sockleak's --max flags give.
func AtMost(n int) Range { return Range{End: float64(n)} }

// maxRangeLen bounds a range given on the command line.
const maxRangeLen = 64

// ParseRange parses a range in the plugin syntax: [@]START:END, where
// START is a number or ~ (no lower bound) and defaults to 0 with its ':',
// and a missing END is no upper bound.
func ParseRange(s string) (Range, error) {
	var r Range
	if len(s) > maxRangeLen {
		return r, fmt.Errorf("range of %d bytes: want at most %d", len(s), maxRangeLen)
	}
	body, inside := strings.CutPrefix(s, "@")
	r.Inside = inside
	start, end, hasColon := strings.Cut(body, ":")
	if !hasColon {
		start, end = "0", body
	}
	var err error
	switch {
	case start == "~":
		r.Start = math.Inf(-1)
	case start == "":
		return r, errors.New(`want a number or "~" before ':'`)
	default:
		if r.Start, err = rangeNumber(start); err != nil {
			return r, err
		}
	}
	switch {
	case end == "" && hasColon:
		r.End = math.Inf(1)
	case end == "":
		return r, errors.New("empty range: want N, N:, ~:N, N:M or @N:M")
	default:
		if r.End, err = rangeNumber(end); err != nil {
			return r, err
		}
	}
	if r.Start > r.End {
		return r, fmt.Errorf("start %s is above end %s", formatNumber(r.Start), formatNumber(r.End))
	}
	return r, nil
}

// rangeNumber parses a finite decimal number: no hex, no inf or nan.
func rangeNumber(s string) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	// The character set keeps out ParseFloat's hex, "inf", "nan" and
	// underscores.
	if strings.Trim(s, "0123456789.+-eE") != "" || err != nil || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}

// Alert reports whether v alerts against the range.
func (r Range) Alert(v float64) bool {
	in := v >= r.Start && v <= r.End
	return in == r.Inside
}

// Max returns n when the range alerts exactly on values above n for
// counts and percentages (values of 0 or more): a plain maximum, as
// "n" and "~:n" are.
func (r Range) Max() (float64, bool) {
	if r.Inside || r.Start > 0 || math.IsInf(r.End, 1) {
		return 0, false
	}
	return r.End, true
}

// String is the range in the plugin syntax, shortest form: AtMost(5)
// is "5", as Nagios performance data shows a plain maximum.
func (r Range) String() string {
	var b strings.Builder
	if r.Inside {
		b.WriteByte('@')
	}
	switch {
	case r.Start == 0 && !math.IsInf(r.End, 1):
		b.WriteString(formatNumber(r.End))
		return b.String()
	case math.IsInf(r.Start, -1):
		b.WriteString("~:")
	default:
		b.WriteString(formatNumber(r.Start) + ":")
	}
	if !math.IsInf(r.End, 1) {
		b.WriteString(formatNumber(r.End))
	}
	return b.String()
}

func formatNumber(v float64) string {
	if v == 0 {
		return "0" // and not "-0"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// bound returns the bound of the range that v crossed, for a violation's
// message and limit: the end it is above, the start it is below, or for
// an Inside range its end (its start when the end is open).
func (r Range) bound(v float64) (float64, string) {
	switch {
	case r.Inside && math.IsInf(r.End, 1):
		return r.Start, "in the alert range " + r.String()
	case r.Inside:
		return r.End, "in the alert range " + r.String()
	case v < r.Start:
		return r.Start, "under the minimum " + formatNumber(r.Start)
	}
	return r.End, "over the maximum " + formatNumber(r.End)
}
