package symbolize

import (
	"bytes"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"fmt"
	"os"
	"testing"
)

// Addresses of the synthetic Go binary goELF writes.
const (
	synthBase   = 0x400000
	synthText   = synthBase + 0x1000 // runtime.text: main.run, then main.other
	synthPCLN   = synthBase + 0x2000 // .gopclntab
	synthGofunc = synthBase + 0x3000 // go:func.* in .rodata, as before Go 1.26
	synthModule = synthBase + 0x3800 // .go.module
	synthEnd    = synthBase + 0x3a00
)

// pcTable encodes a pc-value table (runtime.pcvalue's format): each
// value holds from the previous pc up to the next; the values start from
// -1. A value equal to the one before would end the table: none is.
func pcTable(b []byte, vals []int32, pcs []uint32) []byte {
	prevV, prevPC := int32(-1), uint32(0)
	for i, v := range vals {
		d := v - prevV
		uv := uint64(d) << 1
		if d < 0 {
			uv = uint64(^d)<<1 | 1
		}
		b = binary.AppendUvarint(b, uv)
		b = binary.AppendUvarint(b, uint64(pcs[i]-prevPC))
		prevV, prevPC = v, pcs[i]
	}
	return append(b, 0)
}

// goPclntab is a pclntab in the format of magic (Go 1.18's or 1.20's): main.run (text+0 to +0x40)
// holds main.dial inlined at +0x18, which holds main.open inlined at
// +0x10; main.other is +0x40 to +0x80. Lines: run 20, open 30, dial 26,
// the call of dial 21, other 40, all in /src/main.go.
func goPclntab(magic uint32) []byte {
	le := binary.LittleEndian
	names := []byte("main.run\x00main.open\x00main.dial\x00main.other\x00")
	cutab := le.AppendUint32(nil, 0)
	files := []byte("/src/main.go\x00")
	pctab := []byte{0} // offset 0 is no table
	pcfile := uint32(len(pctab))
	pctab = pcTable(pctab, []int32{0}, []uint32{0x40})
	lnRun := uint32(len(pctab))
	pctab = pcTable(pctab, []int32{20, 30, 26, 21}, []uint32{0x10, 0x18, 0x20, 0x40})
	inlRun := uint32(len(pctab))
	pctab = pcTable(pctab, []int32{-1, 0, 1, -1}, []uint32{0x10, 0x18, 0x20, 0x40})
	lnOther := uint32(len(pctab))
	pctab = pcTable(pctab, []int32{40}, []uint32{0x40})
	for len(pctab)%8 != 0 {
		pctab = append(pctab, 0)
	}

	off := uint64(goHeaderSize)
	offs := []uint64{off, off + uint64(len(names)), 0, 0, 0}
	offs[2] = offs[1] + uint64(len(cutab))
	offs[3] = offs[2] + uint64(len(files))
	offs[4] = offs[3] + uint64(len(pctab))
	for offs[3]%8 != 0 { // pctab ends on 8 so that the functab is aligned
		files = append(files, 0)
		offs[3]++
		offs[4]++
	}

	fn := func(entry, name, pcln, inl uint32) []byte {
		var b []byte
		fixed := []uint32{entry, name, 0, 0, 0, pcfile, pcln, 3, 0, 1} // startLine last
		if magic == goMagic118 {
			fixed = fixed[:len(fixed)-1]
		}
		for _, v := range fixed {
			b = le.AppendUint32(b, v)
		}
		b = append(b, 0, 0, 0, 4) // funcID, flag, pad, nfuncdata
		for _, v := range []uint32{0, 0, inl, ^uint32(0), ^uint32(0), ^uint32(0), 0} {
			b = le.AppendUint32(b, v) // pcdata[3], funcdata[4]: the inline tree at go:func.*+0
		}
		return b
	}
	run, other := fn(0, 0, lnRun, inlRun), fn(0x40, 29, lnOther, 0)
	var tab []byte
	ftab := 3 * 8
	for _, v := range []uint32{0, uint32(ftab), 0x40, uint32(ftab + len(run)), 0x80, 0} {
		tab = le.AppendUint32(tab, v)
	}
	tab = append(append(tab, run...), other...)

	h := le.AppendUint32(nil, magic)
	h = append(h, 0, 0, 1, 8)
	for _, v := range []uint64{2, 1, 0, offs[0], offs[1], offs[2], offs[3], offs[4]} {
		h = le.AppendUint64(h, v)
	}
	return bytes.Join([][]byte{h, names, cutab, files, pctab, tab}, nil)
}

