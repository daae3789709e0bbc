package inspect

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// scanFilterTests are TestScanFilters' cases, on the incident/client tree.
var scanFilterTests = []struct {
	name      string
	opts      Options
	wantProcs []int
	wantCount int
	keep      func(Socket) bool // every socket returned must pass
	selected  bool
	filtered  bool
	warnings  []string
}{
	{name: "all", wantProcs: []int{1, 812, 4242}, wantCount: 1999},
	{
		name: "pid", opts: Options{PIDs: []int{4242}}, wantProcs: []int{4242}, wantCount: 1991, selected: true,
		keep: func(s Socket) bool { return slices.Equal(s.PIDs, []int{4242}) },
	},
	{
		name: "two pids, repeated and unsorted", opts: Options{PIDs: []int{4242, 812, 4242}}, wantProcs: []int{812, 4242},
		wantCount: 1994, selected: true, keep: func(s Socket) bool { return len(s.PIDs) == 1 },
	},
	{
		name: "a pid and a missing one", opts: Options{PIDs: []int{812, 99999}}, wantProcs: []int{812}, wantCount: 3,
		selected: true, warnings: []string{"pid 99999: no such process"},
	},
	{name: "pid without TCP", opts: Options{PIDs: []int{1}}, wantProcs: []int{1}, wantCount: 0, selected: true},
	{name: "name", opts: Options{Name: "openser"}, wantProcs: []int{4242}, wantCount: 1991, selected: true},
	{name: "name, other case", opts: Options{Name: "OpenSER"}, wantProcs: []int{4242}, wantCount: 1991, selected: true},
	{name: "name matches the command line", opts: Options{Name: "openser.CFG"}, wantProcs: []int{4242}, wantCount: 1991, selected: true},
	{name: "name matches sshd's title", opts: Options{Name: "[listener]"}, wantProcs: []int{812}, wantCount: 3, selected: true},
	{name: "name matches part of two", opts: Options{Name: "s"}, wantProcs: []int{1, 812, 4242}, wantCount: 1994, selected: true},
	{
		name: "state", opts: Options{States: []TCPState{CloseWait}}, wantProcs: []int{1, 812, 4242}, wantCount: 1987, filtered: true,
		keep: func(s Socket) bool { return s.State == CloseWait },
	},
	{
		name: "two states", opts: Options{States: []TCPState{CloseWait, Established}}, wantProcs: []int{1, 812, 4242},
		wantCount: 1991, filtered: true, keep: func(s Socket) bool { return s.State == CloseWait || s.State == Established },
	},
	{
		name: "unowned TIME_WAIT", opts: Options{States: []TCPState{TimeWait}}, wantProcs: []int{1, 812, 4242},
		wantCount: 5, filtered: true, keep: func(s Socket) bool { return len(s.PIDs) == 0 },
	},
	{
		name: "selection hides unowned sockets", opts: Options{Name: "openser", States: []TCPState{TimeWait}},
		wantProcs: []int{4242}, wantCount: 0, selected: true, filtered: true,
	},
	{
		name: "local port", opts: Options{Ports: []uint16{22}}, wantProcs: []int{1, 812, 4242}, wantCount: 3, filtered: true,
		keep: func(s Socket) bool { return s.Local.Port() == 22 },
	},
	{
		name: "remote port", opts: Options{Ports: []uint16{7000}}, wantProcs: []int{1, 812, 4242}, wantCount: 1990, filtered: true,
		keep: func(s Socket) bool { return s.Remote.Port() == 7000 },
	},
	{
		name: "peer with port", opts: Options{Peers: []Peer{peerOf("10.0.0.5:7000")}}, wantProcs: []int{1, 812, 4242},
		wantCount: 1990, filtered: true,
	},
	{
		name: "peer CIDR", opts: Options{Peers: []Peer{peerOf("192.0.2.0/24")}}, wantProcs: []int{1, 812, 4242},
		wantCount: 1, filtered: true, keep: func(s Socket) bool { return s.Remote == netip.MustParseAddrPort("192.0.2.10:51234") },
	},
	{
		name: "two peers", opts: Options{Peers: []Peer{peerOf("10.0.0.30"), peerOf("192.0.2.10")}}, wantProcs: []int{1, 812, 4242},
		wantCount: 6, filtered: true,
	},
	{
		name: "peer on the wrong port", opts: Options{Peers: []Peer{peerOf("10.0.0.5:7001")}}, wantProcs: []int{1, 812, 4242},
		wantCount: 0, filtered: true,
	},
	{
		name: "everything at once", opts: Options{PIDs: []int{4242}, States: []TCPState{Established}, Ports: []uint16{7000}, Peers: []Peer{peerOf("10.0.0.0/24")}},
		wantProcs: []int{4242}, wantCount: 3, selected: true, filtered: true,
		keep: func(s Socket) bool {
			return s.State == Established && s.Remote == netip.MustParseAddrPort("10.0.0.5:7000")
		},
	},
}

