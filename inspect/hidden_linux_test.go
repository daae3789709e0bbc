package inspect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/internal/livetest"
)

// liveHiddenEnv passes the "hidden" child its proc root, the PID it must
// not see and a --name that matches only that process.
const liveHiddenEnv = "SOCKLEAK_INSPECT_LIVE_HIDDEN"

// liveHiddenResult is what the "hidden" child saw.
type liveHiddenResult struct {
	UID                int
	Warnings           []string // of the scan of every process
	PIDErr, NameErr    string
	PIDDenied, PIDNone bool // errors.Is ErrDenied, ErrNoMatch
	NameDenied         bool
	NameNone           bool
}

// liveChildHidden scans a proc root three ways (every process, --pid,
// --name) and prints what it saw as JSON.
func liveChildHidden(arg string) error {
	f := strings.Fields(arg)
	if len(f) != 3 {
		return fmt.Errorf("want ROOT PID NAME, got %q", arg)
	}
	pid, err := strconv.Atoi(f[1])
	if err != nil {
		return err
	}
	fsys, err := NewFS(f[0])
	if err != nil {
		return err
	}
	res := liveHiddenResult{UID: os.Geteuid()}
	snap, err := Scan(context.Background(), fsys, Options{})
	if err != nil {
		return err
	}
	res.Warnings = snap.Warnings
	if _, err = Scan(context.Background(), fsys, Options{PIDs: []int{pid}}); err != nil {
		res.PIDErr, res.PIDDenied, res.PIDNone = err.Error(), errors.Is(err, ErrDenied), errors.Is(err, ErrNoMatch)
	}
	if _, err = Scan(context.Background(), fsys, Options{Name: f[2]}); err != nil {
		res.NameErr, res.NameDenied, res.NameNone = err.Error(), errors.Is(err, ErrDenied), errors.Is(err, ErrNoMatch)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// TestLiveHiddenView mounts a fresh proc filesystem with hidepid=2 at a
// temporary directory (the host's /proc is left alone) and scans it as
// user nobody, who cannot see a process of root's there: the scan warns
// that processes are hidden, and selecting that process by --pid or
// --name is "could not be inspected", never "no process matches".
func TestLiveHiddenView(t *testing.T) {
	livetest.Skip(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a proc filesystem and run a child as user nobody (uid 65534)")
	}
	dir := nobodyDir(t, "sockleak-hidepid-")
	root := filepath.Join(dir, "proc")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("proc", root, "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "hidepid=2"); err != nil {
		t.Skipf("cannot mount a proc filesystem here: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(root, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", root, err)
		}
	})
	bin := nobodyBinary(t, dir)

	// Root's process, hidden from nobody: the "hold" child, named by a
	// word on its command line only it has.
	const word = "hidden-from-nobody"
	ctx, cancel := context.WithTimeout(context.Background(), liveTimeout)
	defer cancel()
	hold := exec.CommandContext(ctx, bin, "-test.run=^$", word)
	hold.Env = liveChildEnviron("hold")
	stdin, err := hold.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var holdOut bytes.Buffer
	hold.Stdout = &holdOut
	if err := hold.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); hold.Wait() })

	var res liveHiddenResult
	runAsNobody(t, ctx, bin, dir, append(liveChildEnviron("hidden"), fmt.Sprintf("%s=%s %d %s", liveHiddenEnv, root, hold.Process.Pid, word)), &res)
	if res.UID != 65534 {
		t.Fatalf("child ran as uid %d, want 65534", res.UID)
	}
	want := root + " is mounted with hidepid="
	if !slices.ContainsFunc(res.Warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
		t.Errorf("Warnings = %q, want one starting with %q", res.Warnings, want)
	}
	if !res.PIDDenied || res.PIDNone || strings.Contains(res.PIDErr, "no process matches") {
		t.Errorf("--pid %d: error %q (ErrDenied %v, ErrNoMatch %v); want could not be inspected", hold.Process.Pid, res.PIDErr, res.PIDDenied, res.PIDNone)
	}
	if !res.NameDenied || res.NameNone || strings.Contains(res.NameErr, "no process matches") {
		t.Errorf("--name %s: error %q (ErrDenied %v, ErrNoMatch %v); want could not be inspected", word, res.NameErr, res.NameDenied, res.NameNone)
	}
}

// TestMayBeHidden: on this host's /proc, kill(pid, 0) tells a process
// hidden from us (it exists) from none; elsewhere a missing PID may be
// hidden.
func TestMayBeHidden(t *testing.T) {
	live := FS{root: DefaultRoot, procfs: true, live: true}
	if !live.mayBeHidden(os.Getpid()) {
		t.Errorf("mayBeHidden(own pid) = false on the live /proc, want true: it exists")
	}
	if live.mayBeHidden(1<<22 + 1) { // above the kernel's PID_MAX_LIMIT
		t.Errorf("mayBeHidden(no such pid) = true on the live /proc, want false")
	}
	if other := (FS{root: "/srv/proc", procfs: true}); !other.mayBeHidden(1<<22 + 1) {
		t.Errorf("mayBeHidden = false on another proc root, want true: it cannot tell")
	}
}
