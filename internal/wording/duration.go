package wording

import "time"

// Round keeps a duration readable where a report prints it: 1.93s, 250ms.
func Round(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// TimestampLayout is the form of every time in sockleak's JSON documents:
// RFC 3339 in UTC, to the second. jq's fromdateiso8601 (and todate's
// inverse) reads exactly this form: a fraction of a second or an offset
// other than Z is an error there ("does not match format
// %Y-%m-%dT%H:%M:%SZ"), so durations carry the precision instead
// (took_seconds, held_seconds).
const TimestampLayout = "2006-01-02T15:04:05Z"

// Timestamp formats t as TimestampLayout; the zero time (unknown) is "".
func Timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(TimestampLayout)
}
