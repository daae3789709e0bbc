package inspect

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
)

// statFields returns the fields of a PID/stat file after the command
// name, from field 3 (state) on. The format is proc(5)'s "pid (comm) state
// ppid ...", written by fs/proc/array.c (do_task_stat). comm may hold
// spaces and parentheses, so the fields are counted from the last ')'.
func statFields(b []byte) ([][]byte, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, errors.New("no ')' after the command name")
	}
	return bytes.Fields(b[i+1:]), nil
}

// parseStatPPID returns the parent PID (field 4) from the contents of a
// PID/stat file.
func parseStatPPID(b []byte) (int, error) {
	f, err := statFields(b)
	if err != nil {
		return 0, err
	}
	if len(f) < 2 {
		return 0, errors.New("no parent pid field")
	}
	ppid, err := strconv.Atoi(string(f[1]))
	if err != nil || ppid < 0 {
		return 0, fmt.Errorf("bad parent pid %q", f[1])
	}
	return ppid, nil
}

// parentPID reads the parent PID of pid from its PID/stat.
func (fsys FS) parentPID(pid int) (int, error) {
	b, err := os.ReadFile(fsys.path(strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	return parseStatPPID(b)
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
	if _, err := os.Stat(fsys.path(strconv.Itoa(root))); err != nil {
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
