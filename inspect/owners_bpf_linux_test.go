package inspect

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sockleak/sockleak/internal/livetest"
	"golang.org/x/sys/unix"
)

// bpfLive skips a test where the bpf backend cannot run (not root, no
// BTF, bpf denied), and closes the loaded program after it: no BPF
// object outlives a test.
func bpfLive(t *testing.T) {
	t.Helper()
	livetest.Skip(t)
	skipWithoutBPF(t)
	t.Cleanup(func() {
		if err := releaseBPF(); err != nil {
			t.Errorf("closing the iterator: %v", err)
		}
		if n := bpfFDs(t); n != 0 {
			t.Errorf("%d BPF descriptors left open after the test", n)
		}
	})
}

// bpfFDs counts this process's descriptors for BPF programs, links and
// maps (anon_inode:bpf-prog and the like).
func bpfFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "anon_inode:bpf") {
			n++
		}
	}
	return n
}

// bpfOwnedView is what the parity tests compare of a socket: everything
// but the times, and its owners.
type bpfOwnedView struct {
	Key   nlParityKey
	NetNS uint64
	PIDs  string
}

// bpfProcView is what they compare of a process.
type bpfProcView struct {
	PID, FDs, SocketFDs int
	NetNS               uint64
	Name                string
}

// bpfViews scans with backend b and keeps the sockets and processes
// mine says are the test's.
func bpfViews(t *testing.T, b Backend, opts Options, mine func(pids []int, ns uint64) bool) ([]bpfOwnedView, []bpfProcView) {
	t.Helper()
	opts.Backend = b
	snap := liveScan(t, opts)
	if snap.Backend != b {
		t.Fatalf("scan with %s used %s", b, snap.Backend)
	}
	var socks []bpfOwnedView
	for _, s := range snap.Sockets {
		if mine(s.PIDs, s.NetNS) {
			socks = append(socks, bpfOwnedView{nlParityKeyOf(&s), s.NetNS, fmt.Sprint(s.PIDs)})
		}
	}
	slices.SortFunc(socks, func(a, b bpfOwnedView) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	var procs []bpfProcView
	for _, p := range snap.Processes {
		if mine([]int{p.PID}, 0) {
			procs = append(procs, bpfProcView{p.PID, p.FDs, p.SocketFDs, p.NetNS, p.Name})
		}
	}
	return socks, procs
}

// TestBPFMatchesNetlink is the bpf backend's parity test: on a live
// landscape (IPv4 and IPv6, every state the loopback reaches, orphans,
// TIME_WAIT, a listener shared by three processes, a process in another
// network namespace) a scan with the bpf backend gives the netlink
// backend's sockets, owners and descriptor counts, for the whole host and
// filtered by state.
func TestBPFMatchesNetlink(t *testing.T) {
	bpfLive(t)
	port := nlLandscape(t)
	me := os.Getpid()
	ours := map[int]bool{me: true}
	ln := liveListen(t, liveTCP4)
	for range 2 {
		ours[liveHoldChild(t, ln).pid] = true
	}
	var childNS uint64
	if c, err := liveShareChild(t, ln, "netns", syscall.CLONE_NEWNET); err == nil {
		ours[c.pid], childNS = true, liveNetNSOf(t, c.pid)
	} else {
		t.Logf("no process in another network namespace: %v", err)
	}
	mine := func(pids []int, ns uint64) bool {
		return ns != 0 && ns == childNS || slices.ContainsFunc(pids, func(p int) bool { return ours[p] })
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"all", Options{}},
		{"states", Options{States: []TCPState{CloseWait, Listen}}},
		{"idle times", Options{IdleTimes: true}},
		{"dump states", Options{DumpStates: []TCPState{CloseWait}}},
		{"pid", Options{PIDs: []int{me}}},
		{"name", Options{Name: self[strings.LastIndexByte(self, '/')+1:]}},
		{"port", Options{Ports: []uint16{port}}},
	} {
		opts := tc.opts
		t.Run(tc.name, func(t *testing.T) {
			var nlS, bpfS []bpfOwnedView
			var nlP, bpfP []bpfProcView
			for attempt := 0; attempt < 5; attempt++ { // only what changed between the two reads may differ
				nlS, nlP = bpfViews(t, BackendNetlink, opts, mine)
				bpfS, bpfP = bpfViews(t, BackendBPF, opts, mine)
				if cmp.Equal(nlS, bpfS) && cmp.Equal(nlP, bpfP) {
					break
				}
			}
			if diff := cmp.Diff(nlS, bpfS); diff != "" {
				t.Errorf("sockets differ (-netlink +bpf):\n%s", diff)
			}
			if diff := cmp.Diff(nlP, bpfP); diff != "" {
				t.Errorf("processes differ (-netlink +bpf):\n%s", diff)
			}
			if tc.name == "all" && len(bpfP) != len(ours) {
				t.Errorf("%d of the test's %d processes in the bpf scan: %v", len(bpfP), len(ours), bpfP)
			}
		})
	}
	// The landscape is all there: 2 listeners (v4 and v6) or one, the
	// shared one with its three owners.
	socks, _ := bpfViews(t, BackendBPF, Options{}, mine)
	shared := 0
	for _, s := range socks {
		if s.Key.State == Listen && strings.Count(s.PIDs, " ") >= 2 {
			shared++
		}
	}
	if shared != 1 || len(socks) < 12 {
		t.Errorf("bpf scan of the landscape (port %d): %d sockets, %d listeners shared by 3; want ≥ 12 and 1:\n%v", port, len(socks), shared, socks)
	}
}

