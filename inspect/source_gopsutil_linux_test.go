package inspect

import (
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/sockleak/sockleak/internal/livetest"
)

// gopsutilView is what the gopsutil backend must agree with netlink on
// for one socket: its state and its owners.
type gopsutilView struct {
	state  TCPState
	owners []int
}

// landscapeViews scans the whole host with backend b and returns the
// sockets to or from port, by protocol and addresses.
func landscapeViews(t *testing.T, fsys FS, b Backend, port uint16) (map[string]gopsutilView, *Snapshot) {
	t.Helper()
	snap, err := Scan(context.Background(), fsys, Options{Backend: b})
	if err != nil {
		t.Fatalf("Scan with %s: %v", b, err)
	}
	views := make(map[string]gopsutilView)
	for _, s := range snap.Sockets {
		if s.Local.Port() == port || s.Remote.Port() == port {
			views[fmt.Sprintf("%s %s %s", s.Proto, s.Local, s.Remote)] = gopsutilView{s.State, s.PIDs}
		}
	}
	return views, snap
}

// gopsutilDisagreement describes where the two views differ: a socket
// only one lists, another state, or an owner gopsutil names that netlink
// does not (gopsutil names one owner of a shared socket, netlink all).
func gopsutilDisagreement(nl, gp map[string]gopsutilView) string {
	var diffs []string
	for k, n := range nl {
		g, ok := gp[k]
		switch {
		case !ok:
			diffs = append(diffs, fmt.Sprintf("%s: %s %v from netlink, missing from gopsutil", k, n.state, n.owners))
		case g.state != n.state:
			diffs = append(diffs, fmt.Sprintf("%s: netlink %s, gopsutil %s", k, n.state, g.state))
		case len(g.owners) > 1 || len(g.owners) != min(len(n.owners), 1) ||
			len(g.owners) == 1 && !slices.Contains(n.owners, g.owners[0]):
			diffs = append(diffs, fmt.Sprintf("%s %s: netlink owners %v, gopsutil %v", k, n.state, n.owners, g.owners))
		}
	}
	for k, g := range gp {
		if _, ok := nl[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: %s %v from gopsutil, missing from netlink", k, g.state, g.owners))
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "\n")
}

// TestGopsutilAgreesWithNetlink scans a live loopback landscape (every
// state of nlLandscape, IPv4 and IPv6, and a connection a child process
// holds) with both backends: the same sockets, in the same states, with
// the same owners, gopsutil's one owner being one of netlink's. The two
// reads are not one instant: a socket that changed in between (a FIN
// processed late) is read again, up to five times.
func TestGopsutilAgreesWithNetlink(t *testing.T) {
	livetest.Skip(t)
	port := nlLandscape(t)
	child, err := startLiveChild(t, "dial", func(cmd *exec.Cmd) {
		cmd.Env = append(cmd.Env, liveDialEnv+"="+net.JoinHostPort("127.0.0.1", fmt.Sprint(port)))
	})
	if err != nil {
		t.Fatal(err)
	}
	fsys := mustFS(t)
	var nl, gp map[string]gopsutilView
	var gsnap *Snapshot
	diff := "not compared"
	for attempt := 0; attempt < 5 && diff != ""; attempt++ {
		nl, _ = landscapeViews(t, fsys, BackendNetlink, port)
		gp, gsnap = landscapeViews(t, fsys, BackendGopsutil, port)
		diff = gopsutilDisagreement(nl, gp)
	}
	if diff != "" {
		t.Errorf("gopsutil and netlink disagree:\n%s", diff)
	}
	// The landscape is there, in every state it makes, and the child's
	// connection is the child's.
	states := map[TCPState]bool{}
	childOwns := false
	for _, v := range gp {
		states[v.state] = true
		childOwns = childOwns || slices.Equal(v.owners, []int{child.pid})
	}
	for _, st := range []TCPState{Listen, Established, CloseWait, FinWait2} {
		if !states[st] {
			t.Errorf("gopsutil saw no %s socket on port %d: %v", st, port, gp)
		}
	}
	if !childOwns {
		t.Errorf("no socket on port %d owned by the child, pid %d: %v", port, child.pid, gp)
	}
	if gsnap.Backend != BackendGopsutil || !slices.ContainsFunc(gsnap.Warnings, func(w string) bool {
		return strings.HasPrefix(w, "the gopsutil backend gives no accept-queue lengths")
	}) {
		t.Errorf("gopsutil scan: backend %q, warnings %q; want its gaps said", gsnap.Backend, gsnap.Warnings)
	}
}

// TestGopsutilNativeScan runs the path of the systems without /proc
// (FS.native: processes, parents, start times and limits from gopsutil)
// on this host, for this process and a child holding a connection.
func TestGopsutilNativeScan(t *testing.T) {
	livetest.Skip(t)
	ln := liveListen(t, liveTCP4)
	lnAP := liveAddr(ln.Addr())
	child, childAP := liveDialChild(t, ln)

	me := os.Getpid()
	fsys := FS{root: DefaultRoot, native: true}
	snap, err := Scan(context.Background(), fsys, Options{PIDs: []int{me, child.pid}, Backend: BackendGopsutil})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Processes) != 2 {
		t.Fatalf("Processes = %+v, want this one and the child", snap.Processes)
	}
	for _, p := range snap.Processes {
		if p.FDs < 3 || p.FDSoftLimit <= 0 || p.StartTime == 0 || p.Name == "" || p.NetNS != 0 {
			t.Errorf("pid %d: %+v; want its descriptors, limit, start time and name, no namespace", p.PID, p)
		}
	}
	owner := map[string][]int{}
	for _, s := range snap.Sockets {
		owner[s.Local.String()+" "+s.Remote.String()] = s.PIDs
	}
	for k, want := range map[string][]int{
		lnAP.String() + " 0.0.0.0:0":           {me},
		childAP.String() + " " + lnAP.String(): {child.pid},
		lnAP.String() + " " + childAP.String(): {me},
	} {
		if got := owner[k]; !slices.Equal(got, want) {
			t.Errorf("%s: owners %v, want %v (all: %v)", k, got, want, owner)
		}
	}
	if snap.System != (System{}) || snap.Hostname == "" {
		t.Errorf("System = %+v, Hostname %q; want no counters and the host's name", snap.System, snap.Hostname)
	}
	// The start time identifies the process across scans.
	again, err := Scan(context.Background(), fsys, Options{PIDs: []int{me}, Backend: BackendGopsutil})
	if err != nil || len(again.Processes) != 1 || again.Processes[0].StartTime != liveProcess(t, snap, me).StartTime {
		t.Errorf("second scan: %+v, %v; want the same start time", again, err)
	}
}

