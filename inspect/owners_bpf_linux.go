package inspect

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/sockleak/sockleak/internal/bpfkit"
)

// BackendBPF reads the socket tables over netlink sock_diag, as the
// netlink backend does, and the owners with a BPF task_file iterator: one
// pass in the kernel over every open file of every process, instead of a
// readlink per descriptor. It needs the live /proc, root or CAP_BPF and
// CAP_PERFMON, and the kernel's BTF. Auto prefers it on a host with enough
// open files that its load pays (bpfWorthFiles).
const BackendBPF Backend = "bpf"

// bpfWorthFiles is the number of open files (sys/fs/file-nr) from which
// auto takes the bpf backend. Below it the program's load (BTF, CO-RE
// relocation, verification: 30-60 ms of CPU) costs more than the
// readlinks it saves. Measured (docs/performance.md, CPU of inspect,
// medians of 9 interleaved runs): bpf cost 25% more at 2.3k open files
// and 14% more at 6.5k, and 10% less at 11.5k and 15% less at 20k.
const bpfWorthFiles = 10000

func init() {
	registerBackend(backendDef{
		name:  BackendBPF,
		rank:  5,
		reads: func(FS) string { return "netlink sock_diag and a BPF task_file iterator" },
		check: func(fsys FS) error {
			if !fsys.live {
				return fmt.Errorf("the bpf backend reads this host's kernel: it needs --proc-root %s, not %s", DefaultRoot, fsys.root)
			}
			return nil
		},
		require: bpfRequire,
		probe:   bpfProbe,
		chosen: func() string {
			n, _ := hostFiles()
			return fmt.Sprintf("bpf backend: %d files open, over the %d from which loading its iterator pays", n, bpfWorthFiles)
		},
		preload: func() bool {
			_, err := loadBPF()
			return err == nil
		},
		open: func(fsys FS, opts Options) (tableSource, ownerSource) {
			o := &bpfOwners{
				mayWalk:  (opts.Backend == BackendAuto || opts.Backend == "") && opts.selected(),
				filtered: len(opts.States)+len(opts.DumpStates) > 0,
			}
			if !o.mayWalk && !o.filtered {
				startBPFLoad() // beside the selection of processes
			}
			return newNetlinkReader(opts), o
		},
	})
}

// bpfRequire says why this process cannot run the iterator: capabilities,
// kernel BTF, the bpf syscall (bpfkit.Check), or a pid namespace of its
// own, where the iterator's pids (the host's) are not /proc's.
func bpfRequire() error {
	if err := bpfkit.Check(bpfkit.SnapshotCaps...); err != nil {
		return err
	}
	nested, err := inChildPIDNamespace()
	if err != nil {
		return fmt.Errorf("its pid namespace is unknown: %v", err)
	}
	if nested {
		return fmt.Errorf("sockleak runs in a pid namespace of its own, and the iterator sees the host's pids")
	}
	return netlinkAvailable()
}

// bpfProbe is auto's rule: the bpf backend where it pays and can serve.
func bpfProbe() error {
	n, err := hostFiles()
	if err != nil {
		return fmt.Errorf("bpf backend not used: open files unknown (%v)", err)
	}
	if n < bpfWorthFiles {
		return fmt.Errorf("bpf backend not used: %d files open, under the %d from which loading its iterator pays", n, bpfWorthFiles)
	}
	if err := bpfRequire(); err != nil {
		return fmt.Errorf("bpf backend not used: %v", err)
	}
	return nil
}

// hostFiles is the number of files open on the host (the first field of
// sys/fs/file-nr); tests replace it.
var hostFiles = func() (uint64, error) {
	fsys, err := NewFS(DefaultRoot)
	if err != nil {
		return 0, err
	}
	f, err := fsys.readFields("sys/fs/file-nr", 1)
	if err != nil {
		return 0, err
	}
	return f[0], nil
}

// inChildPIDNamespace says whether this process's pid namespace is not the
// host's: its status's NSpid line lists a pid per level.
func inChildPIDNamespace() (bool, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("NSpid:")); ok {
			return len(bytes.Fields(rest)) > 1, nil
		}
	}
	return false, nil // a kernel before 4.1 has no NSpid, nor the iterator
}

