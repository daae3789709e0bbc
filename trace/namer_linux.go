package trace

import (
	"fmt"

	"github.com/sockleak/sockleak/internal/symbolize"
)

// Namer names stacks through the live processes' maps and binaries.
type Namer struct {
	s     *symbolize.Symbolizer
	procs map[int]*symbolize.Process
	errs  map[int]error
}

// NewNamer returns a StackNamer reading processes under procRoot; Close
// releases the binaries it opened.
func NewNamer(procRoot string) *Namer {
	return &Namer{s: symbolize.New(procRoot), procs: map[int]*symbolize.Process{}, errs: map[int]error{}}
}

// Stack names a stack of process pid, which must still run: its maps say
// where each module was loaded.
func (n *Namer) Stack(pid int, addrs []uint64, caller uint64, full bool) symbolize.Stack {
	p, ok := n.procs[pid]
	if !ok && n.errs[pid] == nil {
		var err error
		if p, err = n.s.Process(pid); err != nil {
			n.errs[pid] = err
		} else {
			n.procs[pid] = p
		}
	}
	if p == nil {
		st := symbolize.Stack{CutShort: true, Note: fmt.Sprintf("pid %d, which opened it, has exited: its stack cannot be named", pid)}
		for _, a := range addrs {
			st.Frames = append(st.Frames, symbolize.Frame{Addr: a})
		}
		return st
	}
	return p.Stack(addrs, caller, full)
}

// Forget drops the processes' maps read so far (their binaries stay
// open): a long watch reads them again, as processes load libraries,
// exit, and their pids are reused.
func (n *Namer) Forget() {
	n.procs, n.errs = map[int]*symbolize.Process{}, map[int]error{}
}

// Close closes the binaries.
func (n *Namer) Close() error { return n.s.Close() }
