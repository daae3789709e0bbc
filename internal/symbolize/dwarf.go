package symbolize

import (
	"debug/dwarf"
	"sort"
)

// dwarfUnit is one compile unit's line table and file names, read once.
type dwarfUnit struct {
	entry *dwarf.Entry
	files []*dwarf.LineFile
	rows  []lineRow // by address
}

// lineRow is one row of a line table: the rows from Addr up to the next
// row's address are at File:Line; End closes a sequence.
type lineRow struct {
	addr uint64
	file string
	line int
	end  bool
}

// maxRows bounds a unit's line table, whatever a file says.
const maxRows = 1 << 22

// readRows reads a unit's whole line table, sorted by address. Not
// LineReader.SeekPC: it misses addresses of a sequence that comes after
// one at higher addresses, as gcc -O2 writes main after other functions.
func readRows(lr *dwarf.LineReader) []lineRow {
	var rows []lineRow
	var le dwarf.LineEntry
	for len(rows) < maxRows && lr.Next(&le) == nil {
		r := lineRow{addr: le.Address, line: le.Line, end: le.EndSequence}
		if le.File != nil {
			r.file = le.File.Name
		}
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].addr < rows[j].addr })
	return rows
}

// position is the file:line of pc: the last row at or before it, unless
// a sequence ended there.
func (u *dwarfUnit) position(pc uint64) (string, int) {
	i := sort.Search(len(u.rows), func(i int) bool { return u.rows[i].addr > pc }) - 1
	if i < 0 || u.rows[i].end {
		return "", 0
	}
	return u.rows[i].file, u.rows[i].line
}

// dwarfFrames names pc from DWARF, as addr2line -i does: the line table
// gives the innermost file:line, and the subprogram's inlined-subroutine
// entries that hold pc give the functions inlined there, each called from
// its parent's DW_AT_call_file:DW_AT_call_line.
func (m *module) dwarfFrames(pc uint64) []Frame {
	if m.dwarf == nil {
		return nil
	}
	u := m.unit(pc)
	if u == nil {
		return nil
	}
	chain := m.scopes(u.entry, pc)
	if len(chain) == 0 {
		return nil
	}
	file, line := u.position(pc)
	out := make([]Frame, 0, len(chain))
	for i := len(chain) - 1; i >= 0; i-- {
		out = append(out, Frame{Function: m.entryName(chain[i]), File: file, Line: line, Inlined: i > 0})
		file, line = u.callSite(chain[i])
	}
	return out
}

// unit returns the compile unit that holds pc, its line table read.
func (m *module) unit(pc uint64) *dwarfUnit {
	r := m.dwarf.Reader()
	cu, err := r.SeekPC(pc)
	if err != nil || cu == nil {
		return nil
	}
	i := sort.Search(len(m.units), func(i int) bool { return m.units[i].entry.Offset >= cu.Offset })
	if i < len(m.units) && m.units[i].entry.Offset == cu.Offset {
		return m.units[i]
	}
	u := &dwarfUnit{entry: cu}
	if lr, err := m.dwarf.LineReader(cu); err == nil && lr != nil {
		u.files, u.rows = lr.Files(), readRows(lr)
	}
	m.units = append(m.units, nil)
	copy(m.units[i+1:], m.units[i:])
	m.units[i] = u
	return u
}

// callSite is where an inlined subroutine was called from.
func (u *dwarfUnit) callSite(e *dwarf.Entry) (string, int) {
	line, _ := e.Val(dwarf.AttrCallLine).(int64)
	idx, ok := e.Val(dwarf.AttrCallFile).(int64)
	if !ok || idx < 0 || idx >= int64(len(u.files)) || u.files[idx] == nil {
		return "", int(line)
	}
	return u.files[idx].Name, int(line)
}

// maxDepth bounds the nesting scopes follows, whatever a file says.
const maxDepth = 64

// scopes returns the subprogram of cu that holds pc and the inlined
// subroutines within it that hold pc, outermost first.
func (m *module) scopes(cu *dwarf.Entry, pc uint64) []*dwarf.Entry {
	r := m.dwarf.Reader()
	r.Seek(cu.Offset)
	if e, err := r.Next(); err != nil || e == nil || !e.Children {
		return nil
	}
	var chain []*dwarf.Entry
	for depth := 0; depth < maxDepth; depth++ {
		e := m.child(r, pc)
		if e == nil {
			break
		}
		if e.Tag == dwarf.TagSubprogram || e.Tag == dwarf.TagInlinedSubroutine {
			chain = append(chain, e)
		}
		if !e.Children {
			break
		}
	}
	return chain
}

// child reads the siblings at r's position and returns the first scope
// (a subprogram, an inlined subroutine, a lexical block, or a namespace,
// which has no range) that holds pc, with r positioned on its children.
func (m *module) child(r *dwarf.Reader, pc uint64) *dwarf.Entry {
	for {
		e, err := r.Next()
		if err != nil || e == nil || e.Tag == 0 {
			return nil
		}
		switch e.Tag {
		case dwarf.TagNamespace, dwarf.TagModule:
			if e.Children {
				return e
			}
		case dwarf.TagSubprogram, dwarf.TagInlinedSubroutine, dwarf.TagLexDwarfBlock:
			if m.holds(e, pc) {
				return e
			}
		}
		if e.Children {
			r.SkipChildren()
		}
	}
}

func (m *module) holds(e *dwarf.Entry, pc uint64) bool {
	rs, err := m.dwarf.Ranges(e)
	if err != nil {
		return false
	}
	for _, rg := range rs {
		if pc >= rg[0] && pc < rg[1] {
			return true
		}
	}
	return false
}

// entryName is a subprogram's name, following DW_AT_abstract_origin and
// DW_AT_specification (an inlined or out-of-line copy names its origin).
func (m *module) entryName(e *dwarf.Entry) string {
	for range 4 {
		if n, ok := e.Val(dwarf.AttrName).(string); ok {
			return n
		}
		off, ok := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
		if !ok {
			if off, ok = e.Val(dwarf.AttrSpecification).(dwarf.Offset); !ok {
				return ""
			}
		}
		r := m.dwarf.Reader()
		r.Seek(off)
		next, err := r.Next()
		if err != nil || next == nil {
			return ""
		}
		e = next
	}
	return ""
}