// bpfOwners is the owner source that runs the task_file iterator.
type bpfOwners struct {
	// mayWalk is set when auto chose the backend and --pid, --name or
	// --workload select processes: the iterator reads every process's
	// descriptors, the walk only theirs, so before decides between them.
	mayWalk bool
	walk    bool // the selected processes are walked instead
	// filtered is set when the kernel filters the dump by state (--state,
	// check's thresholds): such a dump is short, and when no socket
	// matches only descriptor counts are wanted, which the walk reads from
	// each fd directory's size without a readlink. So the program is
	// loaded only once the tables say there are owners to find.
	filtered bool
}

// before counts this process's own descriptors as the walk does, first and
// alone, before the iterator, the program and the dump add theirs. Where
// auto may walk instead, it does when the selected processes hold fewer
// descriptors than the iterator needs to pay (bpfWorthFiles), and says so.
func (o *bpfOwners) before(w *ownerWork) {
	fdWalkOwners{}.before(w)
	if !o.mayWalk {
		return
	}
	n := int64(0)
	for i := range w.procs {
		n += w.fsys.fdDirSize(w.procs[i].p.PID)
	}
	if n >= bpfWorthFiles {
		if !o.filtered {
			startBPFLoad()
		}
		return
	}
	o.walk = true
	w.notes = append(w.notes, fmt.Sprintf("bpf backend: the selected processes hold %d descriptors, under the %d from which its iterator pays: walking their PID/fd instead", n, bpfWorthFiles))
}

// owners runs the iterator once and fills each selected process from its
// records. A process the iterator did not list is walked as the fd walk
// would: one with no descriptors (a kernel thread), one gone meanwhile,
// or one started since. If the iterator cannot be loaded or read, the
// whole walk runs instead, with a note.
func (o *bpfOwners) owners(ctx context.Context, w *ownerWork) error {
	if o.walk {
		return walkAll(ctx, w)
	}
	if o.filtered {
		select {
		case <-w.tablesRead:
		case <-ctx.Done():
			return ctx.Err()
		}
		if _, countOnly := w.wants(); countOnly {
			return walkAll(ctx, w) // counts only, from the directories' sizes
		}
	}
	seen, err := runIterator(w)
	if err != nil {
		w.notes = append(w.notes, fmt.Sprintf("%v; walking every PID/fd instead", err))
		return walkAll(ctx, w)
	}
	order := make([]int, 0, len(w.procs))
	for i := range w.procs {
		if !w.procs[i].done {
			order = append(order, i)
		}
	}
	return eachProcess(ctx, w, order, func(fw *fdWalker, i int) {
		if !seen[i] {
			keep, countOnly := w.wants()
			w.fsys.walkFDs(fw, &w.procs[i], keep, countOnly)
		}
	})
}

// runIterator runs the iterator and fills the processes it lists, keeping
// the socket inodes w wants at that moment; seen marks them. On an error
// it leaves them as they were.
func runIterator(w *ownerWork) (seen []bool, err error) {
	it, err := loadBPF()
	if err != nil {
		return nil, err
	}
	index := make(map[uint32]int, len(w.procs))
	for i := range w.procs {
		if !w.procs[i].done {
			index[uint32(w.procs[i].p.PID)] = i
		}
	}
	keep, countOnly := w.wants()
	seen = make([]bool, len(w.procs))
	var filled [](*procScan)
	var cur *procScan
	last, started := uint32(0), false
	err = it.run(func(r fdRecord) {
		if !started || r.tgid != last {
			started, last, cur = true, r.tgid, nil
			if i, ok := index[r.tgid]; ok {
				cur, seen[i] = &w.procs[i], true
				filled = append(filled, cur)
			}
		}
		if cur == nil {
			return
		}
		cur.p.FDs++
		if r.ino != 0 {
			cur.p.SocketFDs++
			if !countOnly && (keep == nil || keep(r.ino)) {
				cur.sockets = append(cur.sockets, r.ino)
			}
		}
	})
	for _, ps := range filled {
		switch {
		case err != nil: // cut short: the walk that follows starts afresh
			ps.p.FDs, ps.p.SocketFDs, ps.sockets = 0, 0, nil
		case countOnly:
			ps.p.SocketFDs = -1 // as the walk that only counts
		}
	}
	return seen, err
}
