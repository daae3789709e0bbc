package symbolize

import (
	"encoding/binary"
	"sort"
	"sync"
)

// goTab is a Go binary's pclntab (Go 1.18 on), read as the runtime reads
// it to print a traceback: the function table, each function's pc-value
// tables, and the inline tree that names the functions the compiler
// inlined at a pc. The formats are the linker's and the runtime's:
// cmd/link/internal/ld/pcln.go writes them; runtime/symtab.go (pcHeader,
// _func, pcvalue) and runtime/symtabinl.go (inlinedCall, inlineUnwinder)
// read them.
//
// debug/gosym reads the same table but not the inline tree: for a pc in
// inlined code it gives the outer function's name with the inlined
// function's file:line, a frame that mixes two functions.
type goTab struct {
	data    []byte // .gopclntab
	addr    uint64 // its vaddr
	magic   uint32
	quantum uint64 // pc quantum (1 on x86, 4 on arm64)
	nfunc   int

	funcnames, cutab, filetab, pctab, pclntab []byte
	offs                                      [5]uint64 // of each from data's start

	// text is where function entries count from: moduledata.text, else
	// the header's textStart (runtime.text, before Go 1.26), else the
	// .text section's address, which is not runtime.text in an
	// externally linked binary (C code comes first).
	text       uint64
	headerText uint64

	// gofunc is the vaddr of go:func.*, which the inline tree's funcdata
	// offsets are relative to; 0 when not found (see moduledata.go).
	gofunc uint64
	module *module // to read the inline tree where gofunc is outside data

	once sync.Once // finds moduledata, on the first pc named
}

// pclntab magics, from internal/abi/symtab.go.
const (
	goMagic118 = 0xfffffff0 // Go 1.18, 1.19
	goMagic120 = 0xfffffff1 // Go 1.20 and on
)

// Indexes of the tables a _func lists, from internal/abi/symtab.go.
const (
	pcdataInlTreeIndex = 2
	funcdataInlTree    = 3
)

// goHeaderSize is pcHeader's size with 8-byte pointers.
const goHeaderSize = 72

// newGoTab reads the pclntab header; nil unless a format it knows (Go
// 1.18 on, little-endian, 8-byte pointers) with offsets in bounds. text,
// the .text section's address, is where function entries count from
// unless the header or moduledata says otherwise.
func newGoTab(data []byte, addr, text uint64) *goTab {
	if len(data) < goHeaderSize {
		return nil
	}
	le := binary.LittleEndian
	magic := le.Uint32(data)
	if magic != goMagic118 && magic != goMagic120 || data[4] != 0 || data[5] != 0 || data[7] != 8 {
		return nil
	}
	t := &goTab{data: data, addr: addr, magic: magic, quantum: uint64(data[6]), text: text}
	if t.quantum == 0 {
		return nil
	}
	if t.headerText = le.Uint64(data[24:]); t.headerText != 0 {
		t.text = t.headerText
	}
	nfunc := le.Uint64(data[8:])
	var offs [5]uint64
	for i := range offs {
		offs[i] = le.Uint64(data[32+8*i:])
	}
	for i, o := range offs {
		if o < goHeaderSize || o > uint64(len(data)) || i > 0 && o < offs[i-1] {
			return nil
		}
	}
	t.offs = offs
	t.funcnames = data[offs[0]:offs[1]]
	t.cutab = data[offs[1]:offs[2]]
	t.filetab = data[offs[2]:offs[3]]
	t.pctab = data[offs[3]:offs[4]]
	t.pclntab = data[offs[4]:]
	if nfunc == 0 || nfunc >= uint64(len(t.pclntab))/8 {
		return nil
	}
	t.nfunc = int(nfunc)
	return t
}

// goFunc is one _func of the table.
type goFunc struct {
	t       *goTab
	entry   uint64 // vaddr
	nameOff uint32
	pcfile  uint32
	pcln    uint32
	cuOff   uint32
	pcdata  []byte // npcdata uint32s
	fdata   []byte // nfuncdata uint32s
}

