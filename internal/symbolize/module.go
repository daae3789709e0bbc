package symbolize

import (
	"debug/dwarf"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
)

// module is one ELF file (an executable or a shared library), parsed once
// and shared by every process that maps it.
type module struct {
	id    string // build id, "" when the file has none
	file  readerAtCloser
	elf   *elf.File
	loads []elf.ProgHeader // PT_LOAD segments, to turn file offsets into addresses

	once  sync.Once
	dwarf *dwarf.Data  // nil without DWARF
	units []*dwarfUnit // by offset, filled as they are used
	gotab *goTab       // nil unless a Go binary of Go 1.18 on
	gosym *gosym.Table // an older Go binary's
	syms  []elf.Symbol // functions, by address
}

// openModule opens an ELF file and reads its program headers and build
// id; symbols and DWARF are read when first needed.
func openModule(path string) (*module, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := newModule(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

type readerAtCloser interface {
	io.ReaderAt
	io.Closer
}

// newModule reads an ELF file's headers. The file is the host's: any
// process may map a file crafted to break a parser.
func newModule(f readerAtCloser) (m *module, err error) {
	defer func() {
		if v := recover(); v != nil {
			m, err = nil, fmt.Errorf("malformed ELF file: %v", v)
		}
	}()
	ef, err := elf.NewFile(f)
	if err != nil {
		return nil, err
	}
	m = &module{file: f, elf: ef, id: buildID(ef)}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_LOAD {
			m.loads = append(m.loads, p.ProgHeader)
		}
	}
	if len(m.loads) == 0 {
		return nil, errors.New("no loadable segment")
	}
	return m, nil
}

func (m *module) close() { m.file.Close() }

// buildID returns the GNU build id in hex, else Go's build id, else "".
func buildID(f *elf.File) string {
	if s := f.Section(".note.gnu.build-id"); s != nil {
		if desc := noteDesc(s); desc != nil {
			return hex.EncodeToString(desc)
		}
	}
	if s := f.Section(".note.go.buildid"); s != nil {
		if desc := noteDesc(s); desc != nil {
			return "go:" + string(desc)
		}
	}
	return ""
}

// noteDesc returns the descriptor of the first note of an ELF note
// section (namesz, descsz, type, then the name and the descriptor, each
// padded to 4 bytes); nil when malformed.
func noteDesc(s *elf.Section) []byte {
	if s.Size > 1<<16 {
		return nil
	}
	b, err := s.Data()
	if err != nil || len(b) < 12 {
		return nil
	}
	namesz := binary.LittleEndian.Uint32(b[0:4])
	descsz := binary.LittleEndian.Uint32(b[4:8])
	start := 12 + (uint64(namesz)+3)&^3
	if start+uint64(descsz) > uint64(len(b)) || descsz == 0 {
		return nil
	}
	return b[start : start+uint64(descsz)]
}

// vaddr turns an offset in the file into the address the ELF file gives
// it (what symbols and DWARF use); false when no segment holds it.
func (m *module) vaddr(off uint64) (uint64, bool) {
	for _, p := range m.loads {
		if off >= p.Off && off < p.Off+p.Filesz {
			return off - p.Off + p.Vaddr, true
		}
	}
	return 0, false
}

// load reads the symbols, DWARF and the Go line table, once.
func (m *module) load() {
	m.once.Do(func() {
		defer func() {
			if recover() != nil { // a malformed file: name nothing from it
				m.dwarf, m.gotab, m.gosym, m.syms = nil, nil, nil, nil
			}
		}()
		if debugSize(m.elf) <= maxDebugSize {
			if d, err := m.elf.DWARF(); err == nil {
				m.dwarf = d
			}
		}
		m.gotab, m.gosym = m.goTables()
		syms, _ := m.elf.Symbols()
		dyn, _ := m.elf.DynamicSymbols()
		for _, s := range append(syms, dyn...) {
			if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Value != 0 {
				m.syms = append(m.syms, s)
			}
		}
		sort.Slice(m.syms, func(i, j int) bool { return m.syms[i].Value < m.syms[j].Value })
	})
}

// maxDebugSize bounds the DWARF sections read, uncompressed: a compressed
// section states its own size, and a small file can claim gigabytes.
const maxDebugSize = 1 << 30

// debugSize is the size of the DWARF sections once uncompressed.
func debugSize(f *elf.File) uint64 {
	var n uint64
	for _, s := range f.Sections {
		if strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			n += s.Size
		}
	}
	return n
}

