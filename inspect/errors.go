package inspect

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
)

// ParseError reports a malformed line in a /proc file.
type ParseError struct {
	Path string // e.g. "/proc/net/tcp"; empty when parsing a bare reader
	Line int    // 1-based, header included
	Text string // the raw line
	Err  error
}

func (e *ParseError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("line %d: %v: %q", e.Line, e.Err, e.Text)
	}
	return fmt.Sprintf("%s:%d: %v: %q", e.Path, e.Line, e.Err, e.Text)
}

func (e *ParseError) Unwrap() error { return e.Err }

// ErrNoMatch is returned by Scan when --pid or --name select no process.
var ErrNoMatch = errors.New("no process matches")

// ErrDenied is returned by Scan when every process --pid or --name
// selects is one it may not read: an empty view would read as healthy. It
// wraps fs.ErrPermission.
var ErrDenied = fmt.Errorf("could not be inspected (%w)", fs.ErrPermission)

// geteuid is os.Geteuid; tests stand in for root and for another user.
var geteuid = os.Geteuid

// deniedHint says what to do about processes whose descriptors may not be
// read.
func deniedHint() string {
	if geteuid() == 0 {
		// Root reads every /proc/PID/fd unless something stronger says no.
		return "even root may not read their descriptors here (a security module such as Yama or AppArmor, or another user namespace)"
	}
	return "run as root for complete ownership"
}

// maxDeniedNamed is how many of the processes that could not be inspected
// the warning names.
const maxDeniedNamed = 5

// nameDenied lists the processes that could not be inspected, by PID, the
// first maxDeniedNamed with their names ("pid 12 (sshd), pid 40 (cron)
// and 3 more"): a process may be denied its descriptors and still show
// its name.
func (sc *scanner) nameDenied() string {
	procs := slices.SortedFunc(slices.Values(sc.denied), func(a, b Process) int { return cmp.Compare(a.PID, b.PID) })
	var parts []string
	for _, p := range procs[:min(len(procs), maxDeniedNamed)] {
		if p.Name == "" {
			sc.meta.fill(&p)
		}
		if p.Name == "" {
			parts = append(parts, fmt.Sprintf("pid %d", p.PID))
		} else {
			parts = append(parts, fmt.Sprintf("pid %d (%s)", p.PID, escapeText(p.Name)))
		}
	}
	list := strings.Join(parts, ", ")
	if more := len(procs) - maxDeniedNamed; more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	return list
}

// escapeText keeps a process's own text (its name, which any process sets
// for itself) printable in a message: control characters, escape
// sequences and invalid UTF-8 come out as Go quotes them ("\x1b", "\n"),
// as report prints names.
func escapeText(s string) string {
	q := strconv.QuoteToGraphic(s)
	return strings.ReplaceAll(q[1:len(q)-1], `\"`, `"`)
}
