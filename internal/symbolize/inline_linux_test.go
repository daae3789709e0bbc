package symbolize

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sockleak/sockleak/internal/livetest"
)

// markedLine returns the line of file that holds "LINE:mark".
func markedLine(t *testing.T, file, mark string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "LINE:"+mark+" ") {
			return i + 1
		}
	}
	t.Fatalf("%s: no LINE:%s", file, mark)
	return 0
}

// TestResolveInlinedC: in an -O2 build a static function inlined into its
// caller has no symbol, yet DWARF's inline entries name it, called from
// its caller's line, as addr2line -i shows. The binary is a PIE run under
// ASLR: the address is the process's, translated through its maps. The
// binary is deleted before it is read.
func TestResolveInlinedC(t *testing.T) {
	livetest.Skip(t)
	cc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("no C compiler (gcc) on PATH")
	}
	src, _ := filepath.Abs("testdata/inline.c")
	bin := filepath.Join(t.TempDir(), "inline")
	if out, err := exec.Command(cc, "-O2", "-g", "-fno-omit-frame-pointer", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	pid, ret := startReturnPrinter(t, bin)
	// Gone from the file system, as a binary replaced by an upgrade or
	// one in another mount namespace: PID/map_files still opens it.
	if err := os.Remove(bin); err != nil {
		t.Fatal(err)
	}
	s := New("/proc")
	defer s.Close()
	p, err := s.Process(pid)
	if err != nil {
		t.Fatal(err)
	}
	fs := p.Resolve(ret, true)
	if len(fs) != 2 {
		t.Fatalf("want deliver inlined into main, got %d frames: %v", len(fs), fs)
	}
	want := []struct {
		fn      string
		line    int
		inlined bool
	}{{"deliver", markedLine(t, src, "probe"), true}, {"main", markedLine(t, src, "deliver"), false}}
	for i, w := range want {
		f := fs[i]
		if f.Function != w.fn || f.Line != w.line || f.Inlined != w.inlined || filepath.Base(f.File) != "inline.c" {
			t.Errorf("frame %d: %s (inlined %v), want %s at inline.c:%d (inlined %v)", i, f, f.Inlined, w.fn, w.line, w.inlined)
		}
		if f.Module != bin {
			t.Errorf("frame %d: module %q, want %q", i, f.Module, bin)
		}
	}
}

// startReturnPrinter runs bin, a test program that prints a return address
// of its own in hex and then waits for its stdin to close, and returns its
// pid and that address. The program ends at the test's cleanup.
func startReturnPrinter(t *testing.T, bin string) (pid int, ret uint64) {
	t.Helper()
	cmd := exec.Command(bin)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	ret, err = strconv.ParseUint(strings.TrimSpace(line), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid, ret
}
