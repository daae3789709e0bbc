package report

import (
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// NoMatch is the snapshot of a selection (--pid, --name) that matched no
// process, for a command to whom that is an observation rather than a
// failure: check --allow-missing, watch. It holds no process and no
// socket, is Selected so that no host-wide finding is made of it, and
// warns why it is empty.
func NoMatch(now time.Time, procRoot, warning string) *inspect.Snapshot {
	return &inspect.Snapshot{Time: now, ProcRoot: procRoot, Selected: true, Warnings: []string{warning}}
}
