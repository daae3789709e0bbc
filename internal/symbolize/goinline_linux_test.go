package symbolize

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sockleak/sockleak/internal/livetest"
)

// goBuild builds the program src with the go command gobin, env added to
// the environment.
func goBuild(t *testing.T, gobin, src string, env []string, bin string, flags ...string) {
	t.Helper()
	args := append(append([]string{"build", "-o", bin}, flags...), filepath.Base(src))
	cmd := exec.Command(gobin, args...)
	cmd.Dir, cmd.Env = filepath.Dir(src), append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", gobin, strings.Join(args, " "), err, out)
	}
}

// runGoInline runs a build of testdata/goinline and resolves the return
// address it prints, in the running process; it also returns the module.
func runGoInline(t *testing.T, bin string) ([]Frame, *module) {
	t.Helper()
	pid, ret := startReturnPrinter(t, bin)
	s := New("/proc")
	defer s.Close()
	p, err := s.Process(pid)
	if err != nil {
		t.Fatal(err)
	}
	mp, ok := find(p.maps, ret)
	if !ok {
		t.Fatalf("%#x: in no mapping", ret)
	}
	m, err := p.module(mp)
	if err != nil {
		t.Fatal(err)
	}
	return p.Resolve(ret, true), m
}

// TestGoInline: in a Go binary built with -s -w (no symbols, no DWARF),
// plain and PIE, a pc in code the compiler inlined twice over is named as
// the runtime's traceback names it, from the pclntab's inline tree: open
// at its line, inlined into dial at the call's line, inlined into run. The
// DWARF build of the same program (addr2line -i's answer) is the oracle:
// the frames must match.
func TestGoInline(t *testing.T) {
	livetest.Skip(t)
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go toolchain not in PATH: cannot build testdata/goinline")
	}
	src, _ := filepath.Abs("testdata/goinline/main.go")
	checkGoInline(t, gobin, src, nil)
}

// TestGoInlineOtherGo: the same with the go command SYMBOLIZE_OTHER_GO
// names, an older Go: before Go 1.26 go:func.* is in .rodata and
// moduledata in .noptrdata; 1.18 and 1.19 have other layouts of
// moduledata, _func and the inline tree. GOTOOLCHAIN=go1.22.12 go version
// downloads one to $(go env GOMODCACHE)/golang.org/toolchain@v0.0.1-go1.22.12.linux-amd64/bin/go
// (Go 1.21 on); Debian 12's golang-1.19-go is /usr/lib/go-1.19/bin/go.
func TestGoInlineOtherGo(t *testing.T) {
	livetest.Skip(t)
	gobin := os.Getenv("SYMBOLIZE_OTHER_GO")
	if gobin == "" {
		t.Skip("SYMBOLIZE_OTHER_GO unset: no other Go toolchain to build with")
	}
	b, err := os.ReadFile("testdata/goinline/main.go")
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "main.go") // out of this module, whose go.mod asks for a newer Go
	if err := os.WriteFile(src, b, 0o644); err != nil {
		t.Fatal(err)
	}
	checkGoInline(t, gobin, src, []string{"GO111MODULE=off", "GOTOOLCHAIN=local", "GOFLAGS="})
}