// goModuledata is moduledata's first words for goPclntab at synthPCLN.
func goModuledata(pcln []byte, magic uint32) []byte {
	le := binary.LittleEndian
	var w [mdWords]uint64
	hdr := func(i int) uint64 { return le.Uint64(pcln[32+8*i:]) }
	slice := func(at int, ptr, n uint64) { w[at], w[at+1], w[at+2] = ptr, n, n }
	w[mdPCHeader] = synthPCLN
	slice(mdFuncnames, synthPCLN+hdr(0), hdr(1)-hdr(0))
	slice(mdCutab, synthPCLN+hdr(1), (hdr(2)-hdr(1))/4)
	slice(mdFiletab, synthPCLN+hdr(2), hdr(3)-hdr(2))
	slice(mdPctab, synthPCLN+hdr(3), hdr(4)-hdr(3))
	slice(mdPclntab, synthPCLN+hdr(4), uint64(len(pcln))-hdr(4))
	slice(mdFtab, synthPCLN+hdr(4), 3)
	w[mdMinPC], w[mdMaxPC], w[mdText], w[mdEtext] = synthText, synthText+0x80, synthText, synthText+0x80
	rodata := 39 // after covctrs and ecovctrs, which Go 1.20 added
	if magic == goMagic118 {
		rodata = 37
	}
	w[rodata], w[rodata+1] = synthGofunc, synthGofunc // gofunc follows
	var b []byte
	for _, v := range w {
		b = le.AppendUint64(b, v)
	}
	return b
}

// goInlTree is the inline tree of goPclntab's main.run: main.open, then
// main.dial, each with its name and parentPc.
func goInlTree(magic uint32) []byte {
	le := binary.LittleEndian
	var tree []byte
	for _, n := range [][3]uint32{{9, 0x18, 29}, {19, 0x20, 25}} { // name, parentPc, startLine
		if magic == goMagic118 { // parent, funcID, _, file, line, func_, parentPc
			tree = le.AppendUint32(tree, 0xffff) // parent -1 (parentPc's index says), funcID, _
			tree = le.AppendUint32(tree, 0)      // file
			tree = le.AppendUint32(tree, 0)      // line: parentPc's says
			tree = le.AppendUint32(le.AppendUint32(tree, n[0]), n[1])
			continue
		}
		tree = le.AppendUint32(tree, 0) // funcID and padding
		for _, v := range n {
			tree = le.AppendUint32(tree, v)
		}
	}
	return tree
}