// maxPclntab bounds the pclntab read: a large binary's is tens of MB.
const maxPclntab = 256 << 20

// goTables reads a Go binary's pclntab, which -s -w leave in place: as
// the runtime does for the formats of Go 1.18 on, which name inlined
// functions, else with debug/gosym.
func (m *module) goTables() (*goTab, *gosym.Table) {
	text := m.elf.Section(".text")
	if text == nil {
		return nil, nil
	}
	pcln := m.elf.Section(".gopclntab")
	if pcln == nil { // a PIE before Go 1.26 has it among the relro data
		pcln = m.elf.Section(".data.rel.ro.gopclntab")
	}
	if pcln == nil {
		return m.scanPclntab(text.Addr), nil
	}
	data, ok := m.sectionData(pcln, maxPclntab)
	if !ok {
		return nil, nil
	}
	if t := newGoTab(data, pcln.Addr, text.Addr); t != nil {
		t.module = m
		return t, nil
	}
	t, err := gosym.NewTable(nil, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return nil, nil
	}
	return nil, t
}

// frames returns what the module says of address pc (a vaddr of the
// file), innermost first: several frames where functions were inlined.
// None when nothing names it.
func (m *module) frames(pc uint64) (fs []Frame) {
	m.load()
	defer func() {
		if recover() != nil {
			fs = nil // a malformed table: the frame is left unnamed
		}
	}()
	if fs := m.dwarfFrames(pc); len(fs) > 0 {
		return fs
	}
	if m.gotab != nil {
		if fs := m.gotab.frames(pc); len(fs) > 0 {
			return fs
		}
	}
	// An older format's inline tree is not read: pc may be in inlined
	// code, whose line is another function's. The function alone is sure.
	if m.gosym != nil {
		if fn := m.gosym.PCToFunc(pc); fn != nil {
			return []Frame{{Function: fn.Name}}
		}
	}
	if s, ok := m.symbol(pc); ok {
		return []Frame{{Function: s}}
	}
	return nil
}

// symbol names pc from the ELF symbol tables: the function whose range
// holds it.
func (m *module) symbol(pc uint64) (string, bool) {
	i := sort.Search(len(m.syms), func(i int) bool { return m.syms[i].Value > pc }) - 1
	// Aliases share an address: look at a few symbols back. A symbol
	// without a size names nothing for sure, so it is not used.
	for stop := i - 8; i >= 0 && i > stop; i-- {
		if s := m.syms[i]; pc < s.Value+s.Size {
			return s.Name, true
		}
	}
	return "", false
}

// isReturnAddress reports whether the bytes before vaddr ret are a call
// instruction (x86-64): a value read from the stack that is a return
// address, not data that happens to point into the text.
func (m *module) isReturnAddress(ret uint64) bool {
	var off uint64
	found := false
	for _, p := range m.loads {
		if ret >= p.Vaddr+7 && ret <= p.Vaddr+p.Filesz {
			off, found = ret-p.Vaddr+p.Off, true
		}
	}
	if !found {
		return false
	}
	var b [7]byte
	if _, err := m.file.ReadAt(b[:], int64(off)-7); err != nil && err != io.EOF {
		return false
	}
	callReg := func(modrm byte) bool { return modrm>>3&7 == 2 }
	return b[2] == 0xe8 || // call rel32
		b[5] == 0xff && callReg(b[6]) || // call *%reg
		b[4] == 0xff && callReg(b[5]) || // call *disp8(%reg)
		b[1] == 0xff && callReg(b[2]) || // call *disp32(%rip), *disp32(%reg)
		b[0] == 0xff && callReg(b[1]) // with a SIB byte
}

// modulePath is the file a mapping maps, as the process sees it.
func modulePath(procRoot string, pid int, mp Mapping) []string {
	return []string{
		fmt.Sprintf("%s/%d/map_files/%x-%x", procRoot, pid, mp.Start, mp.End),
		fmt.Sprintf("%s/%d/root%s", procRoot, pid, mp.Path),
	}
}

// shortName is a module's base name, for labels: "libc.so.6".
func shortName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}
