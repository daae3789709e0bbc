package trace

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestNamerGoneProcess: a stack of a process that has exited keeps its
// addresses, unnamed, and says why.
func TestNamerGoneProcess(t *testing.T) {
	n := NewNamer(t.TempDir()) // a proc root with no process in it
	defer n.Close()
	st := n.Stack(4242, []uint64{0x401000, 0x402000}, 0, false)
	if len(st.Frames) != 2 || st.Frames[0].Addr != 0x401000 || st.Frames[0].Named() || !st.CutShort ||
		!strings.Contains(st.Note, "pid 4242") || !strings.Contains(st.Note, "exited") {
		t.Errorf("stack of a gone process: %+v", st)
	}
	// The same pid again is not read again.
	if st2 := n.Stack(4242, []uint64{0x401000}, 0, false); st2.Note != st.Note {
		t.Errorf("second stack: %+v", st2)
	}
}

// TestNamerSelf names an address of this process.
func TestNamerSelf(t *testing.T) {
	n := NewNamer("/proc")
	defer n.Close()
	pcs := make([]uintptr, 1)
	callers(pcs)
	// Callers gives return addresses and a stack starts with an IP: the
	// byte before is the call's. runtime.Callers is inlined into callers,
	// so pcs[0] is one past the mark of that inlining, in Callers's own
	// body, which the pclntab's inline tree names runtime.Callers.
	st := n.Stack(os.Getpid(), []uint64{uint64(pcs[0]) - 1}, 0, false)
	if len(st.Frames) == 0 || !strings.HasSuffix(st.Frames[0].Function, "trace.callers") {
		t.Errorf("own stack: %+v", st)
	}
}

//go:noinline
func callers(pcs []uintptr) {
	// Skip runtime.Callers itself: pcs[0] is a return address in here.
	runtime.Callers(1, pcs)
}