// funcAt returns the function whose code holds vaddr pc.
func (t *goTab) funcAt(pc uint64) (goFunc, bool) {
	le := binary.LittleEndian
	if pc < t.text || pc-t.text >= 1<<32 {
		return goFunc{}, false
	}
	rel := uint32(pc - t.text)
	entryOff := func(i int) uint32 { return le.Uint32(t.pclntab[8*i:]) }
	// The table ends with the end of the last function, at index nfunc.
	i := sort.Search(t.nfunc+1, func(i int) bool { return entryOff(i) > rel }) - 1
	return t.funcIndex(i)
}

// funcIndex returns function i of the table.
func (t *goTab) funcIndex(i int) (goFunc, bool) {
	le := binary.LittleEndian
	if i < 0 || i >= t.nfunc {
		return goFunc{}, false
	}
	off := uint64(le.Uint32(t.pclntab[8*i+4:]))
	hdr := uint64(44) // _func's fixed part; Go 1.18 and 1.19 had no startLine
	if t.magic == goMagic118 {
		hdr = 40
	}
	if off+hdr > uint64(len(t.pclntab)) {
		return goFunc{}, false
	}
	b := t.pclntab[off:]
	npcdata, nfuncdata := uint64(le.Uint32(b[28:])), uint64(b[hdr-1])
	if hdr+4*(npcdata+nfuncdata) > uint64(len(b)) || le.Uint32(b) != le.Uint32(t.pclntab[8*i:]) {
		return goFunc{}, false
	}
	return goFunc{
		t:       t,
		entry:   t.text + uint64(le.Uint32(b)),
		nameOff: le.Uint32(b[4:]),
		pcfile:  le.Uint32(b[20:]),
		pcln:    le.Uint32(b[24:]),
		cuOff:   le.Uint32(b[32:]),
		pcdata:  b[hdr : hdr+4*npcdata],
		fdata:   b[hdr+4*npcdata : hdr+4*(npcdata+nfuncdata)],
	}, true
}

// cstring is the NUL-terminated string at off in b; false when off is out
// of bounds or the string never ends.
func cstring(b []byte, off uint64) (string, bool) {
	if off >= uint64(len(b)) {
		return "", false
	}
	for i, c := range b[off:] {
		if c == 0 {
			return string(b[off : off+uint64(i)]), true
		}
	}
	return "", false
}

// name is the function's name.
func (f goFunc) name() (string, bool) { return cstring(f.t.funcnames, uint64(f.nameOff)) }

// value is the value the pc-value table at off in pctab gives pc (the
// runtime's pcvalue): -1 when the table is absent (offset 0), malformed
// or does not cover pc.
func (f goFunc) value(off uint32, pc uint64) int32 {
	if off == 0 || uint64(off) >= uint64(len(f.t.pctab)) {
		return -1
	}
	p := f.t.pctab[off:]
	at, val := f.entry, int32(-1)
	for first := true; ; first = false {
		uv, n := binary.Uvarint(p)
		if n <= 0 || uv > 1<<32-1 || uv == 0 && !first {
			return -1
		}
		p = p[n:]
		d, n := binary.Uvarint(p)
		if n <= 0 || d > 1<<32-1 {
			return -1
		}
		p = p[n:]
		val += int32(-(uint32(uv) & 1) ^ (uint32(uv) >> 1))
		at += d * f.t.quantum
		if pc < at {
			return val
		}
	}
}

// position is the file:line the function's tables give pc: the inlined
// function's when pc is in inlined code.
func (f goFunc) position(pc uint64) (string, int, bool) {
	line := f.value(f.pcln, pc)
	fileno := f.value(f.pcfile, pc)
	if line < 0 || fileno < 0 {
		return "", 0, false
	}
	i := uint64(f.cuOff) + uint64(fileno)
	if i >= uint64(len(f.t.cutab))/4 {
		return "", 0, false
	}
	file, ok := cstring(f.t.filetab, uint64(binary.LittleEndian.Uint32(f.t.cutab[4*i:])))
	return file, int(line), ok
}

