package report

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/inspect"
)

const hostNS = 4026531840

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// sock builds a socket; owners empty and inode 0 make it the kernel's.
func sock(state inspect.TCPState, local, remote string, inode uint64, pids ...int) inspect.Socket {
	return inspect.Socket{Proto: inspect.TCP, State: state, Local: ap(local), Remote: ap(remote),
		Inode: inode, PIDs: pids, NetNS: hostNS}
}

func many(n int, state inspect.TCPState, local func(i int) string, remote func(i int) string, pids ...int) []inspect.Socket {
	out := make([]inspect.Socket, n)
	for i := range out {
		var inode uint64 // the kernel's sockets have none
		if len(pids) > 0 {
			inode = uint64(1000 + i)
		}
		out[i] = sock(state, local(i), remote(i), inode, pids...)
	}
	return out
}

func proc(pid int, name string, fds int, soft int64) inspect.Process {
	return inspect.Process{PID: pid, Name: name, FDs: fds, FDSoftLimit: soft, FDHardLimit: soft * 2, NetNS: hostNS}
}

func snapshot(procs []inspect.Process, socks ...[]inspect.Socket) *inspect.Snapshot {
	s := &inspect.Snapshot{Time: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC), HostNetNS: hostNS, Processes: procs}
	for _, ss := range socks {
		s.Sockets = append(s.Sockets, ss...)
	}
	for _, so := range s.Sockets {
		if so.State == inspect.Listen {
			s.Listeners = append(s.Listeners, inspect.Listener{NetNS: so.NetNS, Addr: so.Local})
		}
	}
	return s
}

func ephemeral(ip string) func(int) string {
	return func(i int) string { return ip + ":" + strconv.Itoa(40000+i) }
}

func fixed(a string) func(int) string { return func(int) string { return a } }

type findingKey struct {
	Severity Severity
	Kind     string
	PID      int
	Peer     string
	Count    int
}

func keys(fs []Finding) []findingKey {
	out := []findingKey{}
	for _, f := range fs {
		out = append(out, findingKey{f.Severity, f.Kind, f.PID, f.Peer, f.Count})
	}
	return out
}

