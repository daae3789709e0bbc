package inspect

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
)

// ProcLimits holds the rows of PID/limits that sockleak uses.
type ProcLimits struct {
	// OpenFilesSoft and OpenFilesHard are the "Max open files" limits;
	// Unlimited (-1) when the kernel prints "unlimited".
	OpenFilesSoft, OpenFilesHard int64
}

// Unlimited is the value of a limit the kernel prints as "unlimited".
const Unlimited = -1

// limitNameWidth is the width of the name column: proc_pid_limits in
// fs/proc/base.c prints each row as "%-25s %-20s %-20s %-10s".
const limitNameWidth = 25

var errNoOpenFiles = errors.New(`no "Max open files" row`)

// ParseLimits parses the text of /proc/PID/limits (fs/proc/base.c,
// proc_pid_limits):
//
//	Limit                     Soft Limit           Hard Limit           Units
//	Max open files            1024                 1048576              files
func ParseLimits(r io.Reader) (ProcLimits, error) {
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if n == 1 {
			if !bytes.HasPrefix(line, []byte("Limit ")) {
				return ProcLimits{}, &ParseError{Line: n, Text: string(line), Err: errors.New(`missing header line (want "Limit ...")`)}
			}
			continue
		}
		if len(line) <= limitNameWidth || !bytes.Equal(bytes.TrimSpace(line[:limitNameWidth]), []byte("Max open files")) {
			continue
		}
		soft, rest := nextField(line[limitNameWidth:])
		hard, _ := nextField(rest)
		var l ProcLimits
		var err error
		if l.OpenFilesSoft, err = parseLimit(soft); err != nil {
			return ProcLimits{}, &ParseError{Line: n, Text: string(line), Err: fmt.Errorf("soft limit: %w", err)}
		}
		if l.OpenFilesHard, err = parseLimit(hard); err != nil {
			return ProcLimits{}, &ParseError{Line: n, Text: string(line), Err: fmt.Errorf("hard limit: %w", err)}
		}
		return l, nil
	}
	if err := sc.Err(); err != nil {
		return ProcLimits{}, err
	}
	return ProcLimits{}, &ParseError{Line: n, Err: errNoOpenFiles}
}

func parseLimit(b []byte) (int64, error) {
	if string(b) == "unlimited" {
		return Unlimited, nil
	}
	if len(b) == 0 {
		return 0, errors.New("missing")
	}
	// The kernel prints limits with %lu, and RLIM_INFINITY as "unlimited":
	// a sign, or a value past int64, is not its output.
	v, err := strconv.ParseUint(string(b), 10, 63)
	return int64(v), err
}

// readLimits reads a PID/limits file; a malformed one's ParseError names it.
func readLimits(path string) (ProcLimits, error) {
	f, err := os.Open(path)
	if err != nil {
		return ProcLimits{}, err
	}
	defer f.Close()
	l, err := ParseLimits(f)
	var pe *ParseError
	if errors.As(err, &pe) {
		pe.Path = path
	}
	return l, err
}

// readProcLimits fills a process's fd limits from its PID/limits.
func (fsys FS) readProcLimits(ps *procScan) {
	if fsys.native {
		fsys.nativeLimits(ps)
		return
	}
	path := fsys.path(strconv.Itoa(ps.p.PID), "limits")
	lim, err := readLimits(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ps.err = err // gone
	case err != nil:
		// An unreadable limits file must not hide the process and the
		// sockets it owns: the limits stay 0, "could not be read".
		ps.warning = fmt.Sprintf("pid %d: fd limits unknown: %v", ps.p.PID, err)
	default:
		ps.p.FDSoftLimit, ps.p.FDHardLimit = lim.OpenFilesSoft, lim.OpenFilesHard
	}
}
