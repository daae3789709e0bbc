package inspect

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// walkMode is what a walk keeps. It changes once, when tablesRead is
// closed: from then on keep (nil keeps every socket inode) and countOnly
// (count descriptors, no socket can match) apply. The walk sends the index
// of each process it has walked to walked.
type walkMode struct {
	tablesRead chan struct{}
	keep       func(uint64) bool
	countOnly  bool
	walked     chan<- int
}

// now returns what the walk of the next process keeps.
func (m *walkMode) now() (keep func(uint64) bool, countOnly bool) {
	select {
	case <-m.tablesRead:
		return m.keep, m.countOnly
	default:
		return nil, false
	}
}

// walkAll walks the fd directories of procs in parallel, as mode says.
//
// The walk is readlink after readlink on many threads, and the dump beside
// it is one chain of recvmsg calls, as costly in the kernel as a third of
// the walk: given an equal share of the cores, the dump would finish last.
// So until the tables are read one core is left to them (on a single core
// the two take turns), and then the walk takes every core. A few more
// workers than cores keep them busy.
func (fsys FS) walkAll(ctx context.Context, procs []procScan, mode *walkMode, meta *metaReader) error {
	order := fsys.walkOrder(procs)
	workers := min(len(order), max(2, 2*runtime.GOMAXPROCS(0)))
	early := max(1, runtime.GOMAXPROCS(0)-1)
	next := make(chan int)
	var wg sync.WaitGroup
	for k := range workers {
		wg.Go(func() {
			if k >= early {
				select {
				case <-mode.tablesRead:
				case <-ctx.Done():
					return
				}
			}
			w := newFDWalker(fsys.procfs)
			for i := range next {
				keep, countOnly := mode.now()
				fsys.walkProcess(w, &procs[i], keep, countOnly, meta)
				mode.walked <- i
			}
		})
	}
	var err error
	for _, i := range order {
		if err = ctx.Err(); err != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return err
}

// walkOrder lists the processes of procs still to walk, those with most
// descriptors first where the fd directory's size tells (Linux 6.2+). One
// process's descriptors are best read by one walker (two in the same table
// contend for its locks, and each went slower than one alone), so a
// leaking process with thousands of sockets must not be the last to
// start, with the other walkers idle.
func (fsys FS) walkOrder(procs []procScan) []int {
	order := make([]int, 0, len(procs))
	sizes := make([]int64, len(procs))
	for i := range procs {
		if procs[i].walked {
			continue
		}
		order = append(order, i)
		var st unix.Stat_t
		if fsys.procfs && unix.Stat(fsys.path(strconv.Itoa(procs[i].p.PID), "fd"), &st) == nil {
			sizes[i] = st.Size
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sizes[b], sizes[a]) })
	return order
}

// walkProcess fills a process's descriptors, limits and, unless --name
// read them already, its name, user and command line.
func (fsys FS) walkProcess(w *fdWalker, ps *procScan, keep func(uint64) bool, countOnly bool, meta *metaReader) {
	fsys.walkFDs(w, ps, keep, countOnly)
	if ps.err == nil && !ps.named && !meta.fill(&ps.p) {
		ps.err = fs.ErrNotExist // gone
	}
}

// walkFDs fills a process's descriptors and limits.
func (fsys FS) walkFDs(w *fdWalker, ps *procScan, keep func(uint64) bool, countOnly bool) {
	dir := fsys.path(strconv.Itoa(ps.p.PID))
	fdDir := filepath.Join(dir, "fd")
	if ps.err = fsys.fault(fdDir); ps.err != nil {
		return
	}
	if countOnly {
		ps.p.FDs, ps.err = w.countFDs(fdDir)
		ps.p.SocketFDs = -1
	} else {
		t := fdTable{sockets: ps.sockets}
		ps.err = w.walk(fdDir, keep, &t)
		ps.p.FDs, ps.p.SocketFDs, ps.sockets = t.open, t.socketFDs, t.sockets
	}
	if ps.err != nil || ps.p.FDs == 0 { // kernel threads have no descriptors and no budget to check
		return
	}
	lim, err := readLimits(filepath.Join(dir, "limits"))
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
