package inspect

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// goPanic holds a panic caught in one of the scan's goroutines (the table
// read, the walkers), to be raised again by Scan in its caller's
// goroutine: there the caller may recover it (sockleak check -o nagios
// still says UNKNOWN, and exits 3), where in a goroutine of the scan's own
// it would end the program with nothing said. A panic is still a bug of
// ours; it is moved, not swallowed.
type goPanic struct {
	once  sync.Once
	v     any
	stack []byte
}

// set records v, the first panic of the scan, with its goroutine's stack.
// Call it from a deferred function, with recover's value.
func (p *goPanic) set(v any) {
	p.once.Do(func() { p.v, p.stack = v, debug.Stack() })
}

// rethrow panics again with the recorded panic, if there is one. Call it
// once every goroutine of the scan has ended.
func (p *goPanic) rethrow() {
	if p.v != nil {
		panic(fmt.Sprintf("%v [in a scan goroutine]\n\n%s", p.v, p.stack))
	}
}

// panicFault, as a value of FS.faults, makes a read of that path panic:
// tests use it to stand for a bug in a parser.
type panicFault string

func (f panicFault) Error() string { return string(f) }