func TestFindings(t *testing.T) {
	cw := func(n int, pid int) []inspect.Socket {
		return many(n, inspect.CloseWait, ephemeral("10.0.0.7"), fixed("10.0.0.5:7000"), pid)
	}
	tests := []struct {
		name string
		snap *inspect.Snapshot
		want []findingKey
	}{{
		name: "one CLOSE_WAIT is a warning",
		snap: snapshot([]inspect.Process{proc(42, "client", 10, 1024)}, cw(1, 42)),
		want: []findingKey{{Warning, KindCloseWait, 42, "10.0.0.5:7000", 1}},
	}, {
		name: "fds at 80% of the soft limit make CLOSE_WAIT critical, and fd_pressure a warning",
		snap: snapshot([]inspect.Process{proc(42, "client", 820, 1024)}, cw(3, 42)),
		want: []findingKey{{Critical, KindCloseWait, 42, "10.0.0.5:7000", 3}, {Warning, KindFDPressure, 42, "", 820}},
	}, {
		name: "fds just under 80%: no fd_pressure, CLOSE_WAIT stays a warning",
		snap: snapshot([]inspect.Process{proc(42, "client", 818, 1024)}, cw(3, 42)),
		want: []findingKey{{Warning, KindCloseWait, 42, "10.0.0.5:7000", 3}},
	}, {
		name: "CLOSE_WAIT alone at 50% of the soft limit is critical",
		snap: snapshot([]inspect.Process{proc(42, "client", 70, 128)}, cw(64, 42)),
		want: []findingKey{{Critical, KindCloseWait, 42, "10.0.0.5:7000", 64}},
	}, {
		name: "unlimited soft limit: never critical",
		snap: snapshot([]inspect.Process{proc(42, "client", 5000, inspect.Unlimited)}, cw(4000, 42)),
		want: []findingKey{{Warning, KindCloseWait, 42, "10.0.0.5:7000", 4000}},
	}, {
		name: "fd_pressure without sockets, critical from 95%",
		snap: snapshot([]inspect.Process{proc(7, "filehog", 973, 1024)}),
		want: []findingKey{{Critical, KindFDPressure, 7, "", 973}},
	}, {
		name: "owned FIN_WAIT2 is a warning naming the peer",
		snap: snapshot([]inspect.Process{proc(3100, "svc", 10, 1024)},
			many(2, inspect.FinWait2, fixed("10.0.0.5:7000"), ephemeral("10.0.0.7"), 3100)),
		want: []findingKey{{Warning, KindFinWait2, 3100, "10.0.0.7:40000", 2}},
	}, {
		name: "orphaned FIN_WAIT2 below 10 per peer is info",
		snap: snapshot(nil, many(9, inspect.FinWait2, ephemeral("10.0.0.5"), fixed("10.0.0.9:5432"))),
		want: []findingKey{{Info, KindFinWait2, KernelPID, "10.0.0.9:5432", 9}},
	}, {
		name: "orphaned FIN_WAIT2 from 10 per peer is a warning",
		snap: snapshot(nil, many(10, inspect.FinWait2, ephemeral("10.0.0.5"), fixed("10.0.0.9:5432"))),
		want: []findingKey{{Warning, KindFinWait2, KernelPID, "10.0.0.9:5432", 10}},
	}, {
		name: "CLOSE_WAIT of an owner sockleak could not read",
		snap: snapshot(nil, []inspect.Socket{sock(inspect.CloseWait, "10.0.0.7:40000", "10.0.0.5:7000", 99)}),
		want: []findingKey{{Warning, KindCloseWait, UnknownPID, "10.0.0.5:7000", 1}},
	}, {
		name: "sorted by severity, then count",
		snap: snapshot([]inspect.Process{proc(1, "a", 10, 1024), proc(2, "b", 10, 1024), proc(3, "c", 900, 1024)},
			cw(5, 1), many(50, inspect.CloseWait, ephemeral("10.0.0.8"), fixed("10.0.0.6:80"), 2), cw(1, 3)),
		want: []findingKey{
			{Critical, KindCloseWait, 3, "10.0.0.5:7000", 1},
			{Warning, KindFDPressure, 3, "", 900},
			{Warning, KindCloseWait, 2, "10.0.0.6:80", 50},
			{Warning, KindCloseWait, 1, "10.0.0.5:7000", 5},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(tt.snap, DefaultThresholds)
			if diff := cmp.Diff(tt.want, keys(r.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindingMessages(t *testing.T) {
	snap := snapshot([]inspect.Process{proc(4242, "openser", 1997, 2048)},
		many(1987, inspect.CloseWait, ephemeral("10.0.0.7"), fixed("10.0.0.5:7000"), 4242),
		[]inspect.Socket{sock(inspect.CloseWait, "10.0.0.7:30000", "10.0.0.6:7000", 5, 4242)},
		many(12, inspect.FinWait2, ephemeral("10.0.0.7"), fixed("10.0.0.9:443")))
	snap.System.FinTimeout = 30
	r := Analyze(snap, DefaultThresholds)
	byKind := map[string]Finding{}
	for _, f := range r.Findings {
		byKind[f.Kind] = f
	}
	for kind, want := range map[string][]string{
		KindCloseWait: {"pid 4242 (openser) is not closing sockets its peer closed: 1988 in CLOSE_WAIT to 10.0.0.5:7000 and 1 other peer; 1997/2048 fds (98%)",
			"EMFILE (too many open files) at 2048"},
		KindFDPressure: {"pid 4242 (openser) uses 1997 of its 2048 file descriptors (98%)"},
		KindFinWait2:   {"12 orphaned FIN_WAIT2 sockets to 10.0.0.9:443: this host closed them, the peer has not"},
	} {
		f, ok := byKind[kind]
		if !ok {
			t.Errorf("no %s finding in %+v", kind, r.Findings)
			continue
		}
		for _, w := range want {
			if !strings.Contains(f.Message, w) {
				t.Errorf("%s message %q lacks %q", kind, f.Message, w)
			}
		}
	}
	if h := byKind[KindFinWait2].Hint; !strings.Contains(h, "tcp_fin_timeout (30 s)") || !strings.Contains(h, "run sockleak inspect on 10.0.0.9") {
		t.Errorf("fin_wait2 hint %q should quote tcp_fin_timeout and name the peer host", h)
	}
}

func TestGroupsPeers(t *testing.T) {
	v6 := sock(inspect.Established, "10.0.0.5:80", "10.0.0.3:51000", 30, 900)
	other := sock(inspect.Established, "10.0.0.5:9000", "10.0.0.4:51000", 31, 900)
	other.NetNS = 4026532500 // a listener on 9000 exists only in the other namespace
	snap := snapshot([]inspect.Process{proc(900, "nginx", 20, 1024), proc(901, "nginx", 20, 1024)},
		[]inspect.Socket{
			sock(inspect.Listen, "[::]:80", "[::]:0", 10, 900, 901), // dual-stack wildcard, shared after fork
			sock(inspect.Listen, "0.0.0.0:9000", "0.0.0.0:0", 11, 900),
		},
		many(3, inspect.Established, fixed("10.0.0.5:80"), ephemeral("10.0.0.1"), 901),
		many(2, inspect.Established, ephemeral("10.0.0.5"), fixed("10.0.0.20:5432"), 901),
		[]inspect.Socket{v6, sock(inspect.TimeWait, "10.0.0.5:80", "10.0.0.2:50000", 0), other},
	)
	r := Analyze(snap, DefaultThresholds)
	// Owners in the order of the process table: 901 holds more sockets.
	want := []Group{
		{901, hostNS, inspect.Established, "10.0.0.1", 3},
		{901, hostNS, inspect.Established, "10.0.0.20:5432", 2},
		{901, hostNS, inspect.Listen, "*", 1},
		{900, hostNS, inspect.Established, "10.0.0.3", 1},
		{900, 4026532500, inspect.Established, "10.0.0.4:51000", 1}, // no listener on 9000 in its namespace: outbound
		{900, hostNS, inspect.Listen, "*", 2},
		{KernelPID, hostNS, inspect.TimeWait, "10.0.0.2", 1},
	}
	if diff := cmp.Diff(want, r.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	// The shared listener counts for both owners.
	listen := map[int]int{}
	for _, p := range r.Processes {
		listen[p.PID] = p.States[inspect.Listen]
	}
	if diff := cmp.Diff(map[int]int{900: 2, 901: 1}, listen); diff != "" {
		t.Errorf("LISTEN per process (-want +got):\n%s", diff)
	}

	// As if --state hid the listening sockets: inbound is still known.
	snap.Sockets = slices.DeleteFunc(snap.Sockets, func(s inspect.Socket) bool { return s.State == inspect.Listen })
	want = slices.DeleteFunc(want, func(g Group) bool { return g.State == inspect.Listen })
	if diff := cmp.Diff(want, Analyze(snap, DefaultThresholds).Groups); diff != "" {
		t.Errorf("groups without listening sockets (-want +got):\n%s", diff)
	}
}

func TestSystemFindings(t *testing.T) {
	base := func() *inspect.Snapshot {
		s := snapshot(nil, many(100, inspect.TimeWait, func(i int) string { return fmt.Sprintf("10.0.0.7:%d", 40000+i) },
			func(int) string { return "10.0.0.5:7000" }))
		s.System = inspect.System{TCPTimeWait: 100, MaxTWBuckets: 1000, TCPOrphan: 950, MaxOrphans: 1000,
			FilesAllocated: 10, FileMax: 1000}
		return s
	}
	r := Analyze(base(), DefaultThresholds)
	want := []findingKey{{Critical, KindOrphans, 0, "", 950}, {Info, KindTimeWait, 0, "", 100}}
	if diff := cmp.Diff(want, keys(r.Findings)); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	s := base()
	s.System.FilesAllocated = 600
	s.System.TCPTimeWait = 500
	// sockstat's 500 timewait sockets (with orphaned FIN_WAIT2) weigh
	// against the limit; the finding counts the 100 in TIME_WAIT.
	want = []findingKey{{Critical, KindOrphans, 0, "", 950}, {Warning, KindFileNr, 0, "", 600}, {Warning, KindTimeWait, 0, "", 100}}
	if diff := cmp.Diff(want, keys(Analyze(s, DefaultThresholds).Findings)); diff != "" {
		t.Errorf("findings at 50%% (-want +got):\n%s", diff)
	}
	for _, mod := range []func(*inspect.Snapshot){
		func(s *inspect.Snapshot) { s.Selected = true },
		func(s *inspect.Snapshot) { s.Filtered = true },
	} {
		s := base()
		mod(s)
		if got := Analyze(s, DefaultThresholds).Findings; len(got) != 0 {
			t.Errorf("a selected or filtered view got host-wide findings: %+v", got)
		}
	}
}

// TestTimeWaitFinding checks what the time_wait finding calls TIME_WAIT:
// sockstat's tw also counts the orphaned FIN_WAIT2 sockets the kernel
// turned into timewait sockets, and the tables tell the two apart.
func TestTimeWaitFinding(t *testing.T) {
	tw := func(i int) string { return fmt.Sprintf("10.0.0.7:%d", 40000+i) }
	peer := func(int) string { return "10.0.0.5:7000" }
	for _, tt := range []struct {
		name        string
		sockstatTW  uint64
		tables      []inspect.Socket
		count       int
		wantMessage string
	}{
		{"only TIME_WAIT", 8, many(8, inspect.TimeWait, tw, peer),
			8, "8 sockets in TIME_WAIT (0.8% of tcp_max_tw_buckets 1000)"},
		{"with orphaned FIN_WAIT2", 158, slices.Concat(many(8, inspect.TimeWait, tw, peer), many(150, inspect.FinWait2, tw, peer)),
			8, "8 sockets in TIME_WAIT; 158 timewait sockets with the orphaned FIN_WAIT2 ones (16% of tcp_max_tw_buckets 1000)"},
		{"only orphaned FIN_WAIT2, near the limit", 600, many(600, inspect.FinWait2, tw, peer),
			600, "600 timewait sockets (orphaned FIN_WAIT2) (60% of tcp_max_tw_buckets 1000)"},
		{"no sockstat", 0, many(1, inspect.TimeWait, tw, peer),
			1, "1 socket in TIME_WAIT (0.1% of tcp_max_tw_buckets 1000)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := snapshot(nil, tt.tables)
			s.System = inspect.System{TCPTimeWait: tt.sockstatTW, MaxTWBuckets: 1000}
			findings := Analyze(s, DefaultThresholds).Findings
			i := slices.IndexFunc(findings, func(f Finding) bool { return f.Kind == KindTimeWait })
			if i < 0 {
				t.Fatal("no time_wait finding")
			}
			f := findings[i]
			if f.Count != tt.count || f.Message != tt.wantMessage {
				t.Errorf("count %d, message %q; want %d, %q", f.Count, f.Message, tt.count, tt.wantMessage)
			}
		})
	}
}

// TestNoTimeWaitFindingForFewOrphans: a few orphaned FIN_WAIT2 sockets
// (their own finding) and no TIME_WAIT make no time_wait finding.
func TestNoTimeWaitFindingForFewOrphans(t *testing.T) {
	s := snapshot(nil, many(50, inspect.FinWait2, func(i int) string { return fmt.Sprintf("10.0.0.7:%d", 40000+i) },
		func(int) string { return "10.0.0.5:7000" }))
	s.System = inspect.System{TCPTimeWait: 50, MaxTWBuckets: 131072}
	if slices.ContainsFunc(Analyze(s, DefaultThresholds).Findings, func(f Finding) bool { return f.Kind == KindTimeWait }) {
		t.Errorf("a time_wait finding for 50 orphaned FIN_WAIT2 sockets and no TIME_WAIT")
	}
}

func TestProcessesShown(t *testing.T) {
	snap := snapshot([]inspect.Process{proc(1, "init", 3, 1024), proc(2, "hog", 1000, 1024), proc(3, "web", 10, 1024)},
		[]inspect.Socket{sock(inspect.Listen, "0.0.0.0:80", "0.0.0.0:0", 5, 3)})
	r := Analyze(snap, DefaultThresholds)
	var got []int
	for _, p := range r.Processes {
		got = append(got, p.PID)
	}
	// hog has a finding and ranks first; web holds a socket; init neither.
	if diff := cmp.Diff([]int{2, 3}, got); diff != "" {
		t.Errorf("processes (-want +got):\n%s", diff)
	}
	snap.Selected = true
	if n := len(Analyze(snap, DefaultThresholds).Processes); n != 3 {
		t.Errorf("selected processes shown = %d, want all 3", n)
	}
}

func TestFDPressureWhenOnlyCounted(t *testing.T) {
	p := proc(7, "hog", 1000, 1024)
	p.SocketFDs = -1 // the scan only counted descriptors
	r := Analyze(snapshot([]inspect.Process{p}), DefaultThresholds)
	if len(r.Findings) != 1 || strings.Contains(r.Findings[0].Message, "sockets") {
		t.Errorf("findings = %+v, want one fd_pressure that does not guess at sockets", r.Findings)
	}
	p.SocketFDs = 990
	r = Analyze(snapshot([]inspect.Process{p}), DefaultThresholds)
	if len(r.Findings) != 1 || !strings.HasSuffix(r.Findings[0].Message, "; 990 are sockets") {
		t.Errorf("findings = %+v, want the socket share", r.Findings)
	}
}

// The table fits a screen: at most maxTableFindings findings, and each
// kind's hint once.
func TestTableFindingsFitAScreen(t *testing.T) {
	var procs []inspect.Process
	var socks []inspect.Socket
	for pid := 100; pid < 115; pid++ {
		procs = append(procs, proc(pid, "worker", 20, 1024))
		socks = append(socks, sock(inspect.CloseWait, "10.0.0.7:"+strconv.Itoa(pid), "10.0.0.5:7000", uint64(pid), pid))
	}
	r := Analyze(snapshot(procs, socks), DefaultThresholds)
	var b strings.Builder
	if err := Table(&b, r, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, "[close_wait]"); n != maxTableFindings {
		t.Errorf("%d findings shown, want %d", n, maxTableFindings)
	}
	if n := strings.Count(out, "hint: The peer sent FIN"); n != 1 {
		t.Errorf("close_wait hint shown %d times, want once", n)
	}
	if !strings.Contains(out, "(5 more findings not shown: sockleak inspect -o json lists them all)") {
		t.Errorf("no line for the findings left out:\n%s", out)
	}
}

// TestUsagePercent: fd usage is a percentage, rounded as it always was,
// from the share: 23 of 40 is 57.5%, shown as 57% (the share 0.575 is a
// hair below in binary).
func TestUsagePercent(t *testing.T) {
	for _, tt := range []struct {
		n     int
		limit int64
		want  int
	}{{1997, 2048, 98}, {820, 1024, 80}, {23, 40, 57}, {7, 200, 4}, {5, 0, 0}, {5, inspect.Unlimited, 0}} {
		if got := percent(usagePercent(tt.n, tt.limit)); got != tt.want {
			t.Errorf("%d of %d: %d%%, want %d%%", tt.n, tt.limit, got, tt.want)
		}
	}
}

// TestAnalyzeOwnerWithoutRow: Scan lists only processes it could read as
// owners, but Analyze is exported, and a snapshot built by hand may name
// an owner it does not list: that owner gets no row and nothing panics.
func TestAnalyzeOwnerWithoutRow(t *testing.T) {
	snap := &inspect.Snapshot{
		Processes: []inspect.Process{{PID: 7, Name: "svc", FDs: 3, FDSoftLimit: 1024}},
		Sockets: []inspect.Socket{
			sock(inspect.CloseWait, "127.0.0.1:40000", "127.0.0.1:7000", 11, 7),
			sock(inspect.CloseWait, "127.0.0.1:40001", "127.0.0.1:7000", 12, 99), // pid 99 is not listed
		},
	}
	r := Analyze(snap, DefaultThresholds)
	if len(r.Processes) != 1 || r.Processes[0].PID != 7 || r.Processes[0].Sockets != 1 {
		t.Fatalf("rows = %+v, want pid 7 alone with its 1 socket", r.Processes)
	}
}

// A system without /proc (the gopsutil backend off Linux) has no counters
// and no fd limits: the table shows no SYSTEM line of zeros and no
// fd_pressure finding however many descriptors are open (the backend's
// warning, on stderr, says why).
func TestTableWithoutCountersOrLimits(t *testing.T) {
	snap := snapshot([]inspect.Process{proc(42, "client", 5000, 0)}, many(3, inspect.CloseWait, ephemeral("10.0.0.7"), fixed("10.0.0.5:7000"), 42))
	snap.System = inspect.System{}
	snap.Warnings = []string{"the gopsutil backend gives no open-files limits on darwin (no fd_pressure finding, no time to EMFILE)"}
	r := Analyze(snap, DefaultThresholds)
	var b strings.Builder
	if err := Table(&b, r, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{"SYSTEM", "[fd_pressure]", "EMFILE) at"} {
		if strings.Contains(out, bad) {
			t.Errorf("table shows %q:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, "[close_wait]") {
		t.Errorf("want the close_wait finding:\n%s", out)
	}
}
