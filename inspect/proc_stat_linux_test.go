package inspect

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/internal/livetest"
)

func TestParseStatPPID(t *testing.T) {
	for _, tt := range []struct {
		name    string
		in      string
		want    int
		wantErr string
	}{
		{"plain", "4242 (openser) S 1 4242 4242 0 -1 4194560 0\n", 1, ""},
		{"comm with spaces and parens", "77 (my (odd) name) R 12 77 77 0", 12, ""},
		{"kernel thread", "2 (kthreadd) S 0 0 0 0 -1", 0, ""},
		{"no paren", "77 sh S 12", 0, "no ')'"},
		{"truncated", "77 (sh) S", 0, "no parent pid"},
		{"not a number", "77 (sh) S x 1", 0, `bad parent pid "x"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, err := parseStat([]byte(tt.in))
			if errors.Is(err, errNoStartTime) {
				err = nil // these lines end after the parent pid
			}
			got := st.PPID
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseStat(%q) error = %v, want %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseStat(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseStatState(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want byte
	}{
		{"sleeping", "4242 (openser) S 1 4242 4242 0 -1 4194560 0\n", 'S'},
		{"stopped", "2100 (redis-server) T 1 2100", 'T'},
		{"tracing stop", "2100 (redis-server) t 1 2100", 't'},
		{"zombie, comm with a state-like word", "77 (a) Z) Z 12 77", 'Z'},
		{"disk sleep", "77 (dd) D 12 77", 'D'},
		{"two letters is no state", "77 (x) SS 12 77", 0},
		{"a digit is no state", "77 (x) 1 12 77", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, err := parseStat([]byte(tt.in))
			if err != nil && !errors.Is(err, errNoStartTime) {
				t.Fatalf("parseStat(%q) error = %v", tt.in, err)
			}
			if st.State != tt.want {
				t.Errorf("parseStat(%q) state = %q, want %q", tt.in, st.State, tt.want)
			}
		})
	}
}

func TestParseStatStartTime(t *testing.T) {
	// A real line from a 6.x kernel, comm changed to hold spaces and
	// parentheses: field 22 is 1234567.
	const real = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1106 0 0 0 3 1 0 0 20 0 1 0 1234567 5488640 330 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	for _, tt := range []struct {
		name    string
		in      string
		want    uint64
		wantErr string
	}{
		{"real line, odd comm", real, 1234567, ""},
		{"no paren", "77 sh S 12", 0, "no ')'"},
		{"truncated", "77 (sh) S 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0", 0, "no start time"},
		{"not a number", "77 (sh) S 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 x 1", 0, `bad start time "x"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, err := parseStat([]byte(tt.in))
			got := st.StartTime
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("= %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestStartTime(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "42"), 0o755); err != nil {
		t.Fatal(err)
	}
	line := "42 (sh) S 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 987 1 1\n"
	if err := os.WriteFile(filepath.Join(root, "42", "stat"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	fsys, err := NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fsys.readStat(42); err != nil || got.StartTime != 987 || got.PPID != 1 {
		t.Errorf("readStat(42) = %+v, %v; want start time 987, parent 1", got, err)
	}
	if _, err := fsys.readStat(43); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("readStat(43) error = %v, want fs.ErrNotExist", err)
	}
	// The live /proc: our own start time is after boot and stable.
	live, err := NewFS(DefaultRoot)
	if err != nil {
		t.Skip(err)
	}
	sa, errA := live.readStat(os.Getpid())
	sb, errB := live.readStat(os.Getpid())
	if a, b := sa.StartTime, sb.StartTime; errA != nil || errB != nil || a == 0 || a != b {
		t.Errorf("own start time = %d, %d (%v, %v); want the same non-zero value twice", a, b, errA, errB)
	}
}

// statTree builds a proc root whose processes have the given parents.
// A parent of -1 writes a malformed stat file.
func statTree(t *testing.T, parents map[int]int) FS {
	t.Helper()
	root := t.TempDir()
	for pid, ppid := range parents {
		dir := filepath.Join(root, strconv.Itoa(pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		stat := strconv.Itoa(pid) + " (p" + strconv.Itoa(pid) + ") S " + strconv.Itoa(ppid) + " 1 1 0 -1\n"
		if ppid < 0 {
			stat = "garbage\n"
		}
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fsys, err := NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func TestProcessTree(t *testing.T) {
	// 1 ─┬─ 10 ─┬─ 11 ── 12
	//    │      └─ 13
	//    ├─ 20 ── 21
	//    └─ 30 (malformed stat: skipped, and so are its children)
	//             └─ 31
	fsys := statTree(t, map[int]int{1: 0, 10: 1, 11: 10, 12: 11, 13: 10, 20: 1, 21: 20, 30: -1, 31: 30})
	for _, tt := range []struct {
		root int
		want []int
	}{
		{10, []int{10, 11, 12, 13}},
		{11, []int{11, 12}},
		{12, []int{12}},
		{20, []int{20, 21}},
		{1, []int{1, 10, 11, 12, 13, 20, 21}},
	} {
		got, err := fsys.ProcessTree(tt.root)
		if err != nil {
			t.Fatalf("ProcessTree(%d): %v", tt.root, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ProcessTree(%d) (-want +got):\n%s", tt.root, diff)
		}
	}
	if _, err := fsys.ProcessTree(99); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ProcessTree(99) error = %v, want one wrapping fs.ErrNotExist", err)
	}
}

// TestProcessTreeLive starts a shell with a child that has a child of its
// own, and finds all three from the shell's pid in the real /proc.
func TestProcessTreeLive(t *testing.T) {
	livetest.Skip(t)
	// sh starts a subshell in the background; the subshell starts sleep and
	// prints its own pid and the sleep's, so the test knows all three.
	cmd := exec.Command("sh", "-c", `(sleep 30 & echo $! $(exec sh -c 'echo $PPID'); wait) & wait`)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Kill the whole group of descendants by pid, then reap sh.
		if tree, err := mustFS(t).ProcessTree(cmd.Process.Pid); err == nil {
			for _, pid := range tree {
				if p, err := os.FindProcess(pid); err == nil {
					_ = p.Kill()
				}
			}
		}
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(line)
	if len(f) != 2 {
		t.Fatalf("child pids line %q", line)
	}
	sleepPID, _ := strconv.Atoi(f[0])
	subshellPID, _ := strconv.Atoi(f[1])
	got, err := mustFS(t).ProcessTree(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{cmd.Process.Pid, subshellPID, sleepPID} {
		if !slices.Contains(got, want) {
			t.Errorf("ProcessTree(%d) = %v, lacks %d (sh %d, subshell %d, sleep %d)",
				cmd.Process.Pid, got, want, cmd.Process.Pid, subshellPID, sleepPID)
		}
	}
	if slices.Contains(got, os.Getpid()) {
		t.Errorf("ProcessTree(%d) = %v holds the test's own pid, its parent", cmd.Process.Pid, got)
	}
}

func mustFS(t *testing.T) FS {
	t.Helper()
	fsys, err := NewFS(DefaultRoot)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte("4242 (openser) S 1 4242 4242 0 -1 4194560 0\n")) // a real line
	f.Add([]byte("77 (my (odd) name) R 12 77"))                    // parentheses in comm
	f.Add([]byte("77 (a) b) S 3 1"))                               // a ')' then a space in comm
	f.Add([]byte("77 ()"))                                         // empty comm, nothing after
	f.Add([]byte("77 (x) S -5 1"))                                 // negative parent
	f.Add([]byte("77 (x) S 99999999999999999999 1"))               // parent overflows int
	f.Add([]byte(""))
	f.Add([]byte("77 (x) T 1 77"))    // stopped
	f.Add([]byte("77 (x) é 1 77"))    // a state that is not ASCII
	f.Add([]byte("77 (x) \x00 1 77")) // a NUL state
	// A whole line, a start time that is not a number, one that overflows.
	f.Add([]byte("4242 (openser) S 1 4242 4242 0 -1 4194560 1106 0 0 0 3 1 0 0 20 0 1 0 1234567 5488640 330\n"))
	f.Add([]byte("77 (sh) S 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -3 1"))
	f.Add([]byte("77 (sh) S 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999999 1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := parseStat(b)
		if (err == nil || errors.Is(err, errNoStartTime)) && st.PPID < 0 {
			t.Errorf("parseStat(%q) parent = %d: a parent pid is never negative", b, st.PPID)
		}
		if st.State != 0 && !isStateLetter(st.State) {
			t.Errorf("parseStat(%q) state = %q, want a letter or 0", b, st.State)
		}
		if st.State != 0 {
			// The state is the first field after the last ')'.
			i := bytes.LastIndexByte(b, ')')
			if f := bytes.Fields(b[i+1:]); len(f) == 0 || len(f[0]) != 1 || f[0][0] != st.State {
				t.Errorf("parseStat(%q) state = %q, not the field after the command name", b, st.State)
			}
		}
		if err != nil && st.StartTime != 0 {
			t.Errorf("parseStat(%q) = start time %d with error %v", b, st.StartTime, err)
		}
	})
}

// BenchmarkProcessTree measures one walk of the live /proc, what sockleak
// run does every --interval.
func BenchmarkProcessTree(b *testing.B) {
	fsys, err := NewFS(DefaultRoot)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := fsys.ProcessTree(os.Getpid()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestScanProcessState reads each process's state from the stat read the
// scan does anyway: the hung tree's server is stopped.
func TestScanProcessState(t *testing.T) {
	snap := scanFixture(t, fixtureFS(t, "hung"), Options{})
	got := map[int]byte{}
	for _, p := range snap.Processes {
		got[p.PID] = p.State
	}
	want := map[int]byte{1: 'S', 700: 'S', 2100: 'T', 4400: 'S'}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("process states (-want +got):\n%s", diff)
	}
}

// TestParseStatStartTimeErrors: a missing or malformed start time keeps
// the state and the parent (ProcessTree and the --name wrapper walk need
// only those), and the error says which.
func TestParseStatStartTimeErrors(t *testing.T) {
	for _, in := range []string{
		"77 (sh) S 12 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0",   // ends before field 22
		"77 (sh) S 12 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 x", // field 22 not a number
	} {
		st, err := parseStat([]byte(in))
		if !errors.Is(err, errNoStartTime) || st.PPID != 12 || st.State != 'S' {
			t.Errorf("parseStat(%q) = %+v, %v; want parent 12, state S and an error that is errNoStartTime", in, st, err)
		}
	}
}

// TestParseStatAllocs: the scan parses every process's stat, so a good
// line costs no allocation.
func TestParseStatAllocs(t *testing.T) {
	line := []byte("4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 120 0 0 0 12 3 0 0 20 0 1 0 98765 1234567 300\n")
	if n := testing.AllocsPerRun(100, func() { _, _ = parseStat(line) }); n != 0 {
		t.Errorf("parseStat allocates %v times per line, want 0", n)
	}
}

// TestParseStatComm: the command name is what the parentheses hold, even
// when it holds parentheses itself, and it allocates nothing.
func TestParseStatComm(t *testing.T) {
	for in, want := range map[string]string{
		"4242 (openser) S 1 4242":         "openser",
		"77 (my (odd) name) R 12 77 77 0": "my (odd) name",
		"77 () S 12":                      "",
		"5 (kube-controller) S 1 5":       "kube-controller",
	} {
		st, err := parseStat([]byte(in))
		if err != nil && !errors.Is(err, errNoStartTime) {
			t.Fatalf("parseStat(%q): %v", in, err)
		}
		if string(st.Comm) != want {
			t.Errorf("parseStat(%q) comm = %q, want %q", in, st.Comm, want)
		}
	}
}

// TestProcessNames lists the fixture's processes with their names, sorted
// by PID (self, net and sys are not processes).
func TestProcessNames(t *testing.T) {
	fsys, err := NewFS(filepath.Join("..", "testdata", "incident", "client", "proc"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := fsys.ProcessNames()
	if err != nil {
		t.Fatal(err)
	}
	want := []PIDName{{1, "systemd"}, {812, "sshd"}, {4242, "openser"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ProcessNames (-want +got):\n%s", diff)
	}
	// A malformed stat is left out, not an error.
	bad := statTree(t, map[int]int{1: 0, 30: -1})
	if got, err := bad.ProcessNames(); err != nil || len(got) != 1 || got[0].PID != 1 {
		t.Errorf("ProcessNames with a malformed stat = %v, %v; want pid 1 alone", got, err)
	}
}
