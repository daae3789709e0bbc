//go:build linux

package inspect

import (
	"bytes"
	"encoding/binary"
	"net"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/internal/livetest"
)

func TestFDWalkerOwnProcess(t *testing.T) {
	livetest.Skip(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File() // a second descriptor for the same socket
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := "/proc/" + strconv.Itoa(os.Getpid()) + "/fd"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := newFDWalker(true)
	var tab fdTable
	if err := w.walk(dir, nil, &tab); err != nil {
		t.Fatal(err)
	}
	open, socks := tab.open, tab.sockets
	// The walk's own directory descriptor is one more than ReadDir saw.
	if open != len(entries) && open != len(entries)+1 && open != len(entries)-1 {
		t.Errorf("walk counted %d descriptors, ReadDir %d", open, len(entries))
	}
	if len(socks) < 2 {
		t.Errorf("walk found %d socket descriptors, want at least the listener and its dup", len(socks))
	}
	n, err := w.countFDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n < len(entries)-1 || n > len(entries)+1 {
		t.Errorf("countFDs = %d, ReadDir saw %d", n, len(entries))
	}
	if tab.socketFDs != len(socks) {
		t.Errorf("socketFDs = %d, kept %d sockets with keep nil", tab.socketFDs, len(socks))
	}
	if allocs := testing.AllocsPerRun(20, func() { tab = fdTable{sockets: tab.sockets[:0]}; _ = w.walk(dir, nil, &tab) }); allocs > 2 {
		t.Errorf("walk allocates %.0f times per process, want at most 2 (the path)", allocs)
	}
}

// TestFDWalkerProbeMatchesListing checks that probing descriptors by
// number finds what listing the directory finds, on a dense table and
// with a run of holes longer than maxHoles in it.
func TestFDWalkerProbeMatchesListing(t *testing.T) {
	livetest.Skip(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	for range 3 * maxHoles {
		f, err := ln.(*net.TCPListener).File()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	dir := "/proc/" + strconv.Itoa(os.Getpid()) + "/fd"
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil || st.Size == 0 {
		t.Skipf("this kernel does not count descriptors in the size of PID/fd (size %d, %v): the probe is not used", st.Size, err)
	}
	compare := func(t *testing.T) {
		t.Helper()
		var probed, listed fdTable
		if err := newFDWalker(true).walk(dir, nil, &probed); err != nil {
			t.Fatal(err)
		}
		if err := newFDWalker(false).walk(dir, nil, &listed); err != nil {
			t.Fatal(err)
		}
		slices.Sort(probed.sockets)
		slices.Sort(listed.sockets)
		if diff := cmp.Diff(listed, probed, cmp.AllowUnexported(fdTable{})); diff != "" {
			t.Errorf("probe and listing differ (-listed +probed):\n%s", diff)
		}
		if probed.socketFDs < len(files) {
			t.Errorf("found %d socket descriptors, want at least the %d this test holds", probed.socketFDs, len(files))
		}
	}
	t.Run("dense", compare)
	// Close a block of 2*maxHoles descriptors in the middle: the probe
	// meets the holes, gives up, and lists the rest.
	for _, f := range files[maxHoles/2 : maxHoles/2+2*maxHoles] {
		f.Close()
	}
	files = append(files[:maxHoles/2], files[maxHoles/2+2*maxHoles:]...)
	t.Run("holes", compare)
}

// dirent builds a linux_dirent64 record for name, padded to 8 bytes as
// the kernel pads it.
func dirent(name string) []byte {
	reclen := (direntName + len(name) + 1 + 7) &^ 7
	b := make([]byte, reclen)
	binary.NativeEndian.PutUint64(b[0:], 42)
	binary.NativeEndian.PutUint16(b[16:], uint16(reclen))
	b[18] = 10 // DT_LNK
	copy(b[direntName:], name)
	return b
}

func TestNextDirent(t *testing.T) {
	buf := slices.Concat(dirent("."), dirent(".."), dirent("0"), dirent("1023"))
	var names []string
	for b := buf; ; {
		name, rest, ok := nextDirent(b)
		if !ok {
			break
		}
		names = append(names, string(name[:bytes.IndexByte(name, 0)]))
		b = rest
	}
	if want := []string{".", "..", "0", "1023"}; !slices.Equal(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
	short := dirent("7")
	binary.NativeEndian.PutUint16(short[16:], direntName) // a record with no room for a name
	if _, _, ok := nextDirent(short); ok {
		t.Error("a record too short for a name was accepted")
	}
}

// FuzzNextDirent: whatever getdents64 leaves in the buffer, the record
// parser never panics, every name it gives has a byte before its end, and
// it never reads past the buffer.
func FuzzNextDirent(f *testing.F) {
	f.Add(slices.Concat(dirent("."), dirent(".."), dirent("3"))) // a directory as the kernel writes it
	f.Add(dirent("12")[:20])                                     // a record cut short
	f.Add(make([]byte, 24))                                      // a zero length
	f.Fuzz(func(t *testing.T, b []byte) {
		total := 0
		for rest := b; ; {
			name, next, ok := nextDirent(rest)
			if !ok {
				break
			}
			if len(name) < 2 {
				t.Fatalf("a name of %d bytes", len(name))
			}
			total += len(rest) - len(next)
			if len(next) >= len(rest) {
				t.Fatal("no progress")
			}
			rest = next
		}
		if total > len(b) {
			t.Fatalf("read %d bytes of %d", total, len(b))
		}
	})
}
