package inspect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// selectProcesses is step 1 of a scan: the processes to inspect (all, or
// those --pid and --name select, this one and its wrappers aside) and the
// network namespace of each, whose tables are read through its members.
func (sc *scanner) selectProcesses() error {
	fsys, opts, snap := sc.fsys, sc.opts, sc.snap
	want := sc.visiblePIDs(opts.PIDs)
	var pids []int
	if len(opts.PIDs) == 0 || len(want) > 0 {
		var err error
		if pids, err = fsys.listPIDs(want, &snap.Warnings); err != nil {
			return err
		}
	}
	sc.meta = newMetaReader(sc.ctx, fsys)
	var self map[int]bool
	byName := opts.Name != "" || len(opts.Workloads) > 0 // selection that reads the process's name
	if byName {
		self = fsys.selfAndWrappers(sc.meta)
	}
	sc.procs = make([]procScan, 0, len(pids))
	sc.nsMembers = make(map[uint64][]int)
	for _, pid := range pids {
		if err := sc.ctx.Err(); err != nil {
			return err
		}
		p := Process{PID: pid}
		if byName && (self[pid] || !sc.meta.fill(&p) || !sc.matchSelection(&p)) {
			continue
		}
		ns, err := fsys.readNetNS(fsys.path(strconv.Itoa(pid), "ns", "net"))
		var pe *ParseError
		switch {
		case errors.Is(err, fs.ErrPermission):
			snap.Denied++
			sc.denied = append(sc.denied, p)
			continue
		case errors.As(err, &pe):
			// Not a namespace we can name: keep the process and the
			// sockets it owns, but do not read tables through it.
			snap.Warnings = append(snap.Warnings, fmt.Sprintf("pid %d: network namespace unknown: %v", pid, err))
			sc.procs = append(sc.procs, procScan{p: p, named: byName})
			continue
		case err != nil && fsys.exited(pid, err):
			// Gone since we listed it (ENOENT, ESRCH): PIDs can vanish
			// between getting the list and reading their files.
			continue
		case errors.Is(err, fs.ErrNotExist):
			// ns/net missing from a directory that is still there (not a
			// real procfs): as above, the process stays.
			snap.Warnings = append(snap.Warnings, fmt.Sprintf("pid %d: network namespace unknown: %v", pid, err))
			sc.procs = append(sc.procs, procScan{p: p, named: byName})
			continue
		case err != nil:
			// The PID directory is not one (a file, a symlink loop).
			snap.Warnings = append(snap.Warnings, fmt.Sprintf("pid %d: skipped: %v", pid, err))
			continue
		}
		p.NetNS = ns
		sc.procs = append(sc.procs, procScan{p: p, named: byName})
		sc.nsMembers[ns] = append(sc.nsMembers[ns], pid)
	}
	return nil
}

// matchSelection reports whether a process whose name is read passes
// --name and --workload (its workload read from PID/cgroup here, as the
// pattern needs it before the process's descriptors are walked).
func (sc *scanner) matchSelection(p *Process) bool {
	if sc.opts.Name != "" && !matchName(p, sc.opts.Name) {
		return false
	}
	if len(sc.opts.Workloads) == 0 {
		return true
	}
	p.Workload = sc.fsys.readWorkload(p.PID)
	sc.names.fill(&p.Workload)
	return slices.ContainsFunc(sc.opts.Workloads, func(pat string) bool { return p.Workload.Match(pat, p.Name) })
}

// visiblePIDs returns the PIDs --pid names that the proc root may show.
// In a view that hides other users' processes (hidepid) a PID it does not
// list may be one of theirs: it is counted as denied, a process that
// could not be inspected, not as one that does not exist.
func (sc *scanner) visiblePIDs(want []int) []int {
	if !sc.view.hidden() || len(want) == 0 {
		return want
	}
	var visible []int
	for _, pid := range slices.Compact(slices.Sorted(slices.Values(want))) {
		if _, err := os.Lstat(sc.fsys.path(strconv.Itoa(pid))); errors.Is(err, fs.ErrNotExist) && sc.fsys.mayBeHidden(pid) {
			sc.snap.Denied++
			sc.denied = append(sc.denied, Process{PID: pid})
			continue
		}
		visible = append(visible, pid)
	}
	return visible
}

// exited reports whether err, from reading one of process pid's files,
// means that the process has gone. On a real procfs the kernel makes every
// file of a PID directory, so a missing one (ENOENT, or ESRCH) is a process
// exiting (a zombie has no ns/net). In a tree that is not a procfs (a copy,
// a fixture) a file missing from a directory still there is a malformed
// directory, to be named, not passed over as if it had exited.
func (fsys FS) exited(pid int, err error) bool {
	if fsys.native {
		return fsys.nativeExited(pid)
	}
	if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ESRCH) {
		return false
	}
	if fsys.procfs {
		return true
	}
	dir := fsys.path(strconv.Itoa(pid))
	if ferr := fsys.fault(dir); ferr != nil {
		return errors.Is(ferr, fs.ErrNotExist)
	}
	_, serr := os.Lstat(dir)
	return errors.Is(serr, fs.ErrNotExist)
}

// procScan is one process on its way through the scan.
type procScan struct {
	p       Process
	named   bool     // metadata already read for --name
	sockets []uint64 // inodes of the wanted sockets it holds
	warning string
	err     error
	done    bool // descriptors in, handed on to the join
}

// selfAndWrappers returns, when the proc root shows this process, its PID
// and those of the ancestors whose command line contains its own, quotes
// aside: the shell (sh -c '...' from cron), sudo or timeout that started
// it. The text of --name is on all their command lines, and a check for a
// service that is not running must not find sockleak instead.
func (fsys FS) selfAndWrappers(meta *metaReader) map[int]bool {
	pid := os.Getpid()
	if link, err := os.Readlink(fsys.path("self")); !fsys.native && (err != nil || link != strconv.Itoa(pid)) {
		return nil // a proc root of another pid namespace, or a fixture tree
	}
	me := Process{PID: pid}
	if !meta.fill(&me) || me.Cmdline == "" {
		return map[int]bool{pid: true}
	}
	skip := map[int]bool{pid: true}
	for range 64 { // a bound, should the parent links loop in a broken tree
		var err error
		if pid, err = fsys.parentPID(pid); err != nil || pid <= 1 {
			break
		}
		p := Process{PID: pid}
		if !meta.fill(&p) || !strings.Contains(unquote.Replace(p.Cmdline), unquote.Replace(me.Cmdline)) {
			break
		}
		skip[pid] = true
	}
	return skip
}

// unquote drops the shell's quotes, so that sh -c "sockleak check --name
// 'x'" still contains sockleak check --name x.
var unquote = strings.NewReplacer(`'`, "", `"`, "")

// matchName reports whether name (--name) is in p's name or command line,
// case aside.
func matchName(p *Process, name string) bool {
	name = strings.ToLower(name)
	return strings.Contains(strings.ToLower(p.Name), name) || strings.Contains(strings.ToLower(p.Cmdline), name)
}
