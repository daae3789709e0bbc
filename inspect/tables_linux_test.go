package inspect

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScanNetNS(t *testing.T) {
	snap := scanFixture(t, fixtureFS(t, "netns"), Options{})
	host, cont := uint64(fixtureHostNS), uint64(fixtureContainerNS)
	want := []sockView{
		{TCP, "0.0.0.0:8080", "0.0.0.0:0", Listen, host, []int{1500}},
		{TCP, "10.0.0.11:8080", "192.0.2.30:52990", TimeWait, host, nil},
		{TCP, "10.0.0.11:8080", "192.0.2.30:53000", Established, host, []int{1500}},
		{TCP, "172.17.0.1:41200", "172.17.0.2:80", TimeWait, host, nil},
		{TCP, "172.17.0.1:41234", "172.17.0.2:80", Established, host, []int{1500}},
		// The container's table, read once though two processes show it.
		{TCP, "0.0.0.0:80", "0.0.0.0:0", Listen, cont, []int{5001, 5002}},
		{TCP, "172.17.0.2:80", "172.17.0.1:41200", TimeWait, cont, nil},
		{TCP, "172.17.0.2:80", "172.17.0.1:41234", Established, cont, []int{5002}},
		{TCP, "172.17.0.2:39000", "10.0.0.20:5432", Established, cont, []int{5002}},
		{TCP6, "[::]:80", "[::]:0", Listen, cont, []int{5001, 5002}},
	}
	if diff := cmp.Diff(want, views(snap.Sockets)); diff != "" {
		t.Errorf("Sockets mismatch (-want +got):\n%s", diff)
	}
	if snap.HostNetNS != host {
		t.Errorf("HostNetNS = %d, want %d", snap.HostNetNS, host)
	}
	gotNS := map[int]uint64{}
	for _, p := range snap.Processes {
		gotNS[p.PID] = p.NetNS
	}
	if diff := cmp.Diff(map[int]uint64{1: host, 640: host, 1500: host, 5001: cont, 5002: cont}, gotNS); diff != "" {
		t.Errorf("process namespaces mismatch (-want +got):\n%s", diff)
	}
	wantListeners := []Listener{listener(host, "0.0.0.0:8080"), listener(cont, "0.0.0.0:80"), listener(cont, "[::]:80")}
	if diff := cmp.Diff(wantListeners, sortedListeners(snap.Listeners), netipComparers); diff != "" {
		t.Errorf("Listeners mismatch (-want +got):\n%s", diff)
	}

	// The root's net/tcp is the host's: no container socket in it.
	root, err := ReadNetTCP(filepath.Join(fixtureFS(t, "netns").Root(), "net", "tcp"), TCP)
	if err != nil {
		t.Fatal(err)
	}
	if len(root) != 5 {
		t.Errorf("the root's net/tcp holds %d sockets, want the host's 5", len(root))
	}
	for _, s := range root {
		if s.Local.Addr() == netip.MustParseAddr("172.17.0.2") {
			t.Errorf("root net/tcp holds the container's socket %v -> %v", s.Local, s.Remote)
		}
	}

	// --pid 5002: the worker's sockets, all in the container. Only the
	// selected processes are inspected, so they are the only owners shown.
	snap = scanFixture(t, fixtureFS(t, "netns"), Options{PIDs: []int{5002}})
	wantWorker := []sockView{
		{TCP, "0.0.0.0:80", "0.0.0.0:0", Listen, cont, []int{5002}},
		{TCP, "172.17.0.2:80", "172.17.0.1:41234", Established, cont, []int{5002}},
		{TCP, "172.17.0.2:39000", "10.0.0.20:5432", Established, cont, []int{5002}},
		{TCP6, "[::]:80", "[::]:0", Listen, cont, []int{5002}},
	}
	if diff := cmp.Diff(wantWorker, views(snap.Sockets)); diff != "" {
		t.Errorf("--pid 5002 Sockets mismatch (-want +got):\n%s", diff)
	}
}

// TestScanNetNSFallback: a namespace is read through its next process when
// the first one's PID/net cannot be read, and reported when none can.
func TestScanNetNSFallback(t *testing.T) {
	root := copyTree(t, "netns")
	if err := os.RemoveAll(filepath.Join(root, "5001", "net")); err != nil {
		t.Fatal(err)
	}
	fsys, err := NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	snap := scanFixture(t, fsys, Options{})
	if n := len(snap.Sockets); n != 10 || len(snap.Warnings) != 0 {
		t.Errorf("without 5001/net: %d sockets, warnings %q; want 10 (through 5002/net), none", n, snap.Warnings)
	}

	if err := os.RemoveAll(filepath.Join(root, "5002", "net")); err != nil {
		t.Fatal(err)
	}
	snap = scanFixture(t, fsys, Options{})
	if n := len(snap.Sockets); n != 5 {
		t.Errorf("without any member's net: %d sockets, want the host's 5", n)
	}
	for _, s := range snap.Sockets {
		if s.NetNS != fixtureHostNS {
			t.Errorf("socket %v -> %v in namespace %d, want only the host's", s.Local, s.Remote, s.NetNS)
		}
	}
	want := "network namespace 4026532500: its sockets could not be read: open " + filepath.Join(root, "5002", "net", "tcp")
	if len(snap.Warnings) != 1 || !strings.HasPrefix(snap.Warnings[0], want) {
		t.Errorf("Warnings = %q, want one starting with %q", snap.Warnings, want)
	}
}

// TestScanWithoutSelf: a proc root with no self (a host's /proc read from a
// process outside it) is read namespace by namespace through PID/net.
func TestScanWithoutSelf(t *testing.T) {
	root := linkTree(t, "incident/client", "self")
	fsys, err := NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	snap := scanFixture(t, fsys, Options{})
	if snap.HostNetNS != 0 {
		t.Errorf("HostNetNS = %d, want 0 (unknown)", snap.HostNetNS)
	}
	if got := len(snap.Sockets); got != 1999 {
		t.Errorf("%d sockets, want 1999, each once", got)
	}
	for _, s := range snap.Sockets {
		if s.NetNS != fixtureHostNS {
			t.Fatalf("socket %v -> %v in namespace %d, want %d", s.Local, s.Remote, s.NetNS, uint64(fixtureHostNS))
		}
	}
}
