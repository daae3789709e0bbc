package inspect

import (
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The network namespaces of the fixture trees (testdata/README.md).
const (
	fixtureHostNS      = 4026531840
	fixtureContainerNS = 4026532500
)

var fixtureNow = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)

// fixtureFS opens testdata/TREE/proc.
func fixtureFS(t *testing.T, tree string) FS {
	t.Helper()
	fsys, err := NewFS(filepath.Join("..", "testdata", filepath.FromSlash(tree), "proc"))
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

// scanFixture scans fsys at fixtureNow and fails the test on error.
func scanFixture(t *testing.T, fsys FS, opts Options) *Snapshot {
	t.Helper()
	opts.Now = func() time.Time { return fixtureNow }
	snap, err := Scan(context.Background(), fsys, opts)
	if err != nil {
		t.Fatalf("Scan(%s) error = %v", fsys.Root(), err)
	}
	return snap
}

// sockView is the part of a Socket most tests compare, with addresses as
// strings so that diffs read well.
type sockView struct {
	Proto         Proto
	Local, Remote string
	State         TCPState
	NetNS         uint64
	PIDs          []int
}

// views renders sockets for comparison, in CompareSockets order (Scan
// leaves them in the tables' order).
func views(socks []Socket) []sockView {
	socks = slices.Clone(socks)
	slices.SortFunc(socks, func(a, b Socket) int { return CompareSockets(&a, &b) })
	out := make([]sockView, 0, len(socks))
	for _, s := range socks {
		out = append(out, sockView{s.Proto, s.Local.String(), s.Remote.String(), s.State, s.NetNS, s.PIDs})
	}
	return out
}

// ownedBy returns the sockets whose owners include pid.
func ownedBy(socks []Socket, pid int) []Socket {
	var out []Socket
	for _, s := range socks {
		if slices.Contains(s.PIDs, pid) {
			out = append(out, s)
		}
	}
	return out
}

func inState(socks []Socket, st TCPState) []Socket {
	var out []Socket
	for _, s := range socks {
		if s.State == st {
			out = append(out, s)
		}
	}
	return out
}

func sortedListeners(ls []Listener) []Listener {
	ls = slices.Clone(ls)
	slices.SortFunc(ls, func(a, b Listener) int {
		if a.NetNS != b.NetNS {
			return int(a.NetNS - b.NetNS)
		}
		return a.Addr.Compare(b.Addr)
	})
	return ls
}

// checkSorted checks that CompareSockets orders the sockets totally: no
// socket is listed twice, so an output sorted with it is stable.
func checkSorted(t *testing.T, socks []Socket) {
	t.Helper()
	sorted := slices.Clone(socks)
	slices.SortFunc(sorted, func(a, b Socket) int { return CompareSockets(&a, &b) })
	for i := 1; i < len(sorted); i++ {
		if CompareSockets(&sorted[i-1], &sorted[i]) == 0 {
			t.Errorf("socket listed twice: %+v", sorted[i])
		}
	}
}

func TestScanIncidentClient(t *testing.T) {
	fsys := fixtureFS(t, "incident/client")
	snap := scanFixture(t, fsys, Options{})

	if !snap.Time.Equal(fixtureNow) || snap.Hostname != "sip-edge-1" || snap.ProcRoot != fsys.Root() || snap.HostNetNS != fixtureHostNS {
		t.Errorf("Time, Hostname, ProcRoot, HostNetNS = %v, %q, %q, %d; want %v, sip-edge-1, %q, %d",
			snap.Time, snap.Hostname, snap.ProcRoot, snap.HostNetNS, fixtureNow, fsys.Root(), fixtureHostNS)
	}
	if snap.Selected || snap.Filtered || snap.Denied != 0 || len(snap.Warnings) != 0 {
		t.Errorf("Selected, Filtered, Denied, Warnings = %v, %v, %d, %q; want false, false, 0, none",
			snap.Selected, snap.Filtered, snap.Denied, snap.Warnings)
	}

	wantProcs := []Process{
		{PID: 1, Name: "systemd", User: "root", Cmdline: "/sbin/init", FDs: 6, SocketFDs: 1,
			FDSoftLimit: 1073741816, FDHardLimit: 1073741816, NetNS: fixtureHostNS, StartTime: 1013, State: 'S'},
		{PID: 812, Name: "sshd", User: "root", Cmdline: "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups",
			FDs: 6, SocketFDs: 3, FDSoftLimit: 1024, FDHardLimit: 524288, NetNS: fixtureHostNS, StartTime: 11556, State: 'S'},
		// 6 other fds + 1 listener + 1987 CLOSE_WAIT + 3 ESTABLISHED.
		{PID: 4242, Name: "openser", User: "10001", Cmdline: "/usr/sbin/openser -f /etc/openser/openser.cfg",
			FDs: 1997, SocketFDs: 1991, FDSoftLimit: 2048, FDHardLimit: 4096, NetNS: fixtureHostNS, StartTime: 56146, State: 'S'},
	}
	if diff := cmp.Diff(wantProcs, snap.Processes); diff != "" {
		t.Errorf("Processes mismatch (-want +got):\n%s", diff)
	}
	if p := snap.Processes[len(snap.Processes)-1]; p.FDs*100/int(p.FDSoftLimit) != 97 {
		t.Errorf("openser uses %d of %d fds, want 97%%", p.FDs, p.FDSoftLimit)
	}

	wantStates := map[TCPState]int{CloseWait: 1987, Established: 4, Listen: 3, TimeWait: 5}
	if diff := cmp.Diff(wantStates, countStates(snap.Sockets)); diff != "" {
		t.Errorf("states mismatch (-want +got):\n%s", diff)
	}

	checkClientCloseWait(t, snap)

	toPeer := 0
	for _, s := range inState(snap.Sockets, Established) {
		if s.Remote == netip.MustParseAddrPort("10.0.0.5:7000") && slices.Equal(s.PIDs, []int{4242}) {
			toPeer++
		}
	}
	if toPeer != 3 {
		t.Errorf("%d ESTABLISHED sockets from openser to 10.0.0.5:7000, want 3", toPeer)
	}

	for _, s := range inState(snap.Sockets, TimeWait) {
		if s.Inode != 0 || len(s.PIDs) != 0 || s.Remote != netip.MustParseAddrPort("10.0.0.30:8080") || s.Timer != 3 {
			t.Errorf("TIME_WAIT socket %+v: want inode 0, no owner, peer 10.0.0.30:8080, timer 3", s)
		}
	}

	wantSSHD := []sockView{
		{TCP, "0.0.0.0:22", "0.0.0.0:0", Listen, fixtureHostNS, []int{812}},
		{TCP, "10.0.0.7:22", "192.0.2.10:51234", Established, fixtureHostNS, []int{812}},
		{TCP6, "[::]:22", "[::]:0", Listen, fixtureHostNS, []int{812}},
	}
	if diff := cmp.Diff(wantSSHD, views(ownedBy(snap.Sockets, 812))); diff != "" {
		t.Errorf("sshd's sockets mismatch (-want +got):\n%s", diff)
	}
	if got := ownedBy(snap.Sockets, 1); len(got) != 0 {
		t.Errorf("systemd owns %d TCP sockets, want 0", len(got))
	}

	wantListeners := []Listener{
		listener(fixtureHostNS, "0.0.0.0:22"), listener(fixtureHostNS, "0.0.0.0:5060"), listener(fixtureHostNS, "[::]:22"),
	}
	if diff := cmp.Diff(wantListeners, sortedListeners(snap.Listeners), netipComparers); diff != "" {
		t.Errorf("Listeners mismatch (-want +got):\n%s", diff)
	}
	checkSorted(t, snap.Sockets)
}

// checkClientCloseWait checks the incident client's leak: 1987 CLOSE_WAIT
// sockets from openser to the peer, each on its own ephemeral port, with
// unread data.
func checkClientCloseWait(t *testing.T, snap *Snapshot) {
	t.Helper()
	ports := make(map[uint16]bool)
	for _, s := range inState(snap.Sockets, CloseWait) {
		if s.Proto != TCP || s.Local.Addr() != netip.MustParseAddr("10.0.0.7") || s.Remote != netip.MustParseAddrPort("10.0.0.5:7000") ||
			s.RxQueue == 0 || s.TxQueue != 0 || s.UID != 10001 || s.Inode == 0 || s.NetNS != fixtureHostNS || !slices.Equal(s.PIDs, []int{4242}) {
			t.Errorf("CLOSE_WAIT socket %+v: want tcp 10.0.0.7:* -> 10.0.0.5:7000, unread data, uid 10001, owned by [4242]", s)
		}
		if s.Local.Port() < 32768 || s.Local.Port() > 60999 {
			t.Errorf("CLOSE_WAIT local port %d outside the ephemeral range", s.Local.Port())
		}
		ports[s.Local.Port()] = true
	}
	if len(ports) != 1987 {
		t.Errorf("CLOSE_WAIT sockets use %d distinct local ports, want 1987", len(ports))
	}
}

func TestScanIncidentPeer(t *testing.T) {
	snap := scanFixture(t, fixtureFS(t, "incident/peer"), Options{})
	if snap.Hostname != "slowsvc-1" || len(snap.Warnings) != 0 {
		t.Errorf("Hostname, Warnings = %q, %q; want slowsvc-1, none", snap.Hostname, snap.Warnings)
	}
	wantProcs := []Process{
		{PID: 1, Name: "systemd", User: "root", Cmdline: "/sbin/init", FDs: 6, SocketFDs: 1,
			FDSoftLimit: 1073741816, FDHardLimit: 1073741816, NetNS: fixtureHostNS, StartTime: 1013, State: 'S'},
		// stdin, journald on stdout and stderr (one socket, two fds),
		// epoll, eventfd, listener, 3 ESTABLISHED, 2 FIN_WAIT2.
		{PID: 3100, Name: "slowsvc", User: "10002", Cmdline: "/opt/slowsvc/bin/slowsvc --listen :7000",
			FDs: 11, SocketFDs: 8, FDSoftLimit: 65536, FDHardLimit: 65536, NetNS: fixtureHostNS, StartTime: 41300, State: 'S'},
	}
	if diff := cmp.Diff(wantProcs, snap.Processes); diff != "" {
		t.Errorf("Processes mismatch (-want +got):\n%s", diff)
	}

	wantStates := map[TCPState]int{Listen: 1, Established: 3, FinWait2: 152, TimeWait: 8}
	if diff := cmp.Diff(wantStates, countStates(snap.Sockets)); diff != "" {
		t.Errorf("states mismatch (-want +got):\n%s", diff)
	}

	owned := map[TCPState]int{}
	for _, s := range ownedBy(snap.Sockets, 3100) {
		owned[s.State]++
		local := "10.0.0.5:7000"
		if s.State == Listen {
			local = "0.0.0.0:7000"
		}
		if s.Local != netip.MustParseAddrPort(local) || s.UID != 10002 {
			t.Errorf("slowsvc socket %+v: want local %s, uid 10002", s, local)
		}
		if s.State == FinWait2 && s.Timer != 0 {
			t.Errorf("half-closed FIN_WAIT2 %v has timer %d; an owned FIN_WAIT2 has none", s.Remote, s.Timer)
		}
	}
	if diff := cmp.Diff(map[TCPState]int{Listen: 1, Established: 3, FinWait2: 2}, owned); diff != "" {
		t.Errorf("slowsvc's connections mismatch (-want +got):\n%s", diff)
	}

	orphans := 0
	for _, s := range inState(snap.Sockets, FinWait2) {
		if len(s.PIDs) > 0 {
			continue
		}
		orphans++
		if s.Inode != 0 || s.Timer != 3 || s.TimerTicks == 0 || s.TimerTicks > 60*100 ||
			s.Local != netip.MustParseAddrPort("10.0.0.5:7000") || s.Remote.Addr() != netip.MustParseAddr("10.0.0.7") {
			t.Errorf("orphaned FIN_WAIT2 %+v: want inode 0, timer 3 within tcp_fin_timeout, 10.0.0.5:7000 -> 10.0.0.7", s)
		}
	}
	if orphans != 150 {
		t.Errorf("%d orphaned FIN_WAIT2, want 150", orphans)
	}
	if snap.System.FinTimeout != 60 {
		t.Errorf("FinTimeout = %d, want 60", snap.System.FinTimeout)
	}
	checkSorted(t, snap.Sockets)
}

// TestIncidentTreesAgree checks that the two ends of the incident tell the
// same story: the peer's FIN_WAIT2 are the client's CLOSE_WAIT, and the
// live connections are the same on both sides.
func TestIncidentTreesAgree(t *testing.T) {
	client := scanFixture(t, fixtureFS(t, "incident/client"), Options{})
	peer := scanFixture(t, fixtureFS(t, "incident/peer"), Options{})
	peerAddr := netip.MustParseAddrPort("10.0.0.5:7000")
	clientSide := map[netip.AddrPort]TCPState{}
	for _, s := range client.Sockets {
		if s.Remote == peerAddr {
			clientSide[s.Local] = s.State
		}
	}
	// Count first: the loops below pass when nothing matched.
	if len(clientSide) != 1990 {
		t.Fatalf("the client has %d sockets with %v, want 1990 (1987 CLOSE_WAIT, 3 ESTABLISHED)", len(clientSide), peerAddr)
	}
	compared := 0
	for _, s := range peer.Sockets {
		if s.Local != peerAddr || s.Remote.Addr() != netip.MustParseAddr("10.0.0.7") {
			continue
		}
		compared++
		want := map[TCPState]TCPState{FinWait2: CloseWait, Established: Established}[s.State]
		if got, ok := clientSide[s.Remote]; !ok || got != want {
			t.Errorf("peer's %v with %v: the client has %v, want %v", s.State, s.Remote, got, want)
		}
	}
	if compared != 155 {
		t.Errorf("the peer has %d sockets with the client, want 155 (3 ESTABLISHED, 2 owned and 150 orphaned FIN_WAIT2)", compared)
	}
}

func TestScanHealthy(t *testing.T) {
	snap := scanFixture(t, fixtureFS(t, "healthy"), Options{})
	wantProcs := []Process{
		{PID: 1, Name: "systemd", User: "root", Cmdline: "/sbin/init", FDs: 6, SocketFDs: 1,
			FDSoftLimit: 1073741816, FDHardLimit: 1073741816, NetNS: fixtureHostNS, StartTime: 1013, State: 'S'},
		{PID: 700, Name: "sshd", User: "root", Cmdline: "sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups",
			FDs: 5, SocketFDs: 2, FDSoftLimit: 1024, FDHardLimit: 524288, NetNS: fixtureHostNS, StartTime: 10100, State: 'S'},
		{PID: 900, Name: "nginx", User: "root", Cmdline: "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;",
			FDs: 10, SocketFDs: 5, FDSoftLimit: 1024, FDHardLimit: 524288, NetNS: fixtureHostNS, StartTime: 12700, State: 'S'},
		{PID: 901, Name: "nginx", User: "10003", Cmdline: "nginx: worker process",
			FDs: 16, SocketFDs: 9, FDSoftLimit: 8192, FDHardLimit: 8192, NetNS: fixtureHostNS, StartTime: 12713, State: 'S'},
		{PID: 902, Name: "nginx", User: "10003", Cmdline: "nginx: worker process",
			FDs: 14, SocketFDs: 7, FDSoftLimit: 8192, FDHardLimit: 8192, NetNS: fixtureHostNS, StartTime: 12726, State: 'S'},
	}
	if diff := cmp.Diff(wantProcs, snap.Processes); diff != "" {
		t.Errorf("Processes mismatch (-want +got):\n%s", diff)
	}
	for _, p := range snap.Processes {
		if p.FDs*100 >= int(p.FDSoftLimit) { // under 1%
			t.Errorf("pid %d uses %d of %d fds; the healthy host's use is low", p.PID, p.FDs, p.FDSoftLimit)
		}
	}

	wantListen := []sockView{
		{TCP, "0.0.0.0:22", "0.0.0.0:0", Listen, fixtureHostNS, []int{700}},
		// Shared after fork: every nginx process holds them, sorted.
		{TCP, "0.0.0.0:80", "0.0.0.0:0", Listen, fixtureHostNS, []int{900, 901, 902}},
		{TCP, "0.0.0.0:443", "0.0.0.0:0", Listen, fixtureHostNS, []int{900, 901, 902}},
		{TCP6, "[::]:22", "[::]:0", Listen, fixtureHostNS, []int{700}},
	}
	if diff := cmp.Diff(wantListen, views(inState(snap.Sockets, Listen))); diff != "" {
		t.Errorf("listeners mismatch (-want +got):\n%s", diff)
	}

	perClient := map[string]int{}
	perWorker := map[int]int{}
	for _, s := range inState(snap.Sockets, Established) {
		if p := s.Local.Port(); p != 80 && p != 443 {
			continue
		}
		perClient[s.Remote.Addr().String()]++
		if len(s.PIDs) != 1 {
			t.Errorf("inbound %v has owners %v, want one worker", s.Remote, s.PIDs)
			continue
		}
		perWorker[s.PIDs[0]]++
	}
	if diff := cmp.Diff(map[string]int{"192.0.2.10": 3, "192.0.2.11": 3, "192.0.2.12": 1}, perClient); diff != "" {
		t.Errorf("inbound connections per client mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[int]int{901: 4, 902: 3}, perWorker); diff != "" {
		t.Errorf("inbound connections per worker mismatch (-want +got):\n%s", diff)
	}

	pg := views(ownedBy(snap.Sockets, 901))
	if !slices.ContainsFunc(pg, func(v sockView) bool {
		return v.Local == "10.0.0.10:39702" && v.Remote == "10.0.0.20:5432" && v.State == Established && slices.Equal(v.PIDs, []int{901})
	}) {
		t.Errorf("worker 901's sockets %v: want ESTABLISHED 10.0.0.10:39702 -> 10.0.0.20:5432", pg)
	}

	tw := inState(snap.Sockets, TimeWait)
	if len(tw) != 4 {
		t.Errorf("%d TIME_WAIT, want 4", len(tw))
	}
	for _, s := range tw {
		if len(s.PIDs) != 0 || s.Inode != 0 {
			t.Errorf("TIME_WAIT %v: owners %v, inode %d; want none, 0", s.Remote, s.PIDs, s.Inode)
		}
	}
	if len(snap.Warnings) != 0 {
		t.Errorf("Warnings = %q, want none", snap.Warnings)
	}
	checkSorted(t, snap.Sockets)
}

func TestScanIPv6(t *testing.T) {
	snap := scanFixture(t, fixtureFS(t, "ipv6"), Options{})
	own := []int{600}
	// In Scan's order: IPv4 (including the unmapped addresses) before IPv6.
	want := []sockView{
		{TCP6, "10.0.0.9:443", "192.0.2.44:40022", Established, fixtureHostNS, own}, // was ::ffff:10.0.0.9
		{TCP, "10.0.0.9:38000", "10.0.0.20:5432", Established, fixtureHostNS, own},
		{TCP, "127.0.0.1:9901", "0.0.0.0:0", Listen, fixtureHostNS, own},
		{TCP6, "[::]:443", "[::]:0", Listen, fixtureHostNS, own},
		{TCP6, "[::1]:8080", "[::]:0", Listen, fixtureHostNS, own},
		{TCP6, "[::1]:8080", "[::1]:45678", Established, fixtureHostNS, own},
		{TCP6, "[::1]:45678", "[::1]:8080", Established, fixtureHostNS, own},
		{TCP6, "[2001:db8::1]:443", "[2001:db8:0:1::20]:50312", Established, fixtureHostNS, own},
		{TCP6, "[2001:db8::1]:443", "[2001:db8:0:1::21]:50400", TimeWait, fixtureHostNS, nil},
		{TCP6, "[2001:db8::1]:41000", "[2001:db8::53]:80", CloseWait, fixtureHostNS, own},
		{TCP6, "[2001:db8::1]:52000", "[2001:db8:ffff::1]:443", SynSent, fixtureHostNS, own},
	}
	if diff := cmp.Diff(want, views(snap.Sockets)); diff != "" {
		t.Errorf("Sockets mismatch (-want +got):\n%s", diff)
	}
	for _, s := range snap.Sockets {
		if s.Local.Addr().Is4In6() || s.Remote.Addr().Is4In6() {
			t.Errorf("%v -> %v: IPv4-mapped address left mapped", s.Local, s.Remote)
		}
		switch s.State {
		case SynSent:
			if s.Retransmits != 3 || s.Timer != 1 || s.TimerTicks != 0x1F4 {
				t.Errorf("SYN_SENT: retransmits %d, timer %d:%#x; want 3, 1:0x1f4", s.Retransmits, s.Timer, s.TimerTicks)
			}
		case Established:
			if s.Remote == netip.MustParseAddrPort("10.0.0.20:5432") && (s.Timer != 4 || s.Timeout != 2 || s.TxQueue != 0x1000) {
				t.Errorf("zero-window socket: timer %d, probes %d, tx_queue %#x; want 4, 2, 0x1000", s.Timer, s.Timeout, s.TxQueue)
			}
		}
	}
	if p := snap.Processes[1]; p.PID != 600 || p.Name != "haproxy" || p.SocketFDs != 10 ||
		p.Cmdline != "/usr/sbin/haproxy -Ws -f /etc/haproxy/haproxy.cfg -p /run/haproxy.pid" {
		t.Errorf("Processes[1] = %+v, want haproxy 600 with 10 socket fds", p)
	}
}

func TestScanErrors(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		tree    string
		ctx     context.Context
		wantErr string // after the tree's proc root
		is      error
	}{
		{name: "missing net/tcp", tree: "broken/missing_tcp", ctx: context.Background(), wantErr: filepath.Join("net", "tcp") + ": no such file or directory", is: fs.ErrNotExist},
		{name: "malformed net/tcp", tree: "broken/malformed_tcp", ctx: context.Background(), wantErr: filepath.Join("net", "tcp") + `:4: remote address: "3C0200C0C351": missing ':'`},
		{name: "canceled", tree: "healthy", ctx: canceled, is: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fixtureFS(t, tt.tree)
			snap, err := Scan(tt.ctx, fsys, Options{})
			if err == nil {
				t.Fatalf("Scan() = %d sockets, nil error; want an error", len(snap.Sockets))
			}
			if snap != nil {
				t.Errorf("Scan() returned a snapshot with its error")
			}
			if want := filepath.Join(fsys.Root(), tt.wantErr); tt.wantErr != "" && !strings.Contains(err.Error(), want) {
				t.Errorf("Scan() error = %v, want it to contain %q", err, want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Scan() error = %v, want errors.Is %v", err, tt.is)
			}
		})
	}

	t.Run("malformed container table", func(t *testing.T) {
		root := copyTree(t, "netns")
		writeFixtureFile(t, filepath.Join(root, "5001", "net", "tcp"), tcpHeader+"   0: junk\n")
		fsys, err := NewFS(root)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Scan(context.Background(), fsys, Options{})
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Path != filepath.Join(root, "5001", "net", "tcp") || pe.Line != 2 {
			t.Errorf("Scan() error = %v, want a ParseError at 5001/net/tcp:2", err)
		}
	})

	t.Run("missing proc root", func(t *testing.T) {
		root := copyTree(t, "healthy")
		fsys, err := NewFS(root)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(root); err != nil {
			t.Fatal(err)
		}
		if _, err := Scan(context.Background(), fsys, Options{}); err == nil || !strings.Contains(err.Error(), "could not read proc root") {
			t.Errorf("Scan() error = %v, want could not read proc root", err)
		}
	})
}

// TestScanDegraded: damage that is not the socket table's costs a warning,
// not the scan.
func TestScanDegraded(t *testing.T) {
	t.Run("missing sockstat", func(t *testing.T) {
		root := copyTree(t, "healthy")
		if err := os.Remove(filepath.Join(root, "net", "sockstat")); err != nil {
			t.Fatal(err)
		}
		fsys, err := NewFS(root)
		if err != nil {
			t.Fatal(err)
		}
		snap := scanFixture(t, fsys, Options{})
		want := "some system counters are missing: open " + filepath.Join(root, "net", "sockstat")
		if len(snap.Warnings) != 1 || !strings.HasPrefix(snap.Warnings[0], want) {
			t.Errorf("Warnings = %q, want one starting with %q", snap.Warnings, want)
		}
		if len(snap.Sockets) != 16 || snap.System.FinTimeout != 60 || snap.System.TCPInUse != 0 {
			t.Errorf("%d sockets, FinTimeout %d, TCPInUse %d; want 16, 60, 0", len(snap.Sockets), snap.System.FinTimeout, snap.System.TCPInUse)
		}
	})

	// A crafted sockstat (any file under a --proc-root is someone's)
	// claims more sockets than memory holds: the estimate that sizes the
	// socket slice is bounded, so the scan neither panics (makeslice: cap
	// out of range) nor reserves what the tables do not hold.
	for _, row := range []string{
		"TCP: inuse 4611686018427387904 orphan 0 tw 0 alloc 1 mem 1",
		"TCP: inuse 18446744073709551615 orphan 0 tw 18446744073709551615 alloc 1 mem 1", // the sum wraps
		"TCP: inuse 9223372036854775807 orphan 0 tw 1 alloc 1 mem 1",                     // the sum is negative as an int
	} {
		t.Run("crafted sockstat "+strings.Fields(row)[2], func(t *testing.T) {
			root := copyTree(t, "healthy")
			writeFixtureFile(t, filepath.Join(root, "net", "sockstat"), "sockets: used 1\n"+row+"\n")
			fsys, err := NewFS(root)
			if err != nil {
				t.Fatal(err)
			}
			snap := scanFixture(t, fsys, Options{})
			if len(snap.Sockets) != 16 {
				t.Errorf("%d sockets, want the tree's 16", len(snap.Sockets))
			}
		})
	}

	// A malformed limits file leaves the limits unknown (0) and says so;
	// the process and its sockets stay.
	t.Run("malformed limits", func(t *testing.T) {
		root := copyTree(t, "healthy")
		limits := filepath.Join(root, "902", "limits")
		writeFixtureFile(t, limits, limitsText("lots", "8192"))
		fsys, err := NewFS(root)
		if err != nil {
			t.Fatal(err)
		}
		snap := scanFixture(t, fsys, Options{})
		want := "pid 902: fd limits unknown: " + limits + `:9: soft limit:`
		if len(snap.Warnings) != 1 || !strings.HasPrefix(snap.Warnings[0], want) {
			t.Errorf("Warnings = %q, want one starting with %q", snap.Warnings, want)
		}
		i := slices.IndexFunc(snap.Processes, func(p Process) bool { return p.PID == 902 })
		if i < 0 {
			t.Fatal("pid 902 is missing")
		}
		if p := snap.Processes[i]; p.FDSoftLimit != 0 || p.FDHardLimit != 0 || p.FDs != 14 {
			t.Errorf("pid 902: FDs %d, limits %d/%d; want 14, 0/0", p.FDs, p.FDSoftLimit, p.FDHardLimit)
		}
		if n := len(ownedBy(snap.Sockets, 902)); n != 5 {
			t.Errorf("pid 902 owns %d sockets, want 5 (2 listeners, 3 connections)", n)
		}
	})
}

// TestScanCountsFixtureDescriptors: when no socket can match (a filtered
// dump that found none) the walk may only count descriptors, from the fd
// directory's size, but only on a real procfs: a fixture tree's fd/ is a
// directory on a disk, whose size is not its number of entries. Every
// owner source must keep that rule.
func TestScanCountsFixtureDescriptors(t *testing.T) {
	fsys := fixtureFS(t, "healthy")
	entries, err := os.ReadDir(fsys.path("901", "fd"))
	if err != nil {
		t.Fatal(err)
	}
	snap := scanFixture(t, fsys, Options{DumpStates: []TCPState{SynSent}}) // the tree holds none
	if len(snap.Sockets) != 0 {
		t.Fatalf("%d SYN_SENT sockets in the healthy tree, want none", len(snap.Sockets))
	}
	i := slices.IndexFunc(snap.Processes, func(p Process) bool { return p.PID == 901 })
	if i < 0 {
		t.Fatal("pid 901 not scanned")
	}
	if p := snap.Processes[i]; p.FDs != len(entries) || p.SocketFDs < 0 {
		t.Errorf("pid 901: %d fds (%d sockets), want the %d entries of its fd directory, walked", p.FDs, p.SocketFDs, len(entries))
	}
}

// TestScanMalformedProcessDirs: in a tree that is not a real procfs (a
// copy, a mount of something else), a PID directory that is malformed is
// not a process that exited: the scan says which file is wrong, instead of
// dropping the process in silence. On a real procfs a missing file is a
// process exiting, and stays silent.
func TestScanMalformedProcessDirs(t *testing.T) {
	root := copyTree(t, "healthy")
	fd901 := filepath.Join(root, "901", "fd")
	if err := os.RemoveAll(fd901); err != nil {
		t.Fatal(err)
	}
	writeFixtureFile(t, fd901, "not a directory\n") // fd a file
	fd902 := filepath.Join(root, "902", "fd")
	if err := os.RemoveAll(fd902); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("fd", fd902); err != nil { // fd a symlink loop
		t.Fatal(err)
	}
	ns700 := filepath.Join(root, "700", "ns", "net")
	if err := os.Remove(ns700); err != nil { // ns/net missing
		t.Fatal(err)
	}
	if err := os.Symlink("4242", filepath.Join(root, "4242")); err != nil { // the PID directory a loop
		t.Fatal(err)
	}
	fsys, err := NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	snap := scanFixture(t, fsys, Options{})
	for _, want := range []string{
		"pid 700: network namespace unknown: readlink " + ns700 + ": no such file or directory",
		"pid 901: could not be read: open " + fd901 + ": not a directory",
		"pid 902: could not be read: open " + fd902 + ": too many levels of symbolic links",
		"pid 4242: skipped: readlink " + filepath.Join(root, "4242", "ns", "net") + ": too many levels of symbolic links",
	} {
		if !slices.Contains(snap.Warnings, want) {
			t.Errorf("Warnings = %q, want %q", snap.Warnings, want)
		}
	}
	var pids []int
	for _, p := range snap.Processes {
		pids = append(pids, p.PID)
	}
	// 700 keeps its sockets (its namespace is the host's, read through
	// others); 901, 902 and 4242 could not be read.
	if want := []int{1, 700, 900}; !slices.Equal(pids, want) {
		t.Errorf("processes %v, want %v", pids, want)
	}
	if n := len(ownedBy(snap.Sockets, 700)); n != 2 {
		t.Errorf("pid 700 owns %d sockets, want its 2 listeners", n)
	}
}

// TestScanNoProcessDirs: a proc root with no PID directories (--proc-root
// /proc/self, a process's own directory) shows no process: the snapshot
// says what the root holds rather than reading as a quiet host.
func TestScanNoProcessDirs(t *testing.T) {
	root := copyTree(t, "healthy")
	for _, pid := range []string{"1", "700", "900", "901", "902"} {
		if err := os.RemoveAll(filepath.Join(root, pid)); err != nil {
			t.Fatal(err)
		}
	}
	fsys, err := NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	snap := scanFixture(t, fsys, Options{})
	want := "no process directories under " + root
	if len(snap.Processes) != 0 || !slices.ContainsFunc(snap.Warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
		t.Errorf("%d processes, Warnings = %q; want none and one starting with %q", len(snap.Processes), snap.Warnings, want)
	}
}

// TestScanPanicReachesCaller: a panic in one of the scan's goroutines (the
// table read, a walker) is raised again in the goroutine that called Scan,
// where sockleak check -o nagios recovers it to say UNKNOWN; left in its
// own goroutine it ended the program.
func TestScanPanicReachesCaller(t *testing.T) {
	for _, fault := range []string{"self/ns/net", "901/fd"} {
		t.Run(fault, func(t *testing.T) {
			fsys := fixtureFS(t, "healthy")
			fsys.faults = map[string]error{fault: panicFault("injected at " + fault)}
			var got any
			func() {
				defer func() { got = recover() }()
				_, _ = Scan(context.Background(), fsys, Options{})
			}()
			want := "injected at " + fault + " [in a scan goroutine]"
			if s, ok := got.(string); !ok || !strings.HasPrefix(s, want) || !strings.Contains(s, "goroutine ") {
				t.Errorf("recovered %v, want a panic starting %q with the goroutine's stack", got, want)
			}
		})
	}
}