// peerOf is ParsePeer for a table of tests: it panics on a bad peer.
func peerOf(s string) Peer {
	p, err := ParsePeer(s)
	if err != nil {
		panic(err)
	}
	return p
}

func TestScanFilters(t *testing.T) {
	fsys := fixtureFS(t, "incident/client")
	for _, tt := range scanFilterTests {
		t.Run(tt.name, func(t *testing.T) {
			snap := scanFixture(t, fsys, tt.opts)
			var pids []int
			for _, p := range snap.Processes {
				pids = append(pids, p.PID)
			}
			if diff := cmp.Diff(tt.wantProcs, pids); diff != "" {
				t.Errorf("processes mismatch (-want +got):\n%s", diff)
			}
			if len(snap.Sockets) != tt.wantCount {
				t.Errorf("%d sockets, want %d", len(snap.Sockets), tt.wantCount)
			}
			for _, s := range snap.Sockets {
				if tt.keep != nil && !tt.keep(s) {
					t.Errorf("socket %+v should have been filtered out", s)
					break
				}
			}
			if snap.Selected != tt.selected || snap.Filtered != tt.filtered {
				t.Errorf("Selected, Filtered = %v, %v; want %v, %v", snap.Selected, snap.Filtered, tt.selected, tt.filtered)
			}
			if diff := cmp.Diff(tt.warnings, snap.Warnings); diff != "" {
				t.Errorf("Warnings mismatch (-want +got):\n%s", diff)
			}
			// Listeners ignore the filters.
			if len(snap.Listeners) != 3 {
				t.Errorf("%d Listeners, want 3 whatever the filters", len(snap.Listeners))
			}
		})
	}
}

