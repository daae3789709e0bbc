package symbolize

import (
	"debug/elf"
	"encoding/binary"
	"slices"
)

// A Go binary's runtime.moduledata holds where go:func.* starts (its
// gofunc field), which the inline tree's funcdata offsets count from, and
// runtime.text, which function entries count from. -s leaves no symbol
// to name either, so moduledata is found as tools that read stripped Go
// binaries find it (the OpenTelemetry eBPF profiler, redress/gore): its
// first field points to the pclntab. In a PIE an R_*_RELATIVE relocation
// gives each pointer its value (as addend): Go's linker and GNU ld also
// write the value in place, lld need not. A candidate is taken when its
// fields agree with the pclntab header; the layout is runtime/symtab.go's
// moduledata and cmd/link/internal/ld/symtab.go's writer. (go:func.* is in
// .rodata, or the relro data of a PIE, before Go 1.26, and in .gopclntab
// from then on.)

// Word indexes of moduledata's fields, with 8-byte pointers. covctrs and
// ecovctrs came in Go 1.20 before rodata and gofunc, which were 2 words
// earlier in 1.18 and 1.19.
const (
	mdPCHeader  = 0
	mdFuncnames = 1 // slices: pointer, len, cap
	mdCutab     = 4
	mdFiletab   = 7
	mdPctab     = 10
	mdPclntab   = 13
	mdFtab      = 16
	mdMinPC     = 20
	mdMaxPC     = 21
	mdText      = 22
	mdEtext     = 23
	mdRodata    = 39
	mdGofunc    = 40
	mdWords     = 41
	mdBefore120 = 2 // words rodata and gofunc were earlier
)

// maxScan bounds what is read of a data or relocation section to look
// for moduledata, whatever the file says.
const maxScan = 64 << 20

// maxCandidates bounds the candidates checked.
const maxCandidates = 16

// findModuledata sets t.gofunc and t.text from moduledata; t.gofunc
// stays 0 when no candidate agrees with the pclntab. The file's words
// are tried first, which the linker wrote unless it left a PIE's
// relocated words 0: the relocations are read only then.
func (t *goTab) findModuledata() {
	m := t.module
	if m == nil || m.elf.Class != elf.ELFCLASS64 || m.elf.Data != elf.ELFDATA2LSB {
		return
	}
	for _, md := range t.candidates() {
		if w, ok := t.words(md, relas{}); ok && t.agrees(w) {
			t.text, t.gofunc = w[mdText], w[t.mdIndex(mdGofunc)]
			return
		}
	}
	rel := t.relocations()
	var cands []uint64
	rel.each(func(off, addend uint64) {
		if addend == t.addr && len(cands) < maxCandidates && !slices.Contains(cands, off) {
			cands = append(cands, off)
		}
	})
	for _, md := range cands {
		if w, ok := t.words(md, rel); ok && t.agrees(w) {
			t.text, t.gofunc = w[mdText], w[t.mdIndex(mdGofunc)]
			return
		}
	}
}

// candidates are the addresses of the data sections' words that hold
// the pclntab's address (.go.module holds moduledata alone since Go
// 1.26, .noptrdata before).
func (t *goTab) candidates() []uint64 {
	var out []uint64
	for _, name := range []string{".go.module", ".noptrdata", ".data", ".data.rel.ro"} {
		s := t.module.elf.Section(name)
		if s == nil || s.Type != elf.SHT_PROGBITS || s.Addr%8 != 0 {
			continue
		}
		b, ok := t.module.sectionData(s, maxScan)
		if !ok {
			continue
		}
		for i := 0; i+8 <= len(b) && len(out) < maxCandidates; i += 8 {
			if binary.LittleEndian.Uint64(b[i:]) == t.addr {
				out = append(out, s.Addr+uint64(i))
			}
		}
	}
	return out
}

// relas are a file's relative relocations: the RELA sections' bytes and
// the relocation type that is relative on the file's machine.
type relas struct {
	sections [][]byte
	relative uint32
}

// relocations reads the RELA sections; none on a machine it does not
// know.
func (t *goTab) relocations() relas {
	var r relas
	switch t.module.elf.Machine {
	case elf.EM_X86_64:
		r.relative = uint32(elf.R_X86_64_RELATIVE)
	case elf.EM_AARCH64:
		r.relative = uint32(elf.R_AARCH64_RELATIVE)
	default:
		return r
	}
	for _, s := range t.module.elf.Sections {
		if s.Type != elf.SHT_RELA {
			continue
		}
		if b, ok := t.module.sectionData(s, maxScan); ok {
			r.sections = append(r.sections, b)
		}
	}
	return r
}

