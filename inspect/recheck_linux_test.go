package inspect

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// racyTables is the proc table source with a hook between its table read
// and the rest of the scan: what happens on a busy host while the
// descriptors are walked (a process closes a socket). It counts rechecks.
type racyTables struct {
	procTables
	afterRead func()
	rechecks  *int
}

func (r racyTables) readTables(req tableRequest) (tableSet, error) {
	ts, err := r.procTables.readTables(req)
	r.afterRead()
	return ts, err
}

func (r racyTables) recheck(req tableRequest, socks []Socket) (map[uint64]bool, error) {
	*r.rechecks++
	return r.procTables.recheck(req, socks)
}

// useRacyBackend registers the backend "racy" for the test: proc's
// sources, with afterRead run once the tables are read.
func useRacyBackend(t *testing.T, afterRead func()) *int {
	t.Helper()
	saved := slices.Clone(backends)
	t.Cleanup(func() { backends = saved })
	rechecks := new(int)
	registerBackend(backendDef{name: "racy", rank: 1000, open: func(FS, Options) (tableSource, ownerSource) {
		return racyTables{afterRead: afterRead, rechecks: rechecks}, fdWalkOwners{}
	}})
	return rechecks
}

// editTable rewrites the lines of a socket table that hold inode,
// deleting them when with is empty.
func editTable(t *testing.T, path string, inode, with string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	found := false
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 9 && f[9] == inode {
			found = true
			if with == "" {
				continue
			}
			line = strings.Replace(line, " "+inode+" ", " "+with+" ", 1)
		}
		out = append(out, line)
	}
	if !found {
		t.Fatalf("%s has no socket with inode %s", path, inode)
	}
	writeFixtureFile(t, path, strings.Join(out, ""))
}

