package inspect

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseMountinfo reads testdata/mountinfo/hidepid: the proc mounts of
// a host that hides processes, as Linux 6.x prints them.
func TestParseMountinfo(t *testing.T) {
	for _, tt := range []struct {
		mountPoint string
		want       []string
	}{
		{"/proc", []string{"rw", "hidepid=invisible", "gid=27"}},
		{"/run/host proc", []string{"rw", "hidepid=2"}}, // "\040" in the table
		{"/srv/proc", []string{"rw"}},                   // the later mount on the same point wins
		{"/srv/subset", []string{"rw", "hidepid=ptraceable", "subset=pid"}},
		{"/var/lib/tmpfs", nil}, // not a proc filesystem
		{"/nowhere", nil},
	} {
		f, err := os.Open(filepath.Join("..", "testdata", "mountinfo", "hidepid"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseMountinfo(f, tt.mountPoint)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", tt.mountPoint, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: options mismatch (-want +got):\n%s", tt.mountPoint, diff)
		}
	}
	for _, bad := range []string{"22 1 259:2 / / rw\n", "22 1 259:2 / / rw - ext4\n", "garbage\n"} {
		if _, err := parseMountinfo(strings.NewReader(bad), "/"); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("parseMountinfo(%q) error = %v, want one at line 1", bad, err)
		}
	}
}

func TestHiddenOptions(t *testing.T) {
	in27 := func(gid int) bool { return gid == 27 }
	for _, tt := range []struct {
		opts []string
		want string
	}{
		{[]string{"rw"}, ""},
		{[]string{"rw", "hidepid=invisible"}, "hidepid=invisible"},
		{[]string{"rw", "hidepid=2"}, "hidepid=2"},
		{[]string{"rw", "hidepid=ptraceable"}, "hidepid=ptraceable"},
		{[]string{"rw", "hidepid=4"}, "hidepid=4"},
		{[]string{"rw", "hidepid=noaccess"}, ""}, // listed, then denied
		{[]string{"rw", "hidepid=1"}, ""},
		{[]string{"rw", "hidepid=off"}, ""},
		{[]string{"rw", "hidepid=invisible", "gid=27"}, ""}, // a member of the exempt group
		{[]string{"rw", "hidepid=invisible", "gid=28"}, "hidepid=invisible"},
		{[]string{"rw", "subset=pid"}, ""},
	} {
		if got := hiddenOptions(tt.opts, in27).option; got != tt.want {
			t.Errorf("hiddenOptions(%q) = %q, want %q", tt.opts, got, tt.want)
		}
	}
}

// hiddenFixture is the healthy tree seen as a proc mount with hidepid=2
// by an unprivileged user, who cannot see pid 1 (removed from the tree).
func hiddenFixture(t *testing.T, option string) FS {
	t.Helper()
	asUser(t, 1000)
	root := copyTree(t, "healthy")
	if err := os.RemoveAll(filepath.Join(root, "1")); err != nil {
		t.Fatal(err)
	}
	mi := filepath.Join(t.TempDir(), "mountinfo")
	writeFixtureFile(t, mi, "22 1 259:2 / / rw - ext4 /dev/root rw\n"+
		"23 22 0:21 / "+strings.ReplaceAll(root, " ", `\040`)+" rw,nosuid - proc proc rw,"+option+"\n")
	saved := mountinfoPath
	mountinfoPath = mi
	t.Cleanup(func() { mountinfoPath = saved })
	fsys, err := NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	fsys.procfs = true // a proc mount, as far as the options go
	return fsys
}

// TestScanHiddenView: a process the view hides could not be inspected; it
// is never "no process matches" (which --allow-missing passes).
func TestScanHiddenView(t *testing.T) {
	const warning = "is mounted with hidepid=2: processes of other users are hidden from this one"
	t.Run("whole host", func(t *testing.T) {
		fsys := hiddenFixture(t, "hidepid=2")
		snap := scanFixture(t, fsys, Options{})
		if !slices.ContainsFunc(snap.Warnings, func(w string) bool { return strings.Contains(w, fsys.Root()+" "+warning) }) {
			t.Errorf("Warnings = %q, want one saying %q", snap.Warnings, warning)
		}
	})
	for _, tt := range []struct {
		name string
		opts Options
		want string
	}{
		{"hidden pid", Options{PIDs: []int{1}}, "--pid 1: 1 process matches but could not be inspected (permission denied); "},
		{"no visible name", Options{Name: "systemd"}, `--name "systemd": none of the processes this user can see matches, and other users' processes could not be inspected (permission denied); `},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := hiddenFixture(t, "hidepid=2")
			_, err := Scan(context.Background(), fsys, tt.opts)
			if !errors.Is(err, ErrDenied) || errors.Is(err, ErrNoMatch) {
				t.Fatalf("Scan() error = %v, want ErrDenied, not ErrNoMatch", err)
			}
			if want := tt.want + fsys.Root() + " is mounted with hidepid=2, which hides other users' processes"; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("Scan() error = %q, want it to start with %q", err, want)
			}
		})
	}
	t.Run("one hidden, one seen", func(t *testing.T) {
		fsys := hiddenFixture(t, "hidepid=invisible")
		snap := scanFixture(t, fsys, Options{PIDs: []int{1, 900}})
		want := "1 process could not be inspected (permission denied): pid 1; " + fsys.Root() + " is mounted with hidepid=invisible"
		if snap.Denied != 1 || len(snap.Processes) != 1 ||
			!slices.ContainsFunc(snap.Warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
			t.Errorf("Denied %d, %d processes, Warnings = %q; want 1, 1 and one starting with %q", snap.Denied, len(snap.Processes), snap.Warnings, want)
		}
	})
	t.Run("not hidden", func(t *testing.T) {
		for _, opt := range []string{"hidepid=noaccess", "hidepid=2,gid=" + strconv.Itoa(os.Getegid())} {
			fsys := hiddenFixture(t, opt)
			if _, err := Scan(context.Background(), fsys, Options{PIDs: []int{1}}); !errors.Is(err, ErrNoMatch) {
				t.Errorf("%s: Scan() error = %v, want ErrNoMatch", opt, err)
			}
		}
	})
}

func FuzzParseMountinfo(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("..", "testdata", "mountinfo", "hidepid"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b), "/proc")                                   // the fixture
	f.Add("23 22 0:21 / /a\\040b rw - proc proc rw\n", "/a b")  // an escaped space
	f.Add("23 22 0:21 / /a\\04 rw - proc proc rw\n", "/a")      // an escape cut short
	f.Add("23 22 0:21 / /p rw - proc\n", "/p")                  // no source, no options
	f.Add("23 22 0:21 / /p rw a:1 b:2 - proc p rw,x\r\n", "/p") // optional fields, CRLF
	f.Fuzz(func(t *testing.T, in, mp string) {
		opts, err := parseMountinfo(strings.NewReader(in), mp)
		if err != nil && opts != nil {
			t.Errorf("options %q with error %v", opts, err)
		}
		hiddenOptions(opts, func(int) bool { return false })
	})
}
