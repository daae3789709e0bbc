package inspect

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// asUser makes the scan's hints those for a user other than root.
func asUser(t *testing.T, euid int) {
	t.Helper()
	saved := geteuid
	geteuid = func() int { return euid }
	t.Cleanup(func() { geteuid = saved })
}

// The denied tree's warnings, and the faults that make 102 exit mid-scan.
const (
	deniedWarning  = "1 process could not be inspected (permission denied): pid 101 (backup-agent); run as root for complete ownership"
	unownedWarning = `1 socket has an owner that could not be identified (it exited, or could not be inspected); they are shown with owner "?"`
)

var deniedGone = map[string]error{"102": fs.ErrNotExist, "102/ns/net": fs.ErrNotExist, "102/fd": fs.ErrNotExist}

func TestScanDenied(t *testing.T) {
	asUser(t, 1000)
	tests := []struct {
		name   string
		faults map[string]error
	}{
		{"ns and fd denied", map[string]error{"101/ns/net": fs.ErrPermission, "101/fd": fs.ErrPermission}},
		{"only fd denied", map[string]error{"101/fd": fs.ErrPermission}},
		{"only ns denied", map[string]error{"101/ns/net": fs.ErrPermission}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fixtureFS(t, "denied")
			fsys.faults = map[string]error{}
			for k, v := range deniedGone {
				fsys.faults[k] = v
			}
			for k, v := range tt.faults {
				fsys.faults[k] = v
			}
			snap := scanFixture(t, fsys, Options{})
			if snap.Denied != 1 {
				t.Errorf("Denied = %d, want 1", snap.Denied)
			}
			if diff := cmp.Diff([]string{deniedWarning, unownedWarning}, snap.Warnings); diff != "" {
				t.Errorf("Warnings mismatch (-want +got):\n%s", diff)
			}
			wantProcs := []Process{{PID: 100, Name: "webapp", User: "10006", Cmdline: "/srv/webapp/bin/webapp -addr :8000",
				FDs: 6, SocketFDs: 2, FDSoftLimit: 1024, FDHardLimit: 4096, NetNS: fixtureHostNS, StartTime: 2300, State: 'S'}}
			if diff := cmp.Diff(wantProcs, snap.Processes); diff != "" {
				t.Errorf("Processes mismatch (-want +got):\n%s", diff)
			}
			want := []sockView{
				{TCP, "0.0.0.0:8000", "0.0.0.0:0", Listen, fixtureHostNS, []int{100}},
				{TCP, "10.0.0.12:8000", "192.0.2.50:52000", Established, fixtureHostNS, []int{100}},
				{TCP, "10.0.0.12:43000", "10.0.0.40:873", Established, fixtureHostNS, nil}, // 101's
				{TCP, "10.0.0.12:44000", "10.0.0.41:80", TimeWait, fixtureHostNS, nil},
			}
			if diff := cmp.Diff(want, views(snap.Sockets)); diff != "" {
				t.Errorf("Sockets mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("without faults every process is read", func(t *testing.T) {
		snap := scanFixture(t, fixtureFS(t, "denied"), Options{})
		if snap.Denied != 0 || len(snap.Processes) != 3 || len(snap.Warnings) != 0 {
			t.Errorf("Denied, processes, warnings = %d, %d, %q; want 0, 3, none", snap.Denied, len(snap.Processes), snap.Warnings)
		}
		if got := views(ownedBy(snap.Sockets, 101)); len(got) != 1 || got[0].Remote != "10.0.0.40:873" {
			t.Errorf("101's sockets = %v, want the one to 10.0.0.40:873", got)
		}
	})

}

// TestScanDeniedSelected: --pid of a process that may not be read, or that
// is gone.
func TestScanDeniedSelected(t *testing.T) {
	asUser(t, 1000)
	t.Run("--pid of the denied process is ErrDenied, not ErrNoMatch nor a healthy view", func(t *testing.T) {
		fsys := fixtureFS(t, "denied")
		fsys.faults = map[string]error{"101/fd": fs.ErrPermission}
		_, err := Scan(context.Background(), fsys, Options{PIDs: []int{101}})
		const want = "--pid 101: 1 process matches but could not be inspected (permission denied); run as root for complete ownership"
		if !errors.Is(err, ErrDenied) || !errors.Is(err, fs.ErrPermission) || errors.Is(err, ErrNoMatch) || err.Error() != want {
			t.Errorf("Scan(--pid 101) error = %v, want ErrDenied: %q", err, want)
		}
		// With another process that can be read, the denied one is a warning.
		snap := scanFixture(t, fsys, Options{PIDs: []int{100, 101}})
		if snap.Denied != 1 || len(snap.Processes) != 1 || !slices.Contains(snap.Warnings, deniedWarning) {
			t.Errorf("Denied, processes, warnings = %d, %d, %q; want 1, 1, the denied warning", snap.Denied, len(snap.Processes), snap.Warnings)
		}
	})

	t.Run("--pid of the vanished process is ErrNoMatch", func(t *testing.T) {
		fsys := fixtureFS(t, "denied")
		fsys.faults = deniedGone
		_, err := Scan(context.Background(), fsys, Options{PIDs: []int{102}})
		if !errors.Is(err, ErrNoMatch) {
			t.Errorf("Scan(--pid 102) error = %v, want ErrNoMatch", err)
		}
	})
}

// TestScanDeniedAsRoot: as root, the hint does not say run as root.
func TestScanDeniedAsRoot(t *testing.T) {
	asUser(t, 0)
	fsys := fixtureFS(t, "denied")
	fsys.faults = map[string]error{"101/fd": fs.ErrPermission}
	snap := scanFixture(t, fsys, Options{})
	const want = "1 process could not be inspected (permission denied): pid 101 (backup-agent); even root may not read their descriptors here (a security module such as Yama or AppArmor, or another user namespace)"
	if !slices.Contains(snap.Warnings, want) {
		t.Errorf("warnings = %q, want %q", snap.Warnings, want)
	}
}

func TestScanNoMatch(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"missing pid", Options{PIDs: []int{99999}}, "no process matches --pid 99999"},
		{"missing pids", Options{PIDs: []int{99999, 99998}}, "no process matches --pid 99999 --pid 99998"},
		{"unknown name", Options{Name: "nope"}, `no process matches --name "nope"`},
		{"pid and name that do not meet", Options{PIDs: []int{812}, Name: "openser"}, `no process matches --pid 812 --name "openser"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := Scan(context.Background(), fixtureFS(t, "incident/client"), tt.opts)
			if !errors.Is(err, ErrNoMatch) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Scan() = %v, %v; want ErrNoMatch containing %q", snap, err, tt.wantErr)
			}
		})
	}
}

// TestScanMalformedNetNS checks that a process whose ns/net link cannot
// be parsed stays in the view, with its sockets and a warning naming the
// file, rather than vanishing as if it had exited.
func TestScanMalformedNetNS(t *testing.T) {
	root := copyTree(t, "healthy")
	link := filepath.Join(root, "900", "ns", "net")
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("net:[notanumber]", link); err != nil {
		t.Fatal(err)
	}
	fsys, err := NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	snap := scanFixture(t, fsys, Options{})
	if !slices.ContainsFunc(snap.Processes, func(p Process) bool { return p.PID == 900 && p.NetNS == 0 }) {
		t.Errorf("pid 900 missing from the processes (or given a namespace): %+v", snap.Processes)
	}
	if len(ownedBy(snap.Sockets, 900)) == 0 {
		t.Errorf("pid 900 owns no sockets, want its listeners")
	}
	want := fmt.Sprintf(`pid 900: network namespace unknown: %s:1: want "net:[INODE]", INODE a number: "net:[notanumber]"`, link)
	if !slices.Contains(snap.Warnings, want) {
		t.Errorf("warnings = %q, want %q", snap.Warnings, want)
	}
}

func TestNameDenied(t *testing.T) {
	fsys := fixtureFS(t, "healthy")
	named := func(pid int, name string) Process { return Process{PID: pid, Name: name} }
	for _, tt := range []struct {
		name   string
		denied []Process
		want   string
	}{
		{"one", []Process{named(12, "sshd")}, "pid 12 (sshd)"},
		{"by pid", []Process{named(77, "postgres"), named(12, "sshd"), named(40, "cron")},
			"pid 12 (sshd), pid 40 (cron), pid 77 (postgres)"},
		{"capped", []Process{named(1, "a"), named(2, "b"), named(3, "c"), named(4, "d"), named(5, "e"), named(6, "f"), named(7, "g")},
			"pid 1 (a), pid 2 (b), pid 3 (c), pid 4 (d), pid 5 (e) and 2 more"},
		// A process names itself: escape sequences, newlines and invalid
		// UTF-8 come out quoted, printable text as it is.
		{"untrusted names", []Process{named(8, "\x1b[31mred\nx"), named(9, "caf\xe9"), named(10, `a"b é`)},
			`pid 8 (\x1b[31mred\nx), pid 9 (caf\xe9), pid 10 (a"b é)`},
		// Denied before its name was read: read now, if it can be.
		{"name read", []Process{{PID: 902}, {PID: 4242}}, "pid 902 (nginx), pid 4242"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := &scanner{meta: newMetaReader(context.Background(), fsys), denied: tt.denied}
			if got := sc.nameDenied(); got != tt.want {
				t.Errorf("nameDenied() = %q, want %q", got, tt.want)
			}
		})
	}
}
