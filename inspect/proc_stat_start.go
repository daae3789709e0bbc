package inspect

import (
	"errors"
	"fmt"
	"os"
	"strconv"
)

// parseStatStartTime returns the start time from the contents of a
// PID/stat file: field 22 of proc(5), in clock ticks after boot. statFields
// starts at field 3, so field 22 is its 20th.
func parseStatStartTime(b []byte) (uint64, error) {
	f, err := statFields(b)
	if err != nil {
		return 0, err
	}
	if len(f) < 20 {
		return 0, errors.New("no start time field")
	}
	t, err := strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad start time %q", f[19])
	}
	return t, nil
}

// StartTime returns when process pid started, in clock ticks after boot
// (PID/stat field 22). With the PID it identifies a process: a PID the
// kernel reuses comes back with a later start time. It fails with an
// error wrapping fs.ErrNotExist when the process is gone.
func (fsys FS) StartTime(pid int) (uint64, error) {
	path := fsys.path(strconv.Itoa(pid), "stat")
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	t, err := parseStatStartTime(b)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}