// inlIndex is pc's index in the function's inline tree: -1 outside
// inlined code.
func (f goFunc) inlIndex(pc uint64) int32 {
	if len(f.pcdata) <= 4*pcdataInlTreeIndex {
		return -1
	}
	return f.value(binary.LittleEndian.Uint32(f.pcdata[4*pcdataInlTreeIndex:]), pc)
}

// inlinedCall is one node of an inline tree (runtime.inlinedCall): the
// function inlined, and the offset from the outer function's entry of an
// instruction at the call's position.
type inlinedCall struct {
	nameOff  uint32
	parentPC uint32
}

// inlCallLayout is runtime.inlinedCall's size and where nameOff and
// parentPc are in it: {funcID, _ [3]byte, nameOff, parentPc, startLine}
// from Go 1.20, {parent int16, funcID, _ byte, file, line, func_,
// parentPc} in 1.18 and 1.19.
func (t *goTab) inlCallLayout() (size, name, parent uint64) {
	if t.magic == goMagic118 {
		return 20, 12, 16
	}
	return 16, 4, 8
}

// inlCall reads node ix of the function's inline tree; false when the
// tree cannot be read (no moduledata, an offset out of bounds).
func (f goFunc) inlCall(ix int32) (inlinedCall, bool) {
	t := f.t
	if t.gofunc == 0 || len(f.fdata) <= 4*funcdataInlTree {
		return inlinedCall{}, false
	}
	off := binary.LittleEndian.Uint32(f.fdata[4*funcdataInlTree:])
	if off == ^uint32(0) {
		return inlinedCall{}, false
	}
	size, name, parent := t.inlCallLayout()
	b, ok := t.read(t.gofunc+uint64(off)+uint64(ix)*size, size)
	if !ok {
		return inlinedCall{}, false
	}
	return inlinedCall{nameOff: binary.LittleEndian.Uint32(b[name:]), parentPC: binary.LittleEndian.Uint32(b[parent:])}, true
}

// read returns n bytes at vaddr: from the pclntab, which holds go:func.*
// since Go 1.26, else from the file.
func (t *goTab) read(vaddr, n uint64) ([]byte, bool) {
	if vaddr >= t.addr && vaddr-t.addr <= uint64(len(t.data)) && n <= uint64(len(t.data))-(vaddr-t.addr) {
		return t.data[vaddr-t.addr:][:n], true
	}
	if t.module == nil {
		return nil, false
	}
	return t.module.readVaddr(vaddr, n)
}

// maxInlineDepth bounds the inlined calls followed at one pc, whatever a
// file says.
const maxInlineDepth = 64

// frames names pc as the runtime's traceback does, innermost first: each
// function inlined there, at its file:line, then its caller at the line
// of the call, up to the real function. Where pc is in inlined code but
// the inline tree cannot be read, the one frame is the real function
// without file:line: its pcln gives the inlined function's line, which
// would be a guess under the outer name. None when no function holds pc.
func (t *goTab) frames(pc uint64) []Frame {
	t.once.Do(t.findModuledata)
	f, ok := t.funcAt(pc)
	if !ok {
		return nil
	}
	outer, ok := f.name()
	if !ok {
		return nil
	}
	var out []Frame
	ix := f.inlIndex(pc)
	for depth := 0; ix >= 0; depth++ {
		call, ok := f.inlCall(ix)
		name, okName := cstring(t.funcnames, uint64(call.nameOff))
		file, line, okPos := f.position(pc)
		if !ok || !okName || !okPos || depth == maxInlineDepth {
			return []Frame{{Function: outer}}
		}
		out = append(out, Frame{Function: name, File: file, Line: line, Inlined: true})
		pc = f.entry + uint64(call.parentPC)
		ix = f.inlIndex(pc)
	}
	fr := Frame{Function: outer}
	if file, line, ok := f.position(pc); ok {
		fr.File, fr.Line = file, line
	}
	return append(out, fr)
}
