package symbolize

import "fmt"

// Stack is a symbolised user stack, innermost frame first.
type Stack struct {
	Frames []Frame `json:"frames"`
	// CutShort: the walk ended before the function the thread started
	// in, so outer callers are missing; Note says why.
	CutShort bool   `json:"cut_short,omitempty"`
	Note     string `json:"note,omitempty"`
}

// NoFramePointers is the note of a stack whose frame-pointer walk ended
// early: a frame without a frame pointer hides its callers.
const NoFramePointers = "stack cut short: built without frame pointers"

// Stack symbolises a user stack recorded by a frame-pointer walk: addrs
// holds the instruction pointer then return addresses, as
// bpf_get_stack(BPF_F_USER_STACK) gives them. callerAtSP is the word at
// the user stack pointer, or 0: libc's and Go's syscall wrappers are leaf
// functions that set up no frame, so the walk skips their caller (the
// function that called socket()), whose return address is that word. It
// is put back as the second frame when the bytes before it are a call
// instruction. full says the walk filled its buffer (a stack deeper than
// it).
//
// The walk stops after the thread's first function (_start,
// runtime.goexit...), and at the first return address that no call
// instruction of a mapped file precedes (what a frame without a frame
// pointer leaves, or code with no file, JIT's): what follows would be
// guesses.
func (p *Process) Stack(addrs []uint64, callerAtSP uint64, full bool) Stack {
	if len(addrs) == 0 {
		return Stack{CutShort: true, Note: ErrNoStack.Error()}
	}
	list := addrs
	if callerAtSP != 0 && (len(addrs) < 2 || addrs[1] != callerAtSP) && p.returnAddress(callerAtSP) {
		list = append([]uint64{addrs[0], callerAtSP}, addrs[1:]...)
	}
	var st Stack
	for i, a := range list {
		if !p.executable(a) || i > 0 && !p.returnAddress(a) && !p.entersRoot(a) {
			st.CutShort = true
			break
		}
		fs := p.Resolve(a, i > 0)
		st.Frames = append(st.Frames, fs...)
		if isRoot(fs[len(fs)-1].Function) {
			return st
		}
		if i == len(list)-1 {
			st.CutShort = true
		}
	}
	switch {
	case len(st.Frames) == 0:
		st.Note = fmt.Sprintf("no frame in an executable mapping (instruction pointer %#x)", addrs[0])
	case full && len(st.Frames) >= len(addrs):
		st.Note = fmt.Sprintf("stack deeper than %d frames: outer frames cut", len(addrs))
	default:
		st.Note = NoFramePointers
	}
	return st
}

// entersRoot reports whether a return address that follows no call is
// one a thread starts with: runtime.goexit+1, which Go pushes for the
// first function of every goroutine.
func (p *Process) entersRoot(a uint64) bool {
	fs := p.Resolve(a, true)
	return isRoot(fs[len(fs)-1].Function)
}
