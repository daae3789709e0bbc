package symbolize

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

//go:noinline
func callersHere() []uintptr {
	pcs := make([]uintptr, 16)
	return pcs[:runtime.Callers(1, pcs)]
}

// TestResolveSelf names this test's own stack from its binary (DWARF, then
// pclntab alone) and checks the names and lines against the runtime's.
func TestResolveSelf(t *testing.T) {
	pcs := callersHere()
	if len(pcs) < 3 {
		t.Fatalf("runtime.Callers gave %d frames", len(pcs))
	}
	s := New("/proc")
	defer s.Close()
	p, err := s.Process(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, tab := range []string{"dwarf", "pclntab"} {
		t.Run(tab, func(t *testing.T) {
			checked := 0
			for i, pc := range pcs[:2] {
				want := runtime.FuncForPC(pc - 1)
				wantFile, wantLine := want.FileLine(pc - 1)
				mp, ok := find(p.maps, uint64(pc))
				if !ok {
					t.Fatalf("%#x: in no mapping", pc)
				}
				m, err := p.module(mp)
				if err != nil {
					t.Fatal(err)
				}
				m.load()
				if tab == "pclntab" {
					d := m.dwarf
					m.dwarf = nil
					defer func() { m.dwarf = d }()
				} else if m.dwarf == nil {
					t.Skip("test binary without DWARF")
				}
				fs := p.Resolve(uint64(pc), true)
				got := fs[len(fs)-1]
				if got.Function != want.Name() || got.File != wantFile || got.Line != wantLine {
					t.Errorf("frame %d: got %s, want %s (%s:%d)", i, got, want.Name(), wantFile, wantLine)
				}
				checked++
			}
			if checked != 2 {
				t.Fatalf("checked %d frames", checked)
			}
		})
	}
}

func TestStackWalk(t *testing.T) {
	s := New("/proc")
	defer s.Close()
	p, err := s.Process(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	pcs := callersHere()
	addrs := make([]uint64, len(pcs))
	for i, pc := range pcs {
		addrs[i] = uint64(pc)
	}
	addrs[0]-- // Callers gives return addresses; a stack starts with an IP
	st := p.Stack(addrs, 0, false)
	if st.CutShort || len(st.Frames) < len(addrs) {
		t.Fatalf("stack cut: %+v", st)
	}
	if fn := st.Frames[len(st.Frames)-1].Function; fn != "runtime.goexit" {
		t.Errorf("outermost frame %q, want runtime.goexit", fn)
	}
	if !strings.HasSuffix(st.Frames[0].Function, "callersHere") {
		t.Errorf("innermost frame %s", st.Frames[0])
	}

	// A garbage return address (the heap) ends the walk with the note.
	junk := append(addrs[:2:2], uint64(uintptr(0x10)))
	st = p.Stack(junk, 0, false)
	if !st.CutShort || st.Note != NoFramePointers || len(st.Frames) != 2 {
		t.Errorf("garbage frame: %+v", st)
	}
	// The word at SP is used only when a call precedes it: the address
	// of a function's first instruction is not a return address.
	st = p.Stack(addrs[:1], addrs[0]-(addrs[0]-uint64(pcs[0])), false)
	if len(st.Frames) != 2 {
		t.Errorf("return address at SP not used: %+v", st)
	}
	entry := uint64(runtime.FuncForPC(pcs[1]).Entry())
	if st = p.Stack(addrs[:1], entry, false); len(st.Frames) != 1 {
		t.Errorf("function entry taken for a return address: %+v", st)
	}
	// A return address in the text that no call precedes (a function's
	// entry, as garbage from a frame without a frame pointer may be) ends
	// the walk too: nothing past it is trusted.
	mid := append([]uint64{addrs[0], entry}, addrs[1:]...)
	if st = p.Stack(mid, 0, false); len(st.Frames) != 1 || !st.CutShort || st.Note != NoFramePointers {
		t.Errorf("a non-return address mid-stack: %+v", st)
	}
	if st = p.Stack(nil, 0, false); st.Note == "" || len(st.Frames) != 0 {
		t.Errorf("empty stack: %+v", st)
	}
}