// TestBPFOwnersGoneAndEmpty: a selected process the iterator does not list
// is walked as the fd walk would: gone (its error says so) or without
// descriptors; the others are filled from the records, and every process
// is handed on once.
func TestBPFOwnersGoneAndEmpty(t *testing.T) {
	bpfLive(t)
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	fsys := mustFS(t)
	procs := []procScan{{p: Process{PID: os.Getpid()}}, {p: Process{PID: gone.Process.Pid}}, {p: Process{PID: 2}}} // 2: kthreadd
	var handed atomic.Int32
	w := &ownerWork{fsys: fsys, procs: procs, tablesRead: make(chan struct{}), panicked: new(goPanic),
		done: func(int) { handed.Add(1) }}
	close(w.tablesRead)
	if err := (&bpfOwners{}).owners(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	if len(w.notes) != 0 {
		t.Errorf("notes %q: the iterator should have run", w.notes)
	}
	if n := handed.Load(); n != 3 {
		t.Errorf("%d processes handed on, want 3", n)
	}
	if p := procs[0]; p.err != nil || p.p.FDs < 3 || p.p.SocketFDs < 0 {
		t.Errorf("this process: FDs %d, SocketFDs %d, err %v", p.p.FDs, p.p.SocketFDs, p.err)
	}
	if p := procs[1]; !errors.Is(p.err, fs.ErrNotExist) {
		t.Errorf("the exited process: err %v, want it gone", p.err)
	}
	if p := procs[2]; p.err != nil || p.p.FDs != 0 {
		t.Errorf("kthreadd: FDs %d, err %v; want 0 descriptors", p.p.FDs, p.err)
	}
}

// TestBPFScanWhileProcessesExit: processes that start and exit while the
// bpf backend scans are skipped, never an error, and the survivors are
// counted whole.
func TestBPFScanWhileProcessesExit(t *testing.T) {
	bpfLive(t)
	stop := make(chan struct{})
	churned := make(chan int)
	go func() {
		n := 0
		defer func() { churned <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if exec.Command("sh", "-c", "exec 3</dev/null; sleep 0.00$((RANDOM % 9))").Run() == nil {
				n++
			}
		}
	}()
	deadline := time.Now().Add(time.Second)
	scans := 0
	for ; time.Now().Before(deadline) || scans < 5; scans++ {
		snap := liveScan(t, Options{Backend: BackendBPF})
		for _, p := range snap.Processes {
			if p.FDs < 0 || p.SocketFDs > p.FDs {
				t.Errorf("pid %d: FDs %d, SocketFDs %d", p.PID, p.FDs, p.SocketFDs)
			}
		}
	}
	close(stop)
	t.Logf("%d scans while %d processes started and exited", scans, <-churned)
}

// TestBPFBackendChoice: auto takes bpf on a host with enough open files,
// and says why, or passes it over with the reason.
func TestBPFBackendChoice(t *testing.T) {
	skipWithoutBPF(t)
	saved := hostFiles
	t.Cleanup(func() { hostFiles = saved })
	live := mustFS(t)
	hostFiles = func() (uint64, error) { return bpfWorthFiles, nil }
	d, note, err := live.backend(BackendAuto)
	want := fmt.Sprintf("bpf backend: %d files open, over the %d from which loading its iterator pays", bpfWorthFiles, bpfWorthFiles)
	if err != nil || d.name != BackendBPF || note != want {
		t.Errorf("auto with %d files = %s, %q, %v; want bpf, %q", bpfWorthFiles, d.name, note, err, want)
	}
	hostFiles = func() (uint64, error) { return bpfWorthFiles - 1, nil }
	d, note, err = live.backend(BackendAuto)
	want = fmt.Sprintf("bpf backend not used: %d files open, under the %d from which loading its iterator pays; reading netlink sock_diag instead", bpfWorthFiles-1, bpfWorthFiles)
	if err != nil || d.name != BackendNetlink || note != want {
		t.Errorf("auto with %d files = %s, %q, %v; want netlink, %q", bpfWorthFiles-1, d.name, note, err, want)
	}
	if _, _, err := fixtureFS(t, "healthy").backend(BackendBPF); err == nil || !strings.Contains(err.Error(), "needs --proc-root /proc") {
		t.Errorf("bpf on a fixture tree: %v", err)
	}
}

// TestBPFLoadFailsOver: when the iterator cannot be loaded, the scan
// walks every PID/fd instead, and says so.
func TestBPFLoadFailsOver(t *testing.T) {
	bpfLive(t)
	bpfLoaded.mu.Lock()
	bpfLoaded.err = errors.New("loading the task_file iterator: injected")
	bpfLoaded.mu.Unlock()
	snap := liveScan(t, Options{Backend: BackendBPF, PIDs: []int{os.Getpid()}})
	want := "loading the task_file iterator: injected; walking every PID/fd instead"
	if !slices.Contains(snap.Notes, want) || len(snap.Processes) != 1 || snap.Processes[0].FDs == 0 {
		t.Errorf("a failed load: notes %q, processes %+v; want the walk and the note %q", snap.Notes, snap.Processes, want)
	}
}

// TestBPFPreload: Preload loads the bpf backend's program once, for the
// scans that follow (watch), and does nothing for the other backends.
func TestBPFPreload(t *testing.T) {
	bpfLive(t)
	live := mustFS(t)
	if Preload(live, BackendNetlink) {
		t.Error("Preload(netlink) had work to do")
	}
	if !Preload(live, BackendBPF) {
		t.Fatal("Preload(bpf) loaded nothing")
	}
	bpfLoaded.mu.Lock()
	it := bpfLoaded.it
	bpfLoaded.mu.Unlock()
	liveScan(t, Options{Backend: BackendBPF, PIDs: []int{os.Getpid()}})
	bpfLoaded.mu.Lock()
	again := bpfLoaded.it
	bpfLoaded.mu.Unlock()
	if again != it || it == nil {
		t.Error("the scan after Preload loaded its program again")
	}
}

// TestBPFWithoutCapabilities: asked for by name without CAP_BPF and
// CAP_PERFMON, the scan fails saying what is missing; auto passes bpf over
// with the reason and reads with netlink.
func TestBPFWithoutCapabilities(t *testing.T) {
	skipWithoutBPF(t)
	saved := hostFiles
	t.Cleanup(func() { hostFiles = saved })
	hostFiles = func() (uint64, error) { return bpfWorthFiles, nil }
	var named, auto error
	var autoSnap *Snapshot
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread, without its capabilities, exits with the goroutine
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			done <- err
			return
		}
		for _, c := range []uint{unix.CAP_BPF, unix.CAP_PERFMON, unix.CAP_SYS_ADMIN} {
			data[c/32].Effective &^= 1 << (c % 32)
		}
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			done <- err
			return
		}
		fsys, err := NewFS(DefaultRoot)
		if err != nil {
			done <- err
			return
		}
		_, named = Scan(context.Background(), fsys, Options{Backend: BackendBPF, PIDs: []int{os.Getpid()}})
		autoSnap, auto = Scan(context.Background(), fsys, Options{PIDs: []int{os.Getpid()}})
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("dropping capabilities: %v", err)
	}
	const want = "the bpf backend cannot serve: BPF unavailable: missing CAP_BPF, CAP_PERFMON"
	if named == nil || !strings.HasPrefix(named.Error(), want) {
		t.Errorf("--backend bpf without capabilities: %v, want %q...", named, want)
	}
	if auto != nil || autoSnap.Backend != BackendNetlink || !slices.ContainsFunc(autoSnap.Notes, func(n string) bool {
		return strings.HasPrefix(n, "bpf backend not used: BPF unavailable: missing CAP_BPF, CAP_PERFMON")
	}) {
		t.Errorf("auto without capabilities: %v, backend %q, notes %q", auto, autoSnap.Backend, autoSnap.Notes)
	}
}

