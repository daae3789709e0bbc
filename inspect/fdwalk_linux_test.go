//go:build linux

package inspect

import (
	"net"
	"os"
	"strconv"
	"testing"
)

func TestFDWalkerOwnProcess(t *testing.T) {
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
	w := newFDWalker()
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