// each calls fn with the target and addend of each relative relocation.
func (r relas) each(fn func(off, addend uint64)) {
	for _, b := range r.sections {
		for ; len(b) >= 24; b = b[24:] {
			if uint32(binary.LittleEndian.Uint64(b[8:])) == r.relative {
				fn(binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[16:]))
			}
		}
	}
}

// words reads moduledata's first fields at vaddr md, as the file has
// them, with the relocations r applied (none in a zero relas).
func (t *goTab) words(md uint64, r relas) ([mdWords]uint64, bool) {
	var w [mdWords]uint64
	b, ok := t.module.readVaddr(md, 8*mdWords)
	if !ok {
		return w, false
	}
	for i := range w {
		w[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	r.each(func(off, addend uint64) {
		if off >= md && off-md < 8*mdWords && (off-md)%8 == 0 {
			w[(off-md)/8] = addend
		}
	})
	return w, true
}

// agrees reports whether moduledata's fields w describe this pclntab.
func (t *goTab) agrees(w [mdWords]uint64) bool {
	// A slice points to its table; its length, in elements, may leave out
	// padding before the next table. cutab's is checked as a length in
	// bytes: the linker wrote that before Go 1.2x (1.22 does).
	slice := func(i, tab int, b []byte, size uint64) bool {
		return w[i] == t.addr+t.offs[tab] && w[i+1] == w[i+2] && w[i+1] <= uint64(len(b))/size
	}
	return w[mdPCHeader] == t.addr &&
		slice(mdFuncnames, 0, t.funcnames, 1) && slice(mdCutab, 1, t.cutab, 1) &&
		slice(mdFiletab, 2, t.filetab, 1) && slice(mdPctab, 3, t.pctab, 1) &&
		slice(mdPclntab, 4, t.pclntab, 1) && slice(mdFtab, 4, t.pclntab, 8) &&
		w[mdFtab+1] == uint64(t.nfunc+1) &&
		w[mdText] <= w[mdMinPC] && w[mdMinPC] < w[mdMaxPC] && w[mdMaxPC] <= w[mdEtext] &&
		w[t.mdIndex(mdGofunc)] >= w[t.mdIndex(mdRodata)] && w[t.mdIndex(mdGofunc)] != 0
}

// mdIndex is the index of field i (rodata or gofunc) in this version.
func (t *goTab) mdIndex(i int) int {
	if t.magic == goMagic118 {
		return i - mdBefore120
	}
	return i
}

// scanPclntab finds the pclntab by its header where the system linker
// merged its section into another: a PIE linked externally (cgo) before
// Go 1.26 has it in .data.rel.ro. A header is taken when newGoTab and the
// first and last functions check out.
func (m *module) scanPclntab(text uint64) *goTab {
	for _, name := range []string{".data.rel.ro", ".rodata"} {
		s := m.elf.Section(name)
		if s == nil || s.Type != elf.SHT_PROGBITS {
			continue
		}
		b, ok := m.sectionData(s, maxPclntab)
		if !ok {
			continue
		}
		for i := 0; i+goHeaderSize <= len(b); i += 4 {
			if magic := binary.LittleEndian.Uint32(b[i:]); magic != goMagic120 && magic != goMagic118 {
				continue
			}
			t := newGoTab(b[i:], s.Addr+uint64(i), text)
			if t == nil {
				continue
			}
			_, first := t.funcIndex(0)
			_, last := t.funcIndex(t.nfunc - 1)
			if first && last {
				t.module = m
				return t
			}
		}
	}
	return nil
}

// sectionData reads an uncompressed section of at most max bytes; false
// when the file ends before the section does, whatever size it claims.
func (m *module) sectionData(s *elf.Section, max uint64) ([]byte, bool) {
	var last [1]byte
	if s.Size == 0 || s.Size > max || s.Flags&elf.SHF_COMPRESSED != 0 || s.Offset+s.Size > 1<<62 {
		return nil, false
	}
	if _, err := m.file.ReadAt(last[:], int64(s.Offset+s.Size-1)); err != nil {
		return nil, false
	}
	b, err := s.Data()
	return b, err == nil
}

// readVaddr reads n bytes at vaddr from the file; false unless a loaded
// segment's file bytes hold them all.
func (m *module) readVaddr(vaddr, n uint64) ([]byte, bool) {
	if n > 1<<20 {
		return nil, false
	}
	for _, p := range m.loads {
		if vaddr >= p.Vaddr && vaddr-p.Vaddr <= p.Filesz && n <= p.Filesz-(vaddr-p.Vaddr) {
			b := make([]byte, n)
			if _, err := m.file.ReadAt(b, int64(p.Off+vaddr-p.Vaddr)); err != nil {
				return nil, false
			}
			return b, true
		}
	}
	return nil, false
}
