package trace

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/hostiletest"
	"github.com/sockleak/sockleak/internal/symbolize"
)

var update = flag.Bool("update", false, "update .golden files")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// fakeNamer names the stacks of a fixture: each address is looked up in a
// table, the caller put second as symbolize does.
type fakeNamer struct {
	frames map[uint64]symbolize.Frame
	calls  int
}

func (n *fakeNamer) Stack(pid int, addrs []uint64, caller uint64, full bool) symbolize.Stack {
	n.calls++
	if caller != 0 {
		addrs = append([]uint64{addrs[0], caller}, addrs[1:]...)
	}
	var st symbolize.Stack
	for _, a := range addrs {
		f, ok := n.frames[a]
		if !ok {
			st.CutShort, st.Note = true, symbolize.NoFramePointers
			break
		}
		f.Addr = a
		st.Frames = append(st.Frames, f)
	}
	return st
}

var t0 = time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)

// fixture: a Go client leaking two sockets from one stack in two
// processes (different ASLR: other addresses, the same code), a C program
// leaking one through an inlined static function, a socket opened before
// the trace, one recorded but since closed, and one whose state changed
// after the trace stopped.
func fixture() (*Recording, *inspect.Snapshot, *fakeNamer) {
	goStack := func(base uint64) map[uint64]symbolize.Frame {
		return map[uint64]symbolize.Frame{
			base + 1: {Module: "/usr/bin/leaky", Function: "internal/runtime/syscall/linux.Syscall6", File: "/usr/local/go/src/internal/runtime/syscall/linux/asm_linux_amd64.s", Line: 36},
			base + 2: {Module: "/usr/bin/leaky", Function: "net.(*Dialer).DialContext", File: "/usr/local/go/src/net/dial.go", Line: 557},
			base + 3: {Module: "/usr/bin/leaky", Function: "example.com/app/client.(*conn).dial", File: "/src/app/client/conn.go", Line: 41},
			base + 4: {Module: "/usr/bin/leaky", Function: "main.main", File: "/src/app/main.go", Line: 12},
			base + 5: {Module: "/usr/bin/leaky", Function: "runtime.goexit", File: "/usr/local/go/src/runtime/asm_amd64.s", Line: 1771},
		}
	}
	frames := goStack(0x1000)
	for a, f := range goStack(0x9000) {
		frames[a] = f
	}
	frames[0x7000] = symbolize.Frame{Module: "/usr/lib/x86_64-linux-gnu/libc.so.6", Offset: 0x10adc7, Function: "__socket"}
	frames[0x7001] = symbolize.Frame{Module: "/opt/opener", Function: "open_conn", File: "/src/opener.c", Line: 16, Inlined: true}
	frames[0x7002] = symbolize.Frame{Module: "/opt/opener", Function: "main", File: "/src/opener.c", Line: 31}
	frames[0x5000] = symbolize.Frame{Module: "/opt/evil", Function: "evil\x1b[2J\nSOCKLEAK OK", File: "/tmp/\x1b]0;x\a.c", Line: 1}

	rec := &Recording{
		Started: t0, Ended: t0.Add(3 * time.Minute), Capacity: 65536,
		Counters: Counters{Opened: 57, Changes: 120, Closed: 50, DroppedStack: 1},
		Sockets: []Socket{
			{Inode: 101, TGID: 4242, Opened: t0.Add(10 * time.Second), State: inspect.CloseWait, Since: t0.Add(11*time.Second + 304*time.Millisecond), Exact: true, Stack: []uint64{0x1001, 0x1002, 0x1003, 0x1004, 0x1005}},
			{Inode: 102, TGID: 4343, Opened: t0.Add(20 * time.Second), State: inspect.CloseWait, Since: t0.Add(20*time.Second + 50*time.Millisecond), Exact: true, Stack: []uint64{0x9001, 0x9002, 0x9003, 0x9004, 0x9005}},
			{Inode: 103, TGID: 777, Opened: t0.Add(30 * time.Second), State: inspect.CloseWait, Since: t0.Add(30*time.Second + 1*time.Millisecond), Exact: true, Stack: []uint64{0x7000, 0x7002}, Caller: 0x7001},
			{Inode: 104, TGID: 4242, Opened: t0.Add(40 * time.Second), State: inspect.Established, Since: t0.Add(40 * time.Second), Exact: true, Stack: []uint64{0x1001, 0x1002, 0x1003, 0x1004, 0x1005}},
			{Inode: 105, TGID: 666, Opened: t0.Add(50 * time.Second), State: inspect.CloseWait, Since: t0.Add(50 * time.Second), Stack: []uint64{0x5000}, StackErr: ""},
			{Inode: 106, TGID: 666, Opened: t0.Add(60 * time.Second), State: inspect.CloseWait, Since: t0.Add(60 * time.Second), StackErr: "stack table full"},
		},
	}
	peer := netip.MustParseAddrPort("10.0.0.5:8080")
	snap := &inspect.Snapshot{
		Time: rec.Ended,
		Processes: []inspect.Process{
			{PID: 4242, Name: "leaky", Workload: inspect.Workload{Kind: inspect.KindUnit, Unit: "leaky.service"}},
			{PID: 4343, Name: "leaky", Workload: inspect.Workload{Kind: inspect.KindUnit, Unit: "leaky.service"}},
			{PID: 777, Name: "opener", Workload: inspect.Workload{Kind: inspect.KindProcess}},
			{PID: 666, Name: "x\x1b[31m\rSOCKLEAK OK", Workload: inspect.Workload{Kind: inspect.KindProcess}},
		},
		Sockets: []inspect.Socket{
			{Inode: 101, State: inspect.CloseWait, Local: netip.MustParseAddrPort("10.0.0.1:40001"), Remote: peer, PIDs: []int{4242}},
			{Inode: 102, State: inspect.CloseWait, Local: netip.MustParseAddrPort("10.0.0.1:40002"), Remote: peer, PIDs: []int{4343}},
			{Inode: 103, State: inspect.CloseWait, Local: netip.MustParseAddrPort("127.0.0.1:40003"), Remote: netip.MustParseAddrPort("127.0.0.1:7000"), PIDs: []int{777}},
			{Inode: 104, State: inspect.CloseWait, Local: netip.MustParseAddrPort("10.0.0.1:40004"), Remote: peer, PIDs: []int{4242}},
			{Inode: 105, State: inspect.CloseWait, Local: netip.MustParseAddrPort("10.0.0.1:40005"), Remote: peer, PIDs: []int{666}},
			{Inode: 106, State: inspect.CloseWait, Local: netip.MustParseAddrPort("10.0.0.1:40006"), Remote: peer, PIDs: []int{666}},
			{Inode: 200, State: inspect.CloseWait, Local: netip.MustParseAddrPort("10.0.0.1:40099"), Remote: peer, PIDs: []int{4242}},
			{Inode: 201, State: inspect.Established, Local: netip.MustParseAddrPort("10.0.0.1:40100"), Remote: peer, PIDs: []int{4242}},
		},
	}
	return rec, snap, &fakeNamer{frames: frames}
}

