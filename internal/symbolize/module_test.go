package symbolize

import (
	"bytes"
	"os"
	"path"
	"testing"
)

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func fileModule(t testing.TB, data []byte) (*module, error) {
	t.Helper()
	return newModule(nopCloser{bytes.NewReader(data)})
}

// Addresses in testdata/inline.elf (see testdata/README.md): main's call of
// probe is at 0x10ac and returns to 0x10b1.
const (
	inlineCall   = 0x10ac
	inlineReturn = 0x10b1
)

// TestModuleInlined: the committed -O2 build of inline.c names deliver,
// inlined into main, from DWARF alone, without a compiler or a process.
func TestModuleInlined(t *testing.T) {
	data, err := os.ReadFile("testdata/inline.elf")
	if err != nil {
		t.Fatal(err)
	}
	m, err := fileModule(t, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.id) != 40 {
		t.Errorf("build id %q, want 20 bytes in hex", m.id)
	}
	fs := m.frames(inlineReturn - 1)
	type fl struct {
		Fn      string
		File    string
		Line    int
		Inlined bool
	}
	var got []fl
	for _, f := range fs {
		got = append(got, fl{f.Function, path.Base(f.File), f.Line, f.Inlined})
	}
	want := []fl{{"deliver", "inline.c", 19, true}, {"main", "inline.c", 26, false}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("frames %+v, want %+v", got, want)
	}
	if !m.isReturnAddress(inlineReturn) || m.isReturnAddress(inlineCall) {
		t.Error("isReturnAddress: want true after the call, false at it")
	}
	// Without DWARF the ELF symbol names the real function around it.
	m.dwarf = nil
	if fs := m.frames(inlineReturn - 1); len(fs) != 1 || fs[0].Function != "main" || fs[0].File != "" {
		t.Errorf("from the symbol table: %+v, want main without a line", fs)
	}
	if fs := m.frames(0x10); len(fs) != 0 {
		t.Errorf("an address in no function is named: %+v", fs)
	}
}

// FuzzModule: an ELF file any process could map, crafted or truncated,
// never panics the symboliser, whatever it is asked.
func FuzzModule(f *testing.F) {
	data, err := os.ReadFile("testdata/inline.elf")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data, uint64(inlineReturn-1))  // the real file
	f.Add(data[:len(data)/2], uint64(0)) // truncated: sections past its end
	flipped := bytes.Clone(data)
	for i := 0x40; i < len(flipped); i += 97 {
		flipped[i] ^= 0xff // corrupted throughout
	}
	f.Add(flipped, uint64(inlineReturn-1))
	f.Add([]byte("\x7fELF\x02\x01\x01"), uint64(1)) // a header alone
	f.Fuzz(func(t *testing.T, b []byte, pc uint64) {
		m, err := fileModule(t, b)
		if err != nil {
			return
		}
		_ = m.frames(pc)
		_ = m.isReturnAddress(pc)
		_, _ = m.vaddr(pc)
	})
}
