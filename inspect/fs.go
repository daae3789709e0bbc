package inspect

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// FS is a proc filesystem root. Every reader takes its paths from it.
type FS struct {
	root string
	// faults injects errors for paths relative to root. Tests use it to
	// stand for what a static tree read as root cannot show: a process
	// whose fds are not ours to read, or one that exits mid-scan. Nil in
	// production.
	faults map[string]error
	// procfs is true when root is a real proc filesystem (not a fixture
	// tree): only then do directory sizes count descriptors.
	procfs bool
	// live is true when root is this host's own /proc, which netlink can
	// stand in for.
	live bool
	// native is true where there is no proc root to read (every system
	// but Linux): processes, their limits and start times come from the
	// system through gopsutil (native.go), and only the gopsutil backend
	// serves. Tests set it on Linux to run that path on the live host.
	native bool
}

// DefaultRoot is the proc root of the live host.
const DefaultRoot = "/proc"

// NewFS checks that root is a readable directory and returns an FS for it.
func NewFS(root string) (FS, error) {
	if native, err := nativeRoot(root); native || err != nil {
		return FS{root: root, native: true}, err
	}
	fi, err := os.Stat(root)
	if err != nil {
		return FS{}, fmt.Errorf("could not read proc root %q: %w", root, err)
	}
	if !fi.IsDir() {
		return FS{}, fmt.Errorf("proc root %q is not a directory", root)
	}
	fsys := FS{root: filepath.Clean(root)}
	if isProcfs(fsys.root) {
		fsys.procfs = true
		fsys.live = fsys.root == DefaultRoot
	}
	return fsys, nil
}

// Root returns the proc root's path.
func (fsys FS) Root() string { return fsys.root }

func (fsys FS) path(rel ...string) string {
	return filepath.Join(append([]string{fsys.root}, rel...)...)
}

func (fsys FS) fault(path string) error {
	if fsys.faults == nil {
		return nil
	}
	rel, _ := filepath.Rel(fsys.root, path)
	if f, ok := fsys.faults[rel].(panicFault); ok {
		panic(string(f))
	}
	return fsys.faults[rel]
}

// listPIDs lists the numeric entries of the proc root, or checks the ones
// asked for. A requested PID that does not exist is a warning, unless none
// does.
func (fsys FS) listPIDs(want []int, warnings *[]string) ([]int, error) {
	if fsys.native {
		return fsys.nativePIDs(want, warnings)
	}
	if len(want) > 0 {
		var pids []int
		for _, pid := range slices.Compact(slices.Sorted(slices.Values(want))) {
			if _, err := os.Stat(fsys.path(strconv.Itoa(pid))); err != nil {
				*warnings = append(*warnings, fmt.Sprintf("pid %d: no such process", pid))
				continue
			}
			pids = append(pids, pid)
		}
		return pids, nil
	}
	f, err := os.Open(fsys.root)
	if err != nil {
		return nil, fmt.Errorf("could not read proc root: %w", err)
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("could not read proc root: %w", err)
	}
	var pids []int
	for _, n := range names {
		if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	if len(pids) == 0 && warnings != nil {
		// --proc-root /proc/self, say: one process's directory, or a
		// directory that is no proc root. Zero processes is not a quiet
		// host.
		*warnings = append(*warnings, fmt.Sprintf("no process directories under %s: a proc root holds one numeric directory per process (is it a proc filesystem's root, like /proc?)", fsys.root))
	}
	slices.Sort(pids)
	return pids, nil
}