// goELF is a small ELF file laid out as a Go binary built with -s -w:
// .text, a pclntab of magic's format in section pcln, go:func.* with the
// inline tree in .rodata, moduledata in .go.module; no symbols, no DWARF.
func goELF(pcln string, magic uint32) []byte {
	le := binary.LittleEndian
	tab, tree := goPclntab(magic), goInlTree(magic)
	img := make([]byte, synthEnd-synthBase)
	copy(img[synthText-synthBase:], bytes.Repeat([]byte{0xcc}, 0x80))
	copy(img[synthPCLN-synthBase:], tab)
	copy(img[synthGofunc-synthBase:], tree)
	copy(img[synthModule-synthBase:], goModuledata(tab, magic))

	type sect struct {
		name       string
		typ        elf.SectionType
		flags      elf.SectionFlag
		addr, size uint64
	}
	sects := []sect{
		{"", elf.SHT_NULL, 0, 0, 0},
		{".text", elf.SHT_PROGBITS, elf.SHF_ALLOC | elf.SHF_EXECINSTR, synthText, 0x80},
		{".rodata", elf.SHT_PROGBITS, elf.SHF_ALLOC, synthGofunc, uint64(len(tree))},
		{pcln, elf.SHT_PROGBITS, elf.SHF_ALLOC, synthPCLN, uint64(len(tab))},
		{".go.module", elf.SHT_PROGBITS, elf.SHF_ALLOC | elf.SHF_WRITE, synthModule, 8 * mdWords},
		{".shstrtab", elf.SHT_STRTAB, 0, 0, 0},
	}
	var strtab []byte
	nameOff := make([]uint32, len(sects))
	for i, s := range sects {
		nameOff[i] = uint32(len(strtab))
		strtab = append(append(strtab, s.name...), 0)
	}
	shoff := uint64(len(img) + len(strtab))
	hdr := &elf.Header64{Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: 1,
		Entry: synthText, Phoff: 64, Shoff: shoff, Ehsize: 64, Phentsize: 56, Phnum: 1,
		Shentsize: 64, Shnum: uint16(len(sects)), Shstrndx: uint16(len(sects) - 1)}
	copy(hdr.Ident[:], elf.ELFMAG)
	hdr.Ident[elf.EI_CLASS], hdr.Ident[elf.EI_DATA], hdr.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1
	ph := elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Vaddr: synthBase,
		Paddr: synthBase, Filesz: uint64(len(img)), Memsz: uint64(len(img)), Align: 0x1000}
	var out bytes.Buffer
	_ = binary.Write(&out, le, hdr)
	_ = binary.Write(&out, le, ph)
	copy(img, out.Bytes())
	out.Reset()
	out.Write(img)
	out.Write(strtab)
	for i, s := range sects {
		sh := elf.Section64{Name: nameOff[i], Type: uint32(s.typ), Flags: uint64(s.flags), Addr: s.addr,
			Off: s.addr - synthBase, Size: s.size, Addralign: 1}
		if s.typ == elf.SHT_STRTAB {
			sh.Off, sh.Size = uint64(len(img)), uint64(len(strtab))
		}
		if s.typ == elf.SHT_NULL {
			sh.Off = 0
		}
		_ = binary.Write(&out, le, sh)
	}
	return out.Bytes()
}

type fl struct {
	Fn      string
	File    string
	Line    int
	Inlined bool
}

func flatten(fs []Frame) []fl {
	var out []fl
	for _, f := range fs {
		out = append(out, fl{f.Function, f.File, f.Line, f.Inlined})
	}
	return out
}

// TestGoTab: the synthetic binary's pcs, in and out of inlined code, are
// named as the runtime names them, without a toolchain.
func TestGoTab(t *testing.T) {
	const src = "/src/main.go"
	run := fl{"main.run", src, 21, false}
	tests := []struct {
		name string
		pc   uint64
		want []fl
	}{
		{"not inlined", synthText + 0x5, []fl{{"main.run", src, 20, false}}},
		{"inlined twice", synthText + 0x12, []fl{{"main.open", src, 30, true}, {"main.dial", src, 26, true}, run}},
		{"inlined once", synthText + 0x1f, []fl{{"main.dial", src, 26, true}, run}},
		{"after the inlined call", synthText + 0x20, []fl{run}},
		{"another function", synthText + 0x7f, []fl{{"main.other", src, 40, false}}},
		{"past the last function", synthText + 0x80, nil},
		{"before the text", synthText - 1, nil},
	}
	// The system linker merges .gopclntab into .data.rel.ro in a PIE
	// before Go 1.26: the table is found by its header.
	for _, v := range []struct {
		section string
		magic   uint32
	}{{".gopclntab", goMagic120}, {".data.rel.ro", goMagic120}, {".gopclntab", goMagic118}} {
		section := fmt.Sprintf("%s-%x", v.section, v.magic)
		m, err := fileModule(t, goELF(v.section, v.magic))
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			t.Run(section+"/"+tt.name, func(t *testing.T) {
				got := flatten(m.frames(tt.pc))
				if len(got) != len(tt.want) {
					t.Fatalf("%#x: %+v, want %+v", tt.pc, got, tt.want)
				}
				for i := range got {
					if got[i] != tt.want[i] {
						t.Errorf("%#x: frame %d: %+v, want %+v", tt.pc, i, got[i], tt.want[i])
					}
				}
			})
		}
		if m.gotab == nil || m.gotab.addr != synthPCLN || m.gotab.gofunc != synthGofunc {
			t.Fatalf("%s: pclntab or go:func.* not found: %+v", section, m.gotab)
		}
	}

	// Without moduledata the tree is not read: the frame in inlined code
	// is the real function alone, not main.run at open's line.
	m, err := fileModule(t, goELF(".gopclntab", goMagic120))
	if err != nil {
		t.Fatal(err)
	}
	m.load()
	m.gotab.once.Do(func() {})
	if got := flatten(m.frames(synthText + 0x12)); len(got) != 1 || got[0] != (fl{Fn: "main.run"}) {
		t.Errorf("inline tree unread: %+v, want main.run without a line", got)
	}
	if got := flatten(m.frames(synthText + 0x5)); len(got) != 1 || got[0] != (fl{"main.run", src, 20, false}) {
		t.Errorf("inline tree unread, pc outside inlined code: %+v, want main.run at line 20", got)
	}
}

