package symbolize

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// Frame is one function on a stack, innermost first in a Stack.
type Frame struct {
	// Addr is the address in the process: the instruction pointer for the
	// innermost frame, a return address for the others.
	Addr uint64 `json:"addr"`
	// Module is the file the address is in, as the process maps it
	// ("/usr/lib/x86_64-linux-gnu/libc.so.6"), or "[vdso]"; "" when no
	// mapping holds it.
	Module string `json:"module,omitempty"`
	// Offset is the address within Module, as its ELF file numbers it
	// (what addr2line -e Module takes).
	Offset uint64 `json:"offset"`
	// Function, File and Line name the frame; empty when nothing does.
	Function string `json:"function,omitempty"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	// Inlined: the compiler inlined this function into the next frame,
	// which holds the same address.
	Inlined bool `json:"inlined,omitempty"`
}

// Named reports whether something names the frame.
func (f Frame) Named() bool { return f.Function != "" }

// String is "function (file:line)", "function (module+0xoff)" or
// "module+0xoff": the host's text, unescaped.
func (f Frame) String() string {
	where := fmt.Sprintf("%s+%#x", shortName(f.Module), f.Offset)
	if f.Module == "" {
		where = fmt.Sprintf("%#x", f.Addr)
	}
	if f.File != "" {
		where = fmt.Sprintf("%s:%d", f.File, f.Line)
	}
	if f.Function == "" {
		return where
	}
	s := f.Function + " (" + where + ")"
	if f.Inlined {
		s += " [inlined]"
	}
	return s
}

// Symbolizer names addresses of processes. It keeps every module it
// opened, by build id, until Close. Safe for concurrent use.
type Symbolizer struct {
	procRoot string
	mu       sync.Mutex
	byID     map[string]*module // build id → module
	byFile   map[string]*module // dev:inode → module
	bad      map[string]error   // dev:inode → why it could not be opened
	all      []*module
}

// New returns a Symbolizer that reads processes under procRoot ("/proc").
func New(procRoot string) *Symbolizer {
	return &Symbolizer{procRoot: procRoot, byID: map[string]*module{}, byFile: map[string]*module{}, bad: map[string]error{}}
}

// Close closes every module file.
func (s *Symbolizer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.all {
		m.close()
	}
	s.all, s.byID, s.byFile = nil, map[string]*module{}, map[string]*module{}
	return nil
}

// Process is one process's mappings, read once.
type Process struct {
	s    *Symbolizer
	pid  int
	maps []Mapping
}

// Process reads PID/maps. The error wraps fs.ErrNotExist when the process
// is gone.
func (s *Symbolizer) Process(pid int) (*Process, error) {
	name := fmt.Sprintf("%s/%d/maps", s.procRoot, pid)
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	maps, err := parseMaps(f, name)
	if err != nil {
		return nil, err
	}
	if len(maps) == 0 {
		return nil, fmt.Errorf("%s: no mappings (a kernel thread, or the process exited)", name)
	}
	return &Process{s: s, pid: pid, maps: maps}, nil
}

// module returns the module mapped at mp, opening it on first use.
func (p *Process) module(mp Mapping) (*module, error) {
	key := mp.Dev + ":" + fmt.Sprint(mp.Inode)
	s := p.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.byFile[key]; m != nil {
		return m, nil
	}
	if err := s.bad[key]; err != nil {
		return nil, err
	}
	var m *module
	var err error
	for _, path := range modulePath(s.procRoot, p.pid, mp) {
		if m, err = openModule(path); err == nil {
			break
		}
	}
	if err != nil {
		s.bad[key] = err
		return nil, err
	}
	if m.id != "" {
		if have := s.byID[m.id]; have != nil {
			m.close()
			s.byFile[key] = have
			return have, nil
		}
		s.byID[m.id] = m
	}
	s.byFile[key], s.all = m, append(s.all, m)
	return m, nil
}

// Resolve names one address. call says it is a return address (every
// frame but the innermost): the call instruction before it is looked up,
// not the next one, which may be another function or line. Several frames
// come back where functions were inlined, innermost first.
func (p *Process) Resolve(addr uint64, call bool) []Frame {
	mp, ok := find(p.maps, addr)
	if !ok {
		return []Frame{{Addr: addr}}
	}
	base := Frame{Addr: addr, Module: mp.Path, Offset: addr - mp.Start + mp.Offset}
	if !mp.File() {
		return []Frame{base}
	}
	m, err := p.module(mp)
	if err != nil {
		return []Frame{base}
	}
	va, ok := m.vaddr(addr - mp.Start + mp.Offset)
	if !ok {
		return []Frame{base}
	}
	base.Offset = va
	look := va
	if call && look > 0 {
		look--
	}
	fs := m.frames(look)
	if len(fs) == 0 {
		return []Frame{base}
	}
	for i := range fs {
		fs[i].Addr, fs[i].Module, fs[i].Offset = base.Addr, base.Module, base.Offset
	}
	return fs
}

// executable reports whether addr is in an executable mapping.
func (p *Process) executable(addr uint64) bool {
	mp, ok := find(p.maps, addr)
	return ok && mp.Exec()
}

// returnAddress reports whether addr is just after a call instruction of
// a file the process maps.
func (p *Process) returnAddress(addr uint64) bool {
	mp, ok := find(p.maps, addr)
	if !ok || !mp.Exec() || !mp.File() {
		return false
	}
	m, err := p.module(mp)
	if err != nil {
		return false
	}
	va, ok := m.vaddr(addr - mp.Start + mp.Offset)
	return ok && m.isReturnAddress(va)
}

// ErrNoStack is returned for a stack with no address.
var ErrNoStack = errors.New("no user stack recorded")

// isRoot reports whether a function is where a thread's stack starts:
// nothing past it is the program's. A C program's main is one: its caller
// is libc's, whose start functions have no symbol and, in distributions
// that build libc without frame pointers, no frame to walk past.
func isRoot(fn string) bool {
	switch fn {
	case "main", "runtime.goexit", "runtime.mstart", "runtime.rt0_go", "_start", "__libc_start_main",
		"__libc_start_call_main", "start_thread", "clone", "clone3", "__clone", "__clone3":
		return true
	}
	return strings.HasPrefix(fn, "runtime.goexit")
}