func TestParsePeer(t *testing.T) {
	pfx := netip.MustParsePrefix
	tests := []struct {
		in      string
		want    Peer
		str     string
		wantErr string
	}{
		{in: "10.0.0.5", want: Peer{Prefix: pfx("10.0.0.5/32")}, str: "10.0.0.5"},
		{in: "10.0.0.5:7000", want: Peer{Prefix: pfx("10.0.0.5/32"), Port: 7000}, str: "10.0.0.5:7000"},
		{in: "10.0.0.0/8", want: Peer{Prefix: pfx("10.0.0.0/8")}, str: "10.0.0.0/8"},
		{in: "10.1.2.3/8", want: Peer{Prefix: pfx("10.0.0.0/8")}, str: "10.0.0.0/8"}, // masked
		{in: "0.0.0.0/0", want: Peer{Prefix: pfx("0.0.0.0/0")}, str: "0.0.0.0/0"},
		{in: "::1", want: Peer{Prefix: pfx("::1/128")}, str: "::1"},
		{in: "2001:db8::/32", want: Peer{Prefix: pfx("2001:db8::/32")}, str: "2001:db8::/32"},
		{in: "[2001:db8::1]:443", want: Peer{Prefix: pfx("2001:db8::1/128"), Port: 443}, str: "[2001:db8::1]:443"},
		// Sockets are unmapped, so peers are too.
		{in: "::ffff:10.0.0.9", want: Peer{Prefix: pfx("10.0.0.9/32")}, str: "10.0.0.9"},
		{in: "[::ffff:10.0.0.9]:80", want: Peer{Prefix: pfx("10.0.0.9/32"), Port: 80}, str: "10.0.0.9:80"},
		{in: "::ffff:10.0.0.0/104", want: Peer{Prefix: pfx("10.0.0.0/8")}, str: "10.0.0.0/8"},
		{in: "garbage", wantErr: `invalid peer "garbage": want IP, IP:port or CIDR`},
		{in: "", wantErr: `invalid peer ""`},
		{in: "10.0.0.5:99999", wantErr: `invalid peer "10.0.0.5:99999"`},
		{in: "10.0.0.0/33", wantErr: `invalid peer "10.0.0.0/33"`},
		{in: "10.0.0.256", wantErr: `invalid peer "10.0.0.256"`},
		{in: "2001:db8::1:443", want: Peer{Prefix: pfx("2001:db8::1:443/128")}, str: "2001:db8::1:443"}, // an address, not a port
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePeer(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParsePeer(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, netipComparers); diff != "" {
				t.Errorf("ParsePeer(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
			if s := got.String(); s != tt.str {
				t.Errorf("ParsePeer(%q).String() = %q, want %q", tt.in, s, tt.str)
			}
		})
	}
}

func TestPeerMatch(t *testing.T) {
	tests := []struct {
		peer   string
		remote string
		want   bool
	}{
		{"10.0.0.5", "10.0.0.5:7000", true},
		{"10.0.0.5", "10.0.0.50:7000", false},
		{"10.0.0.5:7000", "10.0.0.5:7000", true},
		{"10.0.0.5:7000", "10.0.0.5:7001", false},
		{"10.0.0.0/24", "10.0.0.7:22", true},
		{"10.0.0.0/24", "10.0.1.7:22", false},
		{"::ffff:10.0.0.9", "10.0.0.9:443", true},
		{"::ffff:10.0.0.0/104", "10.0.0.9:443", true},
		{"2001:db8::/32", "[2001:db8:0:1::20]:50312", true},
		{"2001:db8::/32", "10.0.0.9:443", false},
		{"0.0.0.0/0", "[::1]:8080", false}, // families do not mix
	}
	for _, tt := range tests {
		t.Run(tt.peer+" "+tt.remote, func(t *testing.T) {
			if got := peerOf(tt.peer).Match(netip.MustParseAddrPort(tt.remote)); got != tt.want {
				t.Errorf("ParsePeer(%q).Match(%s) = %v, want %v", tt.peer, tt.remote, got, tt.want)
			}
		})
	}
}

// FuzzParsePeer: --peer is typed by people and scripts. Whatever it is,
// ParsePeer must not panic, and a peer it accepts must print back to text
// that parses to the same peer.
func FuzzParsePeer(f *testing.F) {
	for _, s := range []string{
		"10.0.0.5", "10.0.0.5:7000", "10.0.0.0/8", "::1", "[::1]:80", // the forms --help names
		"::ffff:10.0.0.0/104", // an IPv4-mapped prefix, unmapped
		"fe80::1%eth0",        // a zone
		"10.0.0.5:99999",      // a port past 65535
		"", "/", "[::1]",      // nothing, a bare slash, brackets without a port
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePeer(s)
		if err != nil {
			return
		}
		again, err := ParsePeer(p.String())
		if err != nil {
			t.Fatalf("ParsePeer(%q) = %v, whose String %q does not parse: %v", s, p, p.String(), err)
		}
		if again != p {
			t.Errorf("ParsePeer(%q) = %+v; its String %q parses to %+v", s, p, p.String(), again)
		}
	})
}