// TestScanRecheckVanished reproduces, deterministically, the race of a
// busy host: the tables list a socket whose owner closes it before its
// descriptors are walked. In the healthy tree, worker 902 has closed its
// connection 10.0.0.10:443 <- 192.0.2.11:41002 (inode 22040042): its fd is
// gone from 902/fd, and what the table source shows on a second read
// decides.
func TestScanRecheckVanished(t *testing.T) {
	asUser(t, 0)
	const inode = "22040042"
	closed := sockView{TCP, "10.0.0.10:443", "192.0.2.11:41002", Established, fixtureHostNS, nil}
	const denied = "1 process could not be inspected (permission denied): pid 902 (nginx); even root may not read their descriptors here (a security module such as Yama or AppArmor, or another user namespace)"
	for _, tt := range []struct {
		name      string
		afterRead func(t *testing.T, root string)
		faults    map[string]error
		opts      Options
		kept      bool // the closed socket stays, unowned
		rechecks  int
		warnings  []string
		notes     int
	}{
		{name: "closed: gone from the second read", rechecks: 1,
			afterRead: func(t *testing.T, root string) { editTable(t, filepath.Join(root, "net", "tcp"), inode, "") }},
		{name: "closed, the 4-tuple reused by another socket", rechecks: 1,
			afterRead: func(t *testing.T, root string) { editTable(t, filepath.Join(root, "net", "tcp"), inode, "22049999") }},
		{name: "still there: its owner started or passed it on during the scan", rechecks: 1, kept: true,
			warnings: []string{`1 socket has an owner that could not be identified (it exited or started during the scan); they are shown with owner "?"`}},
		// 902 is denied: its two other connections stay, with their warning.
		{name: "closed, beside a denied process", rechecks: 1, faults: map[string]error{"902/fd": fs.ErrPermission},
			afterRead: func(t *testing.T, root string) { editTable(t, filepath.Join(root, "net", "tcp"), inode, "") },
			warnings:  []string{denied, `2 sockets have an owner that could not be identified (it exited, or could not be inspected); they are shown with owner "?"`}},
		// The table cannot be read again: whether it is gone is unknown.
		{name: "no second read", rechecks: 1, kept: true, notes: 1,
			afterRead: func(t *testing.T, root string) { os.Remove(filepath.Join(root, "net", "tcp")) },
			warnings:  []string{`1 socket has an owner that could not be identified (it exited or started during the scan); they are shown with owner "?"`}},
		// With --pid, a socket no selected process holds is not shown:
		// nothing to read again.
		{name: "--pid", opts: Options{PIDs: []int{901, 902}}, rechecks: 0,
			afterRead: func(t *testing.T, root string) { editTable(t, filepath.Join(root, "net", "tcp"), inode, "") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := copyTree(t, "healthy")
			if err := os.Remove(filepath.Join(root, "902", "fd", "13")); err != nil { // socket:[22040042]
				t.Fatal(err)
			}
			rechecks := useRacyBackend(t, func() {
				if tt.afterRead != nil {
					tt.afterRead(t, root)
				}
			})
			fsys, err := NewFS(root)
			if err != nil {
				t.Fatal(err)
			}
			fsys.faults = tt.faults
			opts := tt.opts
			opts.Backend = "racy"
			snap := scanFixture(t, fsys, opts)
			if *rechecks != tt.rechecks {
				t.Errorf("%d rechecks, want %d", *rechecks, tt.rechecks)
			}
			if got := slices.ContainsFunc(views(snap.Sockets), func(v sockView) bool { return cmp.Equal(v, closed) }); got != tt.kept {
				t.Errorf("the closed socket is shown: %v, want %v", got, tt.kept)
			}
			if diff := cmp.Diff(tt.warnings, snap.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if len(snap.Notes) != tt.notes {
				t.Errorf("notes %q, want %d", snap.Notes, tt.notes)
			}
			if n := len(ownedBy(snap.Sockets, 901)); n != 7 {
				t.Errorf("901 owns %d sockets, want 7: the recheck drops only unowned ones", n)
			}
		})
	}
}

// TestScanRecheckContainer: a container's socket is read again through a
// member of its namespace.
func TestScanRecheckContainer(t *testing.T) {
	root := copyTree(t, "netns")
	// 5002's connection 172.17.0.2:39000 -> 10.0.0.20:5432, closed.
	fd := findFDLink(t, root, 5002, "172.17.0.2:39000")
	if err := os.Remove(fd.path); err != nil {
		t.Fatal(err)
	}
	rechecks := useRacyBackend(t, func() { editTable(t, filepath.Join(root, "5001", "net", "tcp"), fd.inode, "") })
	fsys, err := NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	snap := scanFixture(t, fsys, Options{Backend: "racy"})
	if *rechecks != 1 || len(snap.Warnings) != 0 || len(snap.Notes) != 0 {
		t.Errorf("rechecks %d, warnings %q, notes %q; want 1, none, none", *rechecks, snap.Warnings, snap.Notes)
	}
	for _, s := range snap.Sockets {
		if s.Local.String() == "172.17.0.2:39000" {
			t.Errorf("the closed socket is shown: %+v", s)
		}
	}
}

type fdLink struct{ path, inode string }

// findFDLink finds the fd of pid in the tree at root that links to the
// socket of its namespace's net/tcp whose local address is local.
func findFDLink(t *testing.T, root string, pid int, local string) fdLink {
	t.Helper()
	dir := filepath.Join(root, strconv.Itoa(pid))
	socks, err := ReadNetTCP(filepath.Join(dir, "net", "tcp"), TCP)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(socks, func(s Socket) bool { return s.Local.String() == local })
	if i < 0 {
		t.Fatalf("no socket from %s in %s/net/tcp", local, dir)
	}
	inode := strconv.FormatUint(socks[i].Inode, 10)
	fds, err := os.ReadDir(filepath.Join(dir, "fd"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range fds {
		p := filepath.Join(dir, "fd", e.Name())
		if target, _ := os.Readlink(p); target == "socket:["+inode+"]" {
			return fdLink{p, inode}
		}
	}
	t.Fatalf("pid %d holds no fd for socket %s", pid, inode)
	return fdLink{}
}

func TestUnownedWarningFor(t *testing.T) {
	for _, tt := range []struct {
		unowned, denied int
		want            string
	}{
		{1, 0, `1 socket has an owner that could not be identified (it exited or started during the scan); they are shown with owner "?"`},
		{3, 2, `3 sockets have an owner that could not be identified (it exited, or could not be inspected); they are shown with owner "?"`},
	} {
		if got := unownedWarningFor(tt.unowned, tt.denied); got != tt.want {
			t.Errorf("unownedWarningFor(%d, %d) = %q, want %q", tt.unowned, tt.denied, got, tt.want)
		}
	}
}
