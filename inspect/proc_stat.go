package inspect

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
)

// procStat is what sockleak uses of a PID/stat file.
type procStat struct {
	// Comm is field 2, the command name between the parentheses: the
	// kernel's name of the process (at most 15 bytes), a slice of the
	// parsed bytes.
	Comm []byte
	// State is field 3, the state letter: R running, S sleeping, D
	// uninterruptible, T stopped, t tracing stop, Z zombie, I idle, ...
	// (fs/proc/array.c task_state_array). 0 when the field is not one
	// printable ASCII letter.
	State     byte
	PPID      int    // field 4: the parent's PID
	StartTime uint64 // field 22: when the process started, in clock ticks after boot
}

// errNoStartTime is matched (errors.Is) by parseStat's errors for a line
// whose start time is missing or malformed, after a good parent PID: the
// state and the parent are still good.
var errNoStartTime = errors.New("no start time field")

// startTimeError is a missing or malformed start time; it is
// errNoStartTime.
type startTimeError struct{ field []byte }

func (e startTimeError) Error() string {
	if e.field == nil {
		return errNoStartTime.Error()
	}
	return fmt.Sprintf("bad start time %q", e.field)
}

func (startTimeError) Is(target error) bool { return target == errNoStartTime }

// statFields is how many fields after the command name parseStat needs:
// fields 3 (state) to 22 (start time).
const statFields = 20

// parseStat parses the contents of a PID/stat file. The format is
// proc(5)'s "pid (comm) state ppid ...", written by fs/proc/array.c
// (do_task_stat). comm may hold spaces and parentheses, so the fields are
// counted from the last ')': the first after it is field 3 (state). The
// scan parses every process's, so it allocates only for an error.
func parseStat(b []byte) (procStat, error) {
	var st procStat
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return st, errors.New("no ')' after the command name")
	}
	if j := bytes.IndexByte(b, '('); j >= 0 && j < i {
		st.Comm = b[j+1 : i]
	}
	var f [statFields][]byte
	n := splitFields(b[i+1:], f[:])
	if n < 2 {
		return st, errors.New("no parent pid field")
	}
	if len(f[0]) == 1 && isStateLetter(f[0][0]) {
		st.State = f[0][0]
	}
	ppid, err := parseDec(f[1], 31)
	if err != nil {
		return st, fmt.Errorf("bad parent pid %q", f[1])
	}
	st.PPID = int(ppid)
	if n < statFields {
		return st, startTimeError{}
	}
	if st.StartTime, err = parseDec(f[19], 64); err != nil {
		return st, startTimeError{f[19]}
	}
	return st, nil
}

// splitFields puts the first len(f) space-separated fields of b into f,
// as bytes.Fields would without allocating, and returns how many it found.
func splitFields(b []byte, f [][]byte) int {
	n := 0
	for n < len(f) {
		b = bytes.TrimLeft(b, " \t\n")
		if len(b) == 0 {
			break
		}
		j := bytes.IndexAny(b, " \t\n")
		if j < 0 {
			j = len(b)
		}
		f[n], b = b[:j], b[j:]
		n++
	}
	return n
}

// isStateLetter reports whether c can be a state letter: the kernel
// prints one of "RSDTtXZPI", older kernels also "xKWN"; any ASCII letter
// is kept, anything else is not a state.
func isStateLetter(c byte) bool { return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' }

// readStat reads and parses pid's PID/stat. Its errors are os.ReadFile's
// (fs.ErrNotExist when the process is gone) or parseStat's.
func (fsys FS) readStat(pid int) (procStat, error) {
	if fsys.native {
		return fsys.nativeStat(pid)
	}
	b, err := os.ReadFile(fsys.path(strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(b)
}

// parentPID reads the parent PID of pid from its PID/stat.
func (fsys FS) parentPID(pid int) (int, error) {
	st, err := fsys.readStat(pid)
	if err != nil && !errors.Is(err, errNoStartTime) {
		return 0, err
	}
	return st.PPID, nil
}

// ProcessTree returns root and every process descended from it (children,
// grandchildren, ...), sorted, from the parent PIDs in each PID/stat.
// Processes that exit during the walk are skipped; a process whose parent
// exited has been reparented (to init or a subreaper) and is no longer in
// the tree. It fails with an error wrapping fs.ErrNotExist when root itself
// is gone.
//
// The parent links are read from every PID/stat rather than from
// PID/task/TID/children, which needs CONFIG_PROC_CHILDREN and lists only
// children that are not yet reaped in some kernels.
func (fsys FS) ProcessTree(root int) ([]int, error) {
	if fsys.native {
		if fsys.nativeExited(root) {
			return nil, fmt.Errorf("process %d: %w", root, fs.ErrNotExist)
		}
	} else if _, err := os.Stat(fsys.path(strconv.Itoa(root))); err != nil {
		return nil, fmt.Errorf("process %d: %w", root, err)
	}
	all, err := fsys.listPIDs(nil, nil)
	if err != nil {
		return nil, err
	}
	children := make(map[int][]int)
	for _, pid := range all {
		if pid == root {
			continue
		}
		ppid, err := fsys.parentPID(pid)
		if err != nil {
			continue // gone since we listed it, hidden, or a malformed stat file: the others still count
		}
		children[ppid] = append(children[ppid], pid)
	}
	tree := []int{root}
	seen := map[int]bool{root: true}
	for i := 0; i < len(tree); i++ {
		for _, c := range children[tree[i]] {
			if !seen[c] { // guards against a cycle in a damaged tree
				seen[c] = true
				tree = append(tree, c)
			}
		}
	}
	slices.Sort(tree)
	return tree, nil
}

// PIDName is a process and its name.
type PIDName struct {
	PID  int
	Name string // comm, the kernel's name of the process: the host's text, to escape before printing
}

// ProcessNames lists every process of the proc root with its name, sorted
// by PID, for shell completion of --pid. Processes that exit meanwhile, or
// whose stat cannot be read or parsed, are left out.
func (fsys FS) ProcessNames() ([]PIDName, error) {
	pids, err := fsys.listPIDs(nil, nil)
	if err != nil {
		return nil, err
	}
	slices.Sort(pids)
	out := make([]PIDName, 0, len(pids))
	for _, pid := range pids {
		st, err := fsys.readStat(pid)
		if err != nil && !errors.Is(err, errNoStartTime) {
			continue
		}
		out = append(out, PIDName{pid, string(st.Comm)})
	}
	return out, nil
}
