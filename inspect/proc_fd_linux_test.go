package inspect

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestParseSocketLink(t *testing.T) {
	tests := []struct {
		target string
		want   uint64
		ok     bool
	}{
		{"socket:[48213445]", 48213445, true},
		{"socket:[0]", 0, true},
		{"socket:[18446744073709551615]", 1<<64 - 1, true},
		{"socket:[18446744073709551616]", 0, false}, // over 64 bits
		{"socket:[]", 0, false},
		{"socket:[12a]", 0, false},
		{"socket:[123", 0, false},
		{"socket:123]", 0, false},
		{"pipe:[48213445]", 0, false},
		{"anon_inode:[eventpoll]", 0, false},
		{"/dev/null", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			got, ok := parseSocketLink([]byte(tt.target))
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseSocketLink(%q) = %d, %v; want %d, %v", tt.target, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestReadFDs(t *testing.T) {
	tests := []struct {
		tree     string
		pid      string
		open     int
		sockets  int
		distinct int // distinct socket inodes
	}{
		// 6 other fds, the listener, 1987 CLOSE_WAIT and 3 ESTABLISHED.
		{tree: "incident/client", pid: "4242", open: 1997, sockets: 1991, distinct: 1991},
		// stdout and stderr are the same journald socket.
		{tree: "incident/peer", pid: "3100", open: 11, sockets: 8, distinct: 7},
		{tree: "incident/client", pid: "1", open: 6, sockets: 1, distinct: 1},
	}
	for _, tt := range tests {
		t.Run(tt.tree+"/"+tt.pid, func(t *testing.T) {
			fsys := fixtureFS(t, tt.tree)
			got, err := fsys.readFDs(fsys.path(tt.pid, "fd"))
			if err != nil {
				t.Fatal(err)
			}
			if got.open != tt.open || len(got.sockets) != tt.sockets {
				t.Errorf("readFDs() = %d open, %d sockets; want %d, %d", got.open, len(got.sockets), tt.open, tt.sockets)
			}
			if n := len(slices.Compact(slices.Sorted(slices.Values(got.sockets)))); n != tt.distinct {
				t.Errorf("readFDs() found %d distinct socket inodes, want %d", n, tt.distinct)
			}
		})
	}
}

func TestReadFDsErrors(t *testing.T) {
	fsys := fixtureFS(t, "denied")
	if _, err := fsys.readFDs(fsys.path("999", "fd")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("readFDs(missing) error = %v, want ErrNotExist", err)
	}
	fsys.faults = map[string]error{"101/fd": fs.ErrPermission}
	if _, err := fsys.readFDs(fsys.path("101", "fd")); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("readFDs(faulted) error = %v, want ErrPermission", err)
	}
	if _, err := fsys.readFDs(fsys.path("100", "fd")); err != nil {
		t.Errorf("readFDs(100) error = %v; the fault is for 101 only", err)
	}
}

func TestReadNetNS(t *testing.T) {
	fsys := fixtureFS(t, "netns")
	for _, tt := range []struct {
		rel  string
		want uint64
	}{
		{"1/ns/net", 4026531840},
		{"self/ns/net", 4026531840},
		{"5001/ns/net", 4026532500},
		{"5002/ns/net", 4026532500},
	} {
		got, err := fsys.readNetNS(fsys.path(tt.rel))
		if err != nil || got != tt.want {
			t.Errorf("readNetNS(%s) = %d, %v; want %d", tt.rel, got, err, tt.want)
		}
	}

	dir := t.TempDir()
	for _, tt := range []struct {
		target  string
		wantErr string
	}{
		{"mnt:[4026531841]", `want "net:[INODE]"`},
		{"net:[]", `want "net:[INODE]"`},
		{"net:[4026531840", `want "net:[INODE]"`},
		{"net:[abc]", `want "net:[INODE]", INODE a number`},
	} {
		link := filepath.Join(dir, strings.NewReplacer(":", "_", "[", "_", "]", "_").Replace(tt.target))
		if err := os.Symlink(tt.target, link); err != nil {
			t.Fatal(err)
		}
		if _, err := fsys.readNetNS(link); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("readNetNS(-> %s) error = %v, want it to contain %q", tt.target, err, tt.wantErr)
		}
	}
}

// readFDs walks dir (a PID/fd directory) and keeps every socket, as a
// scan does before the tables are in.
func (fsys FS) readFDs(dir string) (fdTable, error) {
	if err := fsys.fault(dir); err != nil {
		return fdTable{}, err
	}
	var t fdTable
	err := newFDWalker(fsys.procfs).walk(dir, nil, &t)
	return t, err
}

// FuzzParseFDLinks feeds the two link parsers of a process's directory,
// PID/fd/N ("socket:[INODE]") and PID/ns/net ("net:[INODE]"), arbitrary
// targets: link targets are the kernel's, but a fixture tree or a mounted
// proc root can hold anything. Whatever is accepted must be the number
// between the brackets.
func FuzzParseFDLinks(f *testing.F) {
	f.Add("socket:[12345]")                // a socket descriptor
	f.Add("net:[4026531840]")              // a network namespace
	f.Add("pipe:[99]")                     // another kind of descriptor
	f.Add("socket:[]")                     // no inode
	f.Add("socket:[18446744073709551616]") // one past uint64
	f.Add("/dev/null")                     // a file
	f.Add("socket:[12")                    // no closing bracket
	f.Fuzz(func(t *testing.T, target string) {
		if ino, ok := parseSocketLink([]byte(target)); ok {
			inner, found := strings.CutPrefix(target, "socket:[")
			n, err := strconv.ParseUint(strings.TrimSuffix(inner, "]"), 10, 64)
			if !found || !strings.HasSuffix(target, "]") || err != nil || n != ino {
				t.Errorf("parseSocketLink(%q) = %d, accepted: not the number in socket:[...]", target, ino)
			}
		}
		if ns, err := parseNetNSLink(target); err == nil {
			inner, found := strings.CutPrefix(target, "net:[")
			n, perr := strconv.ParseUint(strings.TrimSuffix(inner, "]"), 10, 64)
			if !found || !strings.HasSuffix(target, "]") || perr != nil || n != ns {
				t.Errorf("parseNetNSLink(%q) = %d, accepted: not the number in net:[...]", target, ns)
			}
		}
	})
}
