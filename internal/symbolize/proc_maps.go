package symbolize

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Mapping is one line of PID/maps: a range of the process's address space
// and the file it maps, if any.
type Mapping struct {
	Start, End uint64 // [Start, End)
	Perms      string // "r-xp"
	Offset     uint64 // file offset of Start
	Dev        string // "fd:01"
	Inode      uint64
	Path       string // "" for an anonymous mapping; "[vdso]", "[stack]"...
	Deleted    bool   // the file was unlinked: " (deleted)" was cut from Path
}

// Exec reports whether the mapping is executable.
func (m Mapping) Exec() bool { return len(m.Perms) > 2 && m.Perms[2] == 'x' }

// File reports whether the mapping maps a file (not the heap, a stack,
// the vdso or anonymous memory).
func (m Mapping) File() bool { return m.Inode != 0 && strings.HasPrefix(m.Path, "/") }

// maxMapLine bounds a line of PID/maps: a path is at most PATH_MAX.
const maxMapLine = 4096 + 256

// parseMaps parses PID/maps, as fs/proc/task_mmu.c (show_map_vma) writes
// it: "start-end perms offset major:minor inode", then, after padding, the
// path, which may hold spaces. name is used in errors.
func parseMaps(r io.Reader, name string) ([]Mapping, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxMapLine)
	var out []Mapping
	for n := 1; sc.Scan(); n++ {
		m, err := parseMapLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

func parseMapLine(line string) (Mapping, error) {
	var m Mapping
	rest := line
	var f [5]string
	for i := range f {
		rest = strings.TrimLeft(rest, " ")
		var ok bool
		f[i], rest, ok = strings.Cut(rest, " ")
		if f[i] == "" || (!ok && i < 4) {
			return m, fmt.Errorf("want 5 fields and a path: %q", clip(line))
		}
	}
	lo, hi, ok := strings.Cut(f[0], "-")
	var err error
	if m.Start, err = strconv.ParseUint(lo, 16, 64); !ok || err != nil {
		return m, fmt.Errorf("bad address range %q", clip(f[0]))
	}
	if m.End, err = strconv.ParseUint(hi, 16, 64); err != nil || m.End < m.Start {
		return m, fmt.Errorf("bad address range %q", clip(f[0]))
	}
	if len(f[1]) != 4 {
		return m, fmt.Errorf("bad permissions %q", clip(f[1]))
	}
	m.Perms = f[1]
	if m.Offset, err = strconv.ParseUint(f[2], 16, 64); err != nil {
		return m, fmt.Errorf("bad offset %q", clip(f[2]))
	}
	m.Dev = f[3]
	if m.Inode, err = strconv.ParseUint(f[4], 10, 64); err != nil {
		return m, fmt.Errorf("bad inode %q", clip(f[4]))
	}
	m.Path = strings.TrimLeft(rest, " ")
	if p, ok := strings.CutSuffix(m.Path, " (deleted)"); ok {
		m.Path, m.Deleted = p, true
	}
	return m, nil
}

// clip keeps an error message short whatever the line holds.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// find returns the mapping that holds addr.
func find(maps []Mapping, addr uint64) (Mapping, bool) {
	for _, m := range maps {
		if addr >= m.Start && addr < m.End {
			return m, true
		}
	}
	return Mapping{}, false
}