// TestGopsutilMatchesProcOnFixtures scans the fixture proc roots with the
// gopsutil backend (gopsutil reads any proc root) and with the proc
// backend: the sockets of the reader's namespace, their states and
// owners (gopsutil's one among proc's), and each process's descriptors
// and limits agree. gopsutil reads no other namespace, and counts only
// TCP sockets among a process's descriptors.
func TestGopsutilMatchesProcOnFixtures(t *testing.T) {
	for _, tree := range []string{"healthy", "hung", "incident/client", "incident/peer", "ipv6", "netns", "denied"} {
		t.Run(tree, func(t *testing.T) {
			fsys := fixtureFS(t, tree)
			views := func(b Backend) (map[string]gopsutilView, *Snapshot) {
				snap, err := Scan(context.Background(), fsys, Options{Backend: b})
				if err != nil {
					t.Fatalf("%s: %v", b, err)
				}
				v := make(map[string]gopsutilView)
				for _, s := range snap.Sockets {
					if s.NetNS == snap.HostNetNS {
						v[fmt.Sprintf("%s %s %s %s", s.Proto, s.Local, s.Remote, s.State)] = gopsutilView{s.State, s.PIDs}
					}
				}
				return v, snap
			}
			pr, psnap := views(BackendProc)
			gp, gsnap := views(BackendGopsutil)
			if diff := gopsutilDisagreement(pr, gp); diff != "" {
				t.Errorf("gopsutil and proc disagree:\n%s", diff)
			}
			if len(gp) == 0 {
				t.Errorf("no socket read")
			}
			type budget struct {
				PID, FDs      int
				Soft, Hard    int64
				Name, Cmdline string
			}
			var want, got []budget
			for _, p := range psnap.Processes {
				want = append(want, budget{p.PID, p.FDs, p.FDSoftLimit, p.FDHardLimit, p.Name, p.Cmdline})
			}
			for _, p := range gsnap.Processes {
				got = append(got, budget{p.PID, p.FDs, p.FDSoftLimit, p.FDHardLimit, p.Name, p.Cmdline})
			}
			if !slices.Equal(want, got) || psnap.Denied != gsnap.Denied {
				t.Errorf("processes: proc %+v (%d denied), gopsutil %+v (%d denied)", want, psnap.Denied, got, gsnap.Denied)
			}
		})
	}
}

// TestGopsutilNativeScanHost: without --pid the native path lists every
// process through gopsutil, this one among them with the listener it
// holds, and each process once.
func TestGopsutilNativeScanHost(t *testing.T) {
	livetest.Skip(t)
	ln := liveListen(t, liveTCP4)
	lnAP := liveAddr(ln.Addr())
	snap, err := Scan(context.Background(), FS{root: DefaultRoot, native: true}, Options{Backend: BackendGopsutil})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range snap.Processes {
		if seen[p.PID] {
			t.Errorf("pid %d listed twice", p.PID)
		}
		seen[p.PID] = true
	}
	if !seen[os.Getpid()] || len(seen) < 2 {
		t.Errorf("processes %v: want this one (%d) among others", slices.Sorted(maps.Keys(seen)), os.Getpid())
	}
	i := slices.IndexFunc(snap.Sockets, func(s Socket) bool { return s.Local == lnAP && s.State == Listen })
	if i < 0 || !slices.Equal(snap.Sockets[i].PIDs, []int{os.Getpid()}) {
		t.Errorf("listener %v not listed as ours", lnAP)
	}
}
