package inspect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
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
