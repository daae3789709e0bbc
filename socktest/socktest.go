package socktest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// TestingT is the part of *testing.T (or *testing.B) that VerifyNone
// uses.
type TestingT interface {
	Error(args ...any)
}

// TestingM is the part of *testing.M that VerifyTestMain uses.
type TestingM interface {
	Run() int
}

// VerifyNone fails t if this process holds leaked TCP sockets (see the
// package doc): defer it at the top of a test, with IgnoreCurrent to take
// a baseline then. Where sockets cannot be read (systems other than
// Linux), it logs why on t, when t can log, and passes.
func VerifyNone(t TestingT, opts ...Option) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	err := Find(opts...)
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		if l, ok := t.(interface{ Log(args ...any) }); ok {
			l.Log(err)
		}
	case err != nil:
		t.Error(err)
	}
}

// VerifyTestMain runs the package's tests, then fails the package (exit
// code 1, the leaks on standard error) if this process holds leaked TCP
// sockets once they have all ended. Call it from TestMain:
//
//	func TestMain(m *testing.M) { socktest.VerifyTestMain(m) }
//
// It exits with the tests' code when they failed, and checks nothing
// then.
func VerifyTestMain(m TestingM, opts ...Option) {
	os.Exit(verifyTestMain(m, os.Stderr, opts))
}

func verifyTestMain(m TestingM, stderr io.Writer, opts []Option) int {
	code := m.Run()
	if code != 0 {
		return code
	}
	err := Find(opts...)
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		fmt.Fprintln(stderr, err)
	case err != nil:
		fmt.Fprintf(stderr, "%v\nFAIL: socktest: leaks after the package's tests\n", err)
		return 1
	}
	return 0
}

// Find returns an error that lists the leaked TCP sockets this process
// holds, once MaxWait has passed and they are still there; nil when there
// are none. Where sockets cannot be read (systems other than Linux) the
// error wraps errors.ErrUnsupported.
func Find(opts ...Option) error {
	c := newConfig(opts)
	if err := c.err(); err != nil {
		return err
	}
	start := time.Now()
	pause := firstPause
	for {
		leaks, err := look(c)
		if err != nil {
			return err
		}
		if len(leaks) == 0 {
			return nil
		}
		left := c.maxWait - time.Since(start)
		if left <= 0 {
			e := &leakError{leaks: leaks}
			if c.maxWait > 0 {
				e.waited = time.Since(start)
			}
			return e
		}
		// No runtime.GC here: a forced collection would close, through
		// their finalisers, connections the test forgot.
		time.Sleep(min(pause, left))
		pause = min(2*pause, maxPause)
	}
}

// The pause between looks starts short (most closes take a scheduling
// round) and doubles up to maxPause.
const (
	firstPause = time.Millisecond
	maxPause   = 100 * time.Millisecond
)