// TestBPFAutoWalksASmallSelection: auto on a large host with --pid of a
// process that holds few descriptors walks them instead of iterating over
// every process's (and loads nothing); asked for by name, bpf iterates.
func TestBPFAutoWalksASmallSelection(t *testing.T) {
	bpfLive(t)
	saved := hostFiles
	t.Cleanup(func() { hostFiles = saved })
	hostFiles = func() (uint64, error) { return bpfWorthFiles, nil }
	if err := releaseBPF(); err != nil {
		t.Fatal(err)
	}
	snap := liveScan(t, Options{PIDs: []int{os.Getpid()}})
	walked := slices.ContainsFunc(snap.Notes, func(n string) bool {
		return strings.HasPrefix(n, "bpf backend: the selected processes hold ") && strings.HasSuffix(n, "walking their PID/fd instead")
	})
	bpfLoaded.mu.Lock()
	loaded := bpfLoaded.it != nil
	bpfLoaded.mu.Unlock()
	if snap.Backend != BackendBPF || !walked || loaded || len(snap.Processes) != 1 || snap.Processes[0].FDs == 0 {
		t.Errorf("auto, --pid of this process: backend %s, notes %q, program loaded %v, processes %+v; want bpf, walked, nothing loaded",
			snap.Backend, snap.Notes, loaded, snap.Processes)
	}
	snap = liveScan(t, Options{PIDs: []int{os.Getpid()}, Backend: BackendBPF})
	bpfLoaded.mu.Lock()
	loaded = bpfLoaded.it != nil
	bpfLoaded.mu.Unlock()
	if len(snap.Notes) != 0 || !loaded {
		t.Errorf("--backend bpf --pid: notes %q, program loaded %v; want the iterator", snap.Notes, loaded)
	}
}