func TestBuild(t *testing.T) {
	rec, snap, namer := fixture()
	r := Build(rec, snap, namer, []inspect.TCPState{inspect.CloseWait})
	if r.Unrecorded != 1 {
		t.Errorf("Unrecorded = %d, want 1 (inode 200)", r.Unrecorded)
	}
	var counts []int
	for _, g := range r.Groups {
		counts = append(counts, g.Count)
	}
	if diff := cmp.Diff([]int{3, 1, 1, 1}, counts); diff != "" {
		t.Fatalf("group sizes (-want +got):\n%s", diff)
	}
	g := r.Groups[0]
	if g.OpenedBy == nil || g.OpenedBy.Function != "example.com/app/client.(*conn).dial" {
		t.Errorf("opened by %v, want the program's dial, not net's", g.OpenedBy)
	}
	if len(g.Peers) != 1 || g.Peers[0] != (PeerCount{Peer: "10.0.0.5:8080", Count: 3}) {
		t.Errorf("peers %v", g.Peers)
	}
	var bounds []string
	for _, h := range g.Sockets {
		bounds = append(bounds, fmt.Sprintf("%v %s", h.Exact, h.Bound))
	}
	// 104 was ESTABLISHED when the trace stopped, CLOSE_WAIT at the scan:
	// it entered CLOSE_WAIT after the trace's end.
	if diff := cmp.Diff([]string{"true ", "true ", "false after"}, bounds); diff != "" {
		t.Errorf("exact and bound (-want +got):\n%s", diff)
	}
	if g.Sockets[2].Since != rec.Ended {
		t.Errorf("a state entered after the trace: since %v, want the trace's end", g.Sockets[2].Since)
	}
	// 105: accepted in CLOSE_WAIT (no change seen): before its opening.
	if h := r.Groups[2].Sockets[0]; h.Local != "10.0.0.1:40005" || h.Bound != "before" || h.Since != rec.Sockets[4].Opened {
		t.Errorf("accepted in CLOSE_WAIT: %+v", h)
	}
	for _, g := range r.Groups {
		if g.Stack.Frames == nil && g.Stack.Note != "stack table full" {
			t.Errorf("stackless group's note %q", g.Stack.Note)
		}
	}
	if namer.calls != 4 {
		t.Errorf("namer called %d times, want once per process and stack (4)", namer.calls)
	}
}

func TestOpenedBy(t *testing.T) {
	tests := []struct {
		name   string
		frames []symbolize.Frame
		want   string
	}{
		{"go program past std", []symbolize.Frame{{Function: "syscall.socket"}, {Function: "net.(*Dialer).DialContext"}, {Function: "internal/poll.x"}, {Function: "github.com/a/b.F"}}, "github.com/a/b.F"},
		{"main package", []symbolize.Frame{{Function: "runtime.x"}, {Function: "main.run"}}, "main.run"},
		{"c past libc", []symbolize.Frame{{Function: "__socket", Module: "/lib/libc.so.6"}, {Function: "send_message", Inlined: true}, {Function: "main"}}, "send_message"},
		{"only library frames", []symbolize.Frame{{}, {Function: "syscall.socket"}, {Function: "net.Dial"}}, "syscall.socket"},
		{"nothing named", []symbolize.Frame{{Module: "/x"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if f := openedBy(symbolize.Stack{Frames: tt.frames}); f != nil {
				got = f.Function
			}
			if got != tt.want {
				t.Errorf("openedBy = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWriteGolden(t *testing.T) {
	rec, snap, namer := fixture()
	r := Build(rec, snap, namer, []inspect.TCPState{inspect.CloseWait})
	var text, js bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt", text.Bytes())
	golden(t, "report.json", js.Bytes())
	hostiletest.AssertPrintable(t, text.Bytes(), 0)
	if !strings.Contains(text.String(), "CLOSE_WAIT since 14:00:11.304, 2m48.7s") {
		t.Errorf("no exact entry time in:\n%s", text.String())
	}
}