// checkGoInline builds src with gobin in each way and checks the frames
// of the pc the program prints.
func checkGoInline(t *testing.T, gobin, src string, env []string) {
	t.Helper()
	want := []Frame{
		{Function: "main.open", File: src, Line: markedLine(t, src, "probe"), Inlined: true},
		{Function: "main.dial", File: src, Line: markedLine(t, src, "open"), Inlined: true},
		{Function: "main.run", File: src, Line: markedLine(t, src, "dial")},
	}
	builds := []struct {
		name  string
		flags []string
		dwarf bool
	}{
		{"dwarf", nil, true},
		{"stripped", []string{"-ldflags=-s -w"}, false},
		{"dwarf-pie", []string{"-buildmode=pie"}, true},
		{"stripped-pie", []string{"-buildmode=pie", "-ldflags=-s -w"}, false},
		// As with cgo: C code comes first in .text, so function entries
		// count from runtime.text, which moduledata gives.
		{"stripped-pie-external", []string{"-buildmode=pie", "-ldflags=-s -w -linkmode=external"}, false},
	}
	dir := t.TempDir()
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			if strings.Contains(b.name, "external") {
				if _, err := exec.LookPath("gcc"); err != nil {
					t.Skip("no C compiler (gcc) on PATH for the external linker")
				}
			}
			bin := filepath.Join(dir, b.name)
			goBuild(t, gobin, src, env, bin, b.flags...)
			fs, m := runGoInline(t, bin)
			if (m.dwarf != nil) != b.dwarf || m.gotab == nil {
				t.Fatalf("DWARF read: %v, want %v; pclntab read: %v", m.dwarf != nil, b.dwarf, m.gotab != nil)
			}
			sameFrames(t, b.name, fs, want)
			if b.dwarf {
				return
			}
			if m.gotab.gofunc == 0 {
				t.Error("moduledata not found")
			}
			if strings.Contains(b.name, "pie") {
				checkRelocated(t, bin, fs[0].Offset-1, want)
			}
			// Without moduledata, so without the inline tree, the frame is
			// the real function, without the inlined function's line.
			// Function entries count from the header's textStart before
			// Go 1.26, from .text after, which is runtime.text unless the
			// system linker put C code first.
			m, err := openModule(bin)
			if err != nil {
				t.Fatal(err)
			}
			defer m.close()
			m.load()
			m.gotab.once.Do(func() {})
			if strings.Contains(b.name, "external") && m.gotab.headerText == 0 {
				return
			}
			got := m.frames(fs[0].Offset - 1)
			if len(got) != 1 || got[0].Function != "main.run" || got[0].File != "" || got[0].Line != 0 {
				t.Errorf("without moduledata: %v, want main.run without a line", got)
			}
		})
	}
}

// sameFrames compares the frames that name pcs, the addresses aside.
func sameFrames(t *testing.T, what string, got, want []Frame) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d frames %v, want %v (did the compiler stop inlining open and dial? see go build -gcflags=-m)", what, len(got), got, want)
	}
	for i, w := range want {
		if f := got[i]; f.Function != w.Function || f.File != w.File || f.Line != w.Line || f.Inlined != w.Inlined {
			t.Errorf("%s: frame %d: %s (inlined %v), want %s (inlined %v)", what, i, f, f.Inlined, w, w.Inlined)
		}
	}
}

// TestGoInlineSelf: the pclntab, DWARF aside, names each frame of this
// test's own stack as the runtime does (runtime.CallersFrames).
func TestGoInlineSelf(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	m, err := openModule(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	m.load()
	if m.gotab == nil {
		t.Fatal("no pclntab read")
	}
	pcs := make([]uintptr, 32)
	pcs = pcs[:runtime.Callers(0, pcs)]
	frames := runtime.CallersFrames(pcs)
	n := 0
	for {
		f, more := frames.Next()
		got := m.gotab.frames(uint64(f.PC))
		if len(got) == 0 || got[0].Function != f.Function || got[0].File != f.File || got[0].Line != f.Line {
			t.Errorf("%#x: %v, want %s at %s:%d", f.PC, got, f.Function, f.File, f.Line)
		}
		n++
		if !more {
			break
		}
	}
	if n < 3 {
		t.Fatalf("checked %d frames", n)
	}
}

// checkRelocated: a PIE whose relocated words the file leaves 0 (the
// linker need not write what an R_X86_64_RELATIVE relocation sets, and lld
// does not) is read through its relocations alone.
func checkRelocated(t *testing.T, bin string, pc uint64, want []Frame) {
	t.Helper()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	zeroed := 0
	for _, rs := range ef.Sections {
		if rs.Type != elf.SHT_RELA {
			continue
		}
		b, err := rs.Data()
		if err != nil {
			t.Fatal(err)
		}
		for ; len(b) >= 24; b = b[24:] {
			off := binary.LittleEndian.Uint64(b)
			for _, p := range ef.Progs {
				if p.Type == elf.PT_LOAD && off >= p.Vaddr && off+8 <= p.Vaddr+p.Filesz {
					clear(data[p.Off+off-p.Vaddr:][:8])
					zeroed++
				}
			}
		}
	}
	if zeroed < 20 {
		t.Fatalf("%d relocated words", zeroed)
	}
	m, err := fileModule(t, data)
	if err != nil {
		t.Fatal(err)
	}
	sameFrames(t, "relocated words zeroed", m.frames(pc), want)
	if m.gotab.gofunc == 0 {
		t.Error("relocated words zeroed: moduledata not found")
	}
}
