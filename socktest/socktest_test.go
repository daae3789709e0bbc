package socktest

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sockleak/sockleak/inspect"
)

// fakeT records what VerifyNone reports.
type fakeT struct{ errors, logs []string }

func (t *fakeT) Error(args ...any) { t.errors = append(t.errors, fmt.Sprint(args...)) }
func (t *fakeT) Log(args ...any)   { t.logs = append(t.logs, fmt.Sprint(args...)) }

// fakeM is a package whose tests run fn and exit with code.
type fakeM struct {
	fn   func()
	code int
}

func (m fakeM) Run() int { m.fn(); return m.code }

func own(fd int, ino uint64, st inspect.TCPState, local, remote string) inspect.OwnSocket {
	s := inspect.OwnSocket{FD: fd, Socket: inspect.Socket{State: st, Inode: ino, Local: netip.MustParseAddrPort(local)}}
	if remote != "" {
		s.Remote = netip.MustParseAddrPort(remote)
	}
	return s
}

// TestJudge: what is a leak, given the sockets and the options, without
// the host.
func TestJudge(t *testing.T) {
	socks := []inspect.OwnSocket{
		own(9, 109, inspect.CloseWait, "127.0.0.1:40001", "127.0.0.1:8080"),   // CLOSE_WAIT since the baseline
		own(3, 103, inspect.Listen, "0.0.0.0:8080", ""),                       // in the baseline
		own(4, 104, inspect.CloseWait, "127.0.0.1:40002", "127.0.0.1:8080"),   // in the baseline, ESTABLISHED then
		own(5, 105, inspect.CloseWait, "127.0.0.1:40003", "127.0.0.1:8080"),   // in CLOSE_WAIT at the baseline already
		own(6, 106, inspect.Established, "127.0.0.1:8080", "127.0.0.1:40004"), // new, accepted on 8080
		own(7, 106, inspect.Established, "127.0.0.1:8080", "127.0.0.1:40004"), // the same socket, dup'ed
		own(8, 108, inspect.Listen, "[::1]:9090", ""),                         // new
	}
	base := func(c *config) {
		c.baseline = map[uint64]inspect.TCPState{103: inspect.Listen, 104: inspect.Established, 105: inspect.CloseWait}
	}
	stack := opening{pcs: callers()}
	openedAt := func(ino uint64) (opening, bool) { return stack, ino == 103 }
	for _, tc := range []struct {
		name string
		opts []Option
		want []string // fd: why, by fd
	}{
		{"no baseline", nil, []string{"3 still", "4 CLOSE_WAIT", "5 CLOSE_WAIT", "6 still", "8 still", "9 CLOSE_WAIT"}},
		{"baseline", []Option{optionFunc(base)}, []string{"4 CLOSE_WAIT", "6 since", "8 since", "9 CLOSE_WAIT"}},
		{"listeners", []Option{optionFunc(base), IgnoreListeners()}, []string{"4 CLOSE_WAIT", "6 since", "9 CLOSE_WAIT"}},
		{"port", []Option{optionFunc(base), IgnorePorts(8080)}, []string{"8 since"}},
		{"peer port", []Option{optionFunc(base), IgnorePeers("127.0.0.1:8080")}, []string{"6 since", "8 since"}},
		{"states", []Option{optionFunc(base), IgnoreStates("CLOSE_WAIT", "LISTEN")}, []string{"6 since"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, l := range judge(socks, newConfig(tc.opts), openedAt) {
				why, _, _ := strings.Cut(l.why, " ")
				switch why {
				case "the":
					why = "CLOSE_WAIT"
				case "opened":
					why = "since"
				}
				got = append(got, fmt.Sprintf("%d %s", l.FD, why))
				if l.FD == 6 && !l.accepted {
					t.Errorf("fd 6 not attributed to the listener that accepted it")
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("leaks %q, want %q", got, tc.want)
			}
		})
	}
}

// TestVerifyNoneReports: VerifyNone fails the test with Find's error, and
// only logs when sockets cannot be read.
func TestVerifyNoneReports(t *testing.T) {
	var ft fakeT
	VerifyNone(&ft, IgnoreStates("nonsense"))
	if len(ft.errors) != 1 || !strings.Contains(ft.errors[0], `unknown TCP state "nonsense"`) {
		t.Errorf("errors %q, want the bad option's", ft.errors)
	}
}

// TestVerifyTestMainExitCodes: the tests' failure wins; a leak after
// passing tests fails the package, on standard error.
func TestVerifyTestMainExitCodes(t *testing.T) {
	var stderr bytes.Buffer
	checked := false
	bad := IgnoreStates("nonsense")
	if code := verifyTestMain(fakeM{func() { checked = true }, 3}, &stderr, []Option{bad}); code != 3 || stderr.Len() > 0 || !checked {
		t.Errorf("failed tests: exit %d, stderr %q; want 3 and nothing checked", code, stderr.String())
	}
	if code := verifyTestMain(fakeM{func() {}, 0}, &stderr, []Option{bad}); code != 1 ||
		!strings.Contains(stderr.String(), "FAIL: socktest: leaks after the package's tests") {
		t.Errorf("a failed check: exit %d, stderr %q; want 1 and the reason", code, stderr.String())
	}
}

// TestNoForcedGC: nothing in the package forces a collection, which
// would close leaked connections through their finalisers and hide them.
func TestNoForcedGC(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no source files: %v", err)
	}
	calls := 0
	for _, f := range files {
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			calls++
			if x, ok := sel.X.(*ast.Ident); ok && (x.Name == "runtime" && sel.Sel.Name == "GC" || x.Name == "debug" && sel.Sel.Name == "FreeOSMemory") {
				t.Errorf("%s calls %s.%s", f, x.Name, sel.Sel.Name)
			}
			return true
		})
	}
	if calls == 0 {
		t.Fatal("no selector found: the scan is broken")
	}
}
