package inspect

import (
	"cmp"
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// fdWalkOwners is the owner source that reads every PID/fd directory: the
// link of each descriptor, socket:[INODE] for a socket.
type fdWalkOwners struct{}

// before walks this process first, and alone, on the live /proc: the
// scan's own descriptors (the dump's socket, the other walkers'
// directories) come and go beside the walk, and would make its count
// flicker.
func (fdWalkOwners) before(w *ownerWork) {
	if !w.fsys.live {
		return
	}
	if i := slices.IndexFunc(w.procs, func(ps procScan) bool { return ps.p.PID == os.Getpid() }); i >= 0 {
		w.fsys.walkFDs(newFDWalker(w.fsys.procfs), &w.procs[i], nil, false)
		w.done(i)
	}
}

func (fdWalkOwners) owners(ctx context.Context, w *ownerWork) error { return walkAll(ctx, w) }

// walkAll walks the fd directories of the processes not yet done, in
// parallel, as w says.
func walkAll(ctx context.Context, w *ownerWork) error {
	return eachProcess(ctx, w, w.fsys.walkOrder(w.procs), func(fw *fdWalker, i int) {
		keep, countOnly := w.wants()
		w.fsys.walkFDs(fw, &w.procs[i], keep, countOnly)
	})
}

// eachProcess runs fill for each process of order on a few workers, each
// with its own fdWalker, and hands each on (w.done) once filled.
//
// The walk is readlink after readlink on many threads, and the dump beside
// it is one chain of recvmsg calls, a large share of the kernel's work:
// given an equal share of the cores, the dump would finish last.
// So until the tables are read one core is left to them (on a single core
// the two take turns), and then the walk takes every core. A few more
// workers than cores keep them busy.
func eachProcess(ctx context.Context, w *ownerWork, order []int, fill func(fw *fdWalker, i int)) error {
	workers := min(len(order), max(2, 2*runtime.GOMAXPROCS(0)))
	early := max(1, runtime.GOMAXPROCS(0)-1)
	next := make(chan int)
	var wg sync.WaitGroup
	for k := range workers {
		wg.Go(func() {
			defer func() {
				if v := recover(); v != nil {
					w.panicked.set(v)
					for range next { // the feeder must not block on a walker that is gone
					}
				}
			}()
			if k >= early {
				select {
				case <-w.tablesRead:
				case <-ctx.Done():
					return
				}
			}
			fw := newFDWalker(w.fsys.procfs)
			for i := range next {
				fill(fw, i)
				w.done(i)
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
		if procs[i].done {
			continue
		}
		order = append(order, i)
		sizes[i] = fsys.fdDirSize(procs[i].p.PID)
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sizes[b], sizes[a]) })
	return order
}

// fdDirSize is the size of pid's fd directory: on a real procfs (Linux
// 6.2+) the number of its open descriptors; 0 where it cannot tell.
func (fsys FS) fdDirSize(pid int) int64 {
	var st unix.Stat_t
	if fsys.procfs && unix.Stat(fsys.path(strconv.Itoa(pid), "fd"), &st) == nil {
		return st.Size
	}
	return 0
}

// walkFDs fills a process's descriptors. With countOnly it only counts
// them, where the directory's size does (a real procfs).
func (fsys FS) walkFDs(w *fdWalker, ps *procScan, keep func(uint64) bool, countOnly bool) {
	fdDir := fsys.path(strconv.Itoa(ps.p.PID), "fd")
	if ps.err = fsys.fault(fdDir); ps.err != nil {
		return
	}
	if countOnly && fsys.procfs {
		ps.p.FDs, ps.err = w.countFDs(fdDir)
		ps.p.SocketFDs = -1
	} else {
		t := fdTable{sockets: ps.sockets}
		ps.err = w.walk(fdDir, keep, &t)
		ps.p.FDs, ps.p.SocketFDs, ps.sockets = t.open, t.socketFDs, t.sockets
	}
}