// TestBPFFilteredWithoutMatches: a dump filtered by state that finds no
// socket leaves only descriptors to count, which the walk does from the
// directories' sizes: the program is not loaded, and the counts are the
// netlink backend's.
func TestBPFFilteredWithoutMatches(t *testing.T) {
	bpfLive(t)
	if err := releaseBPF(); err != nil {
		t.Fatal(err)
	}
	child := liveHoldChild(t, liveListen(t, liveTCP4))
	// Not this process: the scan's own is walked whole, first and alone.
	opts := Options{PIDs: []int{child.pid}, DumpStates: []TCPState{SynSent}}
	_, nlP := bpfViews(t, BackendNetlink, opts, func([]int, uint64) bool { return true })
	_, bpfP := bpfViews(t, BackendBPF, opts, func([]int, uint64) bool { return true })
	bpfLoaded.mu.Lock()
	loaded := bpfLoaded.it != nil
	bpfLoaded.mu.Unlock()
	if loaded {
		t.Error("the program was loaded for a dump that found no socket")
	}
	// The netlink backend's walk of the child may start before the dump is
	// in, and then reads its socket descriptor too; bpf only counts.
	for i := range nlP {
		nlP[i].SocketFDs = -1
	}
	if diff := cmp.Diff(nlP, bpfP); diff != "" || len(bpfP) != 1 || bpfP[0].SocketFDs != -1 {
		t.Errorf("processes (-netlink +bpf):\n%s\nbpf: %+v, want the child, descriptors only counted", diff, bpfP)
	}
}
