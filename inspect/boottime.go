package inspect

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the start time in PID/stat (field 22): USER_HZ,
// what sysconf(_SC_CLK_TCK) returns, 100 on every architecture Go runs
// Linux on (include/asm-generic/param.h; only alpha and ia64 differ).
const userHZ = 100

// ProcessStart returns when a process whose PID/stat start time is ticks
// started: the host's boot time plus ticks, to the 10 ms of a tick. It is
// the zero time when the boot time is unknown (a proc root without stat).
func (s System) ProcessStart(ticks uint64) time.Time {
	if s.BootTime == 0 {
		return time.Time{}
	}
	return time.Unix(int64(s.BootTime), 0).Add(time.Duration(ticks) * (time.Second / userHZ))
}

// readBootTime reads the boot time from the proc root's stat. A proc root
// without the file (a fixture tree) has none: 0, and no error.
func (fsys FS) readBootTime() (uint64, error) {
	p := fsys.path("stat")
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	bt, err := parseBootTime(f)
	var pe *ParseError
	if errors.As(err, &pe) {
		pe.Path = p
	}
	return bt, err
}

// maxStatLine bounds one line of stat: the "intr" line holds a count per
// interrupt, tens of kilobytes on a large host.
const maxStatLine = 4 << 20

// parseBootTime returns the "btime" line's value of a stat file: the
// time the host booted, in seconds since the epoch (proc(5);
// fs/proc/stat.c, show_stat).
func parseBootTime(r io.Reader) (uint64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxStatLine)
	n := 0
	for sc.Scan() {
		n++
		rest, ok := strings.CutPrefix(sc.Text(), "btime ")
		if !ok {
			continue
		}
		v, err := strconv.ParseUint(strings.TrimSpace(rest), 10, 64)
		if err != nil || v == 0 || v > 1<<40 {
			return 0, &ParseError{Line: n, Text: sc.Text(), Err: errors.New("want the boot time in seconds since the epoch")}
		}
		return v, nil
	}
	if err := sc.Err(); err != nil {
		return 0, &ParseError{Line: n + 1, Err: err}
	}
	return 0, &ParseError{Line: n, Err: errors.New(`no "btime" line`)}
}
