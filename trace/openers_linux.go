package trace

import (
	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/symbolize"
)

// Openers names, while a recording runs, the code that opened a process's
// sockets: for watch --trace, whose alerts say which code opened the
// sockets they count.
type Openers struct {
	rec   *Recorder
	namer *Namer
	named map[openerKey]*symbolize.Frame // nil: nothing names it
}

type openerKey struct {
	pid int
	key uint64
}

// NewOpeners names stacks of rec's through processes under procRoot.
func NewOpeners(rec *Recorder, procRoot string) *Openers {
	return &Openers{rec: rec, namer: NewNamer(procRoot), named: map[openerKey]*symbolize.Frame{}}
}

// Of returns the opener (Group.OpenedBy) of the stack that opened most of
// pid's sockets in state among live (Peek's), or nil.
func (o *Openers) Of(live map[uint64]Socket, pid int, state inspect.TCPState) *symbolize.Frame {
	counts := map[uint64]int{}
	best, most := uint64(0), 0
	for _, s := range live {
		if s.TGID != pid || s.State != state || s.StackKey == 0 {
			continue
		}
		counts[s.StackKey]++
		if n := counts[s.StackKey]; n > most || n == most && s.StackKey < best {
			best, most = s.StackKey, n
		}
	}
	if most == 0 {
		return nil
	}
	k := openerKey{pid, best}
	if f, ok := o.named[k]; ok {
		return f
	}
	var f *symbolize.Frame
	var caller uint64
	for _, s := range live {
		if s.StackKey == best {
			caller = s.Caller
			break
		}
	}
	if addrs := o.rec.Stack(best); len(addrs) > 0 {
		f = openedBy(o.namer.Stack(pid, addrs, caller, len(addrs) == stackDepth))
	}
	o.named[k] = f
	return f
}

// Forget drops what was read of the processes (see Namer.Forget), and the
// names found: a pid may be another process by the next sample.
func (o *Openers) Forget() {
	o.namer.Forget()
	clear(o.named)
}

// Close closes the binaries opened.
func (o *Openers) Close() error { return o.namer.Close() }
