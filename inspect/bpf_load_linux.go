package inspect

import (
	"errors"
	"fmt"
	"sync"

	"github.com/cilium/ebpf/link"
	"github.com/sockleak/sockleak/internal/bpfkit"
)

// bpfIter is the task_file program, loaded and attached as an iterator:
// each open of its link walks every open file of every process once.
type bpfIter struct {
	objs taskFileObjects
	link *link.Iter
}

// The program is loaded once per process and kept until it exits (or a
// test releases it): a watch's samples all run on the same load, and the
// scans of one process share it. The kernel frees it with the process's
// descriptors; nothing is pinned.
var bpfLoaded struct {
	mu  sync.Mutex
	it  *bpfIter
	err error // a load that failed is not tried again
}

// loadBPF returns the loaded iterator, loading it the first time. Loading
// is the bulk of a first run's cost (parsing the kernel's BTF for CO-RE,
// verifying), so the backend's open starts it in the background
// (startBPFLoad) while the scan selects its processes.
func loadBPF() (*bpfIter, error) {
	bpfLoaded.mu.Lock()
	defer bpfLoaded.mu.Unlock()
	if bpfLoaded.it == nil && bpfLoaded.err == nil {
		bpfLoaded.it, bpfLoaded.err = newBPFIter()
	}
	return bpfLoaded.it, bpfLoaded.err
}

// startBPFLoad loads the iterator in the background, unless it is loaded
// or loading.
func startBPFLoad() {
	if !bpfLoaded.mu.TryLock() {
		return // loading
	}
	done := bpfLoaded.it != nil || bpfLoaded.err != nil
	bpfLoaded.mu.Unlock()
	if !done {
		go func() { _, _ = loadBPF() }()
	}
}

// releaseBPF closes the loaded iterator, for tests that must leave no BPF
// object behind; the next scan loads it again.
func releaseBPF() error {
	bpfLoaded.mu.Lock()
	defer bpfLoaded.mu.Unlock()
	it := bpfLoaded.it
	bpfLoaded.it, bpfLoaded.err = nil, nil
	if it == nil {
		return nil
	}
	return errors.Join(it.link.Close(), it.objs.Close())
}

func newBPFIter() (*bpfIter, error) {
	if err := bpfkit.Prepare(); err != nil {
		return nil, err
	}
	it := &bpfIter{}
	if err := loadTaskFileObjects(&it.objs, nil); err != nil {
		return nil, fmt.Errorf("loading the task_file iterator: %w", err)
	}
	l, err := link.AttachIter(link.IterOptions{Program: it.objs.SockleakTaskFile})
	if err != nil {
		it.objs.Close()
		return nil, fmt.Errorf("attaching the task_file iterator: %w", err)
	}
	it.link = l
	return it, nil
}

// run runs the iterator once and calls fn for each record, in order.
func (it *bpfIter) run(fn func(fdRecord)) error {
	r, err := it.link.Open()
	if err != nil {
		return fmt.Errorf("running the task_file iterator: %w", err)
	}
	defer r.Close()
	return readFDRecords(r, fn)
}