// FuzzGoTab: a Go binary any process could map, crafted or truncated,
// never panics the pclntab reader and gives frames of a sound shape.
func FuzzGoTab(f *testing.F) {
	data := goELF(".gopclntab", goMagic120)
	f.Add(data, uint64(synthText+0x12))                              // in code inlined twice
	f.Add(goELF(".data.rel.ro", goMagic120), uint64(synthText+0x12)) // the table found by its header
	f.Add(goELF(".gopclntab", goMagic118), uint64(synthText+0x12))   // Go 1.18's layouts
	f.Add(data, uint64(synthText+0x44))                              // outside inlined code
	f.Add(data[:synthModule-synthBase], uint64(synthText+0x12))
	flipped := bytes.Clone(data)
	for i := synthPCLN - synthBase; i < synthModule-synthBase; i += 13 {
		flipped[i] ^= 0x5a
	}
	f.Add(flipped, uint64(synthText+0x12)) // tables corrupted throughout
	f.Fuzz(func(t *testing.T, b []byte, pc uint64) {
		m, err := fileModule(t, b)
		if err != nil {
			return
		}
		fs := m.frames(pc)
		if len(fs) > maxInlineDepth+1 {
			t.Fatalf("%d frames", len(fs))
		}
		for i, fr := range fs {
			if fr.Inlined != (i < len(fs)-1) {
				t.Fatalf("frame %d of %d: inlined %v", i, len(fs), fr.Inlined)
			}
		}
	})
}

// BenchmarkGoFrames compares the pclntab reader with debug/gosym, which
// it replaced, on this test's own binary: reading the table (load) and
// naming a pc (pc, over pcs spread through the text, the inline tree
// followed where there is one; gosym gives one frame, some of them mixed).
func BenchmarkGoFrames(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	m, err := openModule(exe)
	if err != nil {
		b.Fatal(err)
	}
	defer m.close()
	pcln, text := m.elf.Section(".gopclntab"), m.elf.Section(".text")
	if pcln == nil || text == nil {
		b.Skip("test binary without .gopclntab")
	}
	data, err := pcln.Data()
	if err != nil {
		b.Fatal(err)
	}
	t := newGoTab(data, pcln.Addr, text.Addr)
	if t == nil {
		b.Fatal("pclntab not read")
	}
	t.module = m
	var pcs []uint64
	for i := 0; i < t.nfunc; i += 7 {
		if f, ok := t.funcIndex(i); ok {
			pcs = append(pcs, f.entry+uint64(i%61))
		}
	}
	gt, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("load/gosym", func(b *testing.B) {
		for b.Loop() {
			_, _ = gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
		}
	})
	b.Run("load/goTab", func(b *testing.B) {
		for b.Loop() {
			t := newGoTab(data, pcln.Addr, text.Addr)
			t.module = m
			t.findModuledata()
		}
	})
	b.Run("pc/gosym", func(b *testing.B) {
		for b.Loop() {
			for _, pc := range pcs {
				gt.PCToLine(pc)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pcs)), "ns/pc")
	})
	b.Run("pc/goTab", func(b *testing.B) {
		for b.Loop() {
			for _, pc := range pcs {
				t.frames(pc)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pcs)), "ns/pc")
	})
}
