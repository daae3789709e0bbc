package inspect

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSockstat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    System
		wantErr string
	}{
		{
			name: "kernel 6.x",
			in: "sockets: used 2011\nTCP: inuse 1993 orphan 0 tw 5 alloc 1994 mem 1532\n" +
				"UDP: inuse 2 mem 1\nUDPLITE: inuse 0\nRAW: inuse 0\nFRAG: inuse 0 memory 0\n",
			want: System{TCPInUse: 1993, TCPTimeWait: 5, TCPAlloc: 1994, TCPMem: 1532},
		},
		{
			name: "orphans",
			in:   "sockets: used 41\nTCP: inuse 6 orphan 150 tw 8 alloc 156 mem 3\n",
			want: System{TCPInUse: 6, TCPOrphan: 150, TCPTimeWait: 8, TCPAlloc: 156, TCPMem: 3},
		},
		{
			name: "unknown counters are ignored, order does not matter",
			in:   "TCP: mem 7 future 99 inuse 1\n",
			want: System{TCPInUse: 1, TCPMem: 7},
		},
		{name: "no TCP row", in: "sockets: used 2\nUDP: inuse 2 mem 1\n", wantErr: `line 2: no "TCP:" row`},
		{name: "empty", in: "", wantErr: `no "TCP:" row`},
		{name: "odd pair", in: "sockets: used 2\nTCP: inuse 1 orphan\n", wantErr: `line 2: want name value pairs: "TCP: inuse 1 orphan"`},
		{name: "bad number", in: "TCP: inuse x orphan 0 tw 0 alloc 1 mem 1\n", wantErr: `line 1: strconv.ParseUint: parsing "x": invalid syntax`},
		{name: "negative", in: "TCP: inuse -1 orphan 0 tw 0 alloc 1 mem 1\n", wantErr: "line 1: strconv.ParseUint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got System
			err := parseSockstat(strings.NewReader(tt.in), &got)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseSockstat() error = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("parseSockstat() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadSystemFixtures(t *testing.T) {
	tests := []struct {
		tree string
		want System
	}{
		{
			// 1987 CLOSE_WAIT + 3 ESTABLISHED + 1 LISTEN (openser) + LISTEN
			// and ESTABLISHED (sshd) = 1993 IPv4 sockets in use; 5
			// TIME_WAIT; alloc adds sshd's IPv6 listener.
			tree: "incident/client",
			want: System{
				FilesAllocated: 3264, FileMax: 9223372036854775807,
				TCPInUse: 1993, TCPOrphan: 0, TCPTimeWait: 5, TCPAlloc: 1994, TCPMem: 1532,
				FinTimeout: 60, MaxOrphans: 65536, MaxTWBuckets: 65536, LocalPortRange: [2]uint16{32768, 60999},
				BootTime: 1764547200, // stat's btime
			},
		},
		{
			// The 150 orphaned FIN_WAIT2 are timewait minisocks: in tw
			// (150 + 8 TIME_WAIT), not in orphan.
			tree: "incident/peer",
			want: System{
				FilesAllocated: 1184, FileMax: 9223372036854775807,
				TCPInUse: 6, TCPOrphan: 0, TCPTimeWait: 158, TCPAlloc: 6, TCPMem: 3,
				FinTimeout: 60, MaxOrphans: 65536, MaxTWBuckets: 65536, LocalPortRange: [2]uint16{32768, 60999},
				BootTime: 1764547200, // stat's btime
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.tree, func(t *testing.T) {
			got, err := fixtureFS(t, tt.tree).readSystem()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("readSystem() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// systemFiles are the files readSystem reads, well-formed.
var systemFiles = map[string]string{
	"sys/fs/file-nr":                   "1536\t0\t1616912\n",
	"sys/fs/file-max":                  "1616912\n",
	"net/sockstat":                     "sockets: used 9\nTCP: inuse 3 orphan 1 tw 2 alloc 4 mem 1\n",
	"sys/net/ipv4/tcp_fin_timeout":     "30\n",
	"sys/net/ipv4/tcp_max_orphans":     "131072\n",
	"sys/net/ipv4/tcp_max_tw_buckets":  "262144\n",
	"sys/net/ipv4/ip_local_port_range": "1024\t65535\n",
}

// systemComplete is what readSystem makes of systemFiles.
var systemComplete = System{
	FilesAllocated: 1536, FileMax: 1616912, TCPInUse: 3, TCPOrphan: 1, TCPTimeWait: 2, TCPAlloc: 4, TCPMem: 1,
	FinTimeout: 30, MaxOrphans: 131072, MaxTWBuckets: 262144, LocalPortRange: [2]uint16{1024, 65535},
}

// readSystemPartialTests change systemFiles, and say what readSystem
// returns then.
var readSystemPartialTests = []struct {
	name     string
	change   map[string]string // "" deletes the file
	want     System
	wantErrs []string // paths relative to the root, each with its problem
	notExist bool     // errors.Is(err, fs.ErrNotExist)
}{
	{name: "complete", want: systemComplete},
	{
		name:     "missing fin timeout",
		change:   map[string]string{"sys/net/ipv4/tcp_fin_timeout": ""},
		want:     func() System { s := systemComplete; s.FinTimeout = 0; return s }(),
		wantErrs: []string{"sys/net/ipv4/tcp_fin_timeout: no such file"},
		notExist: true,
	},
	{
		name:     "garbage max orphans",
		change:   map[string]string{"sys/net/ipv4/tcp_max_orphans": "many\n"},
		want:     func() System { s := systemComplete; s.MaxOrphans = 0; return s }(),
		wantErrs: []string{`sys/net/ipv4/tcp_max_orphans:1: strconv.ParseUint: parsing "many": invalid syntax: "many"`},
	},
	{
		name:     "short file-nr",
		change:   map[string]string{"sys/fs/file-nr": "1536\t0\n"},
		want:     func() System { s := systemComplete; s.FilesAllocated = 0; return s }(),
		wantErrs: []string{`sys/fs/file-nr:1: want 3 numbers: "1536\t0"`},
	},
	{
		name:     "port range out of range",
		change:   map[string]string{"sys/net/ipv4/ip_local_port_range": "1024\t70000\n"},
		want:     func() System { s := systemComplete; s.LocalPortRange = [2]uint16{}; return s }(),
		wantErrs: []string{"sys/net/ipv4/ip_local_port_range: port out of range"},
	},
	{
		name:   "no sockstat TCP row and empty tw buckets",
		change: map[string]string{"net/sockstat": "sockets: used 9\n", "sys/net/ipv4/tcp_max_tw_buckets": "\n"},
		want: func() System {
			s := systemComplete
			s.TCPInUse, s.TCPOrphan, s.TCPTimeWait, s.TCPAlloc, s.TCPMem, s.MaxTWBuckets = 0, 0, 0, 0, 0, 0
			return s
		}(),
		wantErrs: []string{`net/sockstat:1: no "TCP:" row`, "sys/net/ipv4/tcp_max_tw_buckets:1: want 1 numbers"},
	},
}

// TestReadSystemPartial: one odd or missing file is reported, naming it,
// and the rest is still returned.
func TestReadSystemPartial(t *testing.T) {
	for _, tt := range readSystemPartialTests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for rel, c := range systemFiles {
				if c2, ok := tt.change[rel]; ok {
					c = c2
					if c == "" {
						continue
					}
				}
				p := filepath.Join(root, rel)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				writeFixtureFile(t, p, c)
			}
			fsys, err := NewFS(root)
			if err != nil {
				t.Fatal(err)
			}
			got, err := fsys.readSystem()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("readSystem() mismatch (-want +got):\n%s", diff)
			}
			if len(tt.wantErrs) == 0 {
				if err != nil {
					t.Errorf("readSystem() error = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("readSystem() error = nil, want %q", tt.wantErrs)
			}
			for _, w := range tt.wantErrs {
				if want := filepath.Join(root, w); !strings.Contains(err.Error(), want) {
					t.Errorf("readSystem() error = %v, want it to contain %q", err, want)
				}
			}
			if errors.Is(err, fs.ErrNotExist) != tt.notExist {
				t.Errorf("readSystem() error = %v, errors.Is(err, fs.ErrNotExist) = %v", err, !tt.notExist)
			}
		})
	}
}

func TestReadHostname(t *testing.T) {
	if got := fixtureFS(t, "incident/peer").readHostname(); got != "slowsvc-1" {
		t.Errorf("readHostname() = %q, want slowsvc-1", got)
	}
	fsys, err := NewFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got := fsys.readHostname(); got != "" {
		t.Errorf("readHostname() without the file = %q, want empty", got)
	}
}

// FuzzParseSockstat: whatever net/sockstat holds, the parser returns
// counters or a ParseError that names a line, and never panics.
func FuzzParseSockstat(f *testing.F) {
	f.Add("sockets: used 120\nTCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1\nUDP: inuse 1 mem 0\n") // the kernel's shape
	f.Add("TCP: inuse 5 orphan\n")                                                             // an odd pair count
	f.Add("TCP: inuse -1\n")                                                                   // a negative count
	f.Add("TCP: inuse 99999999999999999999\n")                                                 // past uint64
	f.Add("")                                                                                  // empty
	f.Add("UDP: inuse 1\n")                                                                    // no TCP row
	f.Add("TCP: inuse 4611686018427387904 tw 18446744073709551615\n")                          // sizes no slice (issue 12)
	f.Fuzz(func(t *testing.T, in string) {
		var s System
		err := parseSockstat(strings.NewReader(in), &s)
		var pe *ParseError
		if err != nil && errors.As(err, &pe) && pe.Line < 0 {
			t.Errorf("ParseError with line %d for %q", pe.Line, in)
		}
		if err == nil && !strings.Contains(in, "TCP:") {
			t.Errorf("parsed %q without a TCP: row", in)
		}
		if e := socketEstimate(s); e < 0 || e > maxEstimate {
			t.Errorf("socketEstimate = %d for %q, want 0..%d", e, in, maxEstimate)
		}
	})
}

// FuzzParseFields: the one-line sys/ files (tcp_fin_timeout, file-nr,
// ip_local_port_range) hold whatever a proc root holds. The parser never
// panics, gives exactly the numbers asked for, and says which line was bad.
func FuzzParseFields(f *testing.F) {
	f.Add("60\n", 1)                           // tcp_fin_timeout
	f.Add("1344\t0\t9223372036854775807\n", 3) // file-nr
	f.Add("32768\t60999\n", 2)                 // ip_local_port_range
	f.Add("", 1)                               // empty
	f.Add("-1", 1)                             // negative
	f.Add("18446744073709551616", 1)           // past uint64
	f.Fuzz(func(t *testing.T, in string, n int) {
		n = 1 + int(uint(n)%3) // the callers ask for 1 to 3
		got, err := parseFields(in, n)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line != 1 {
				t.Errorf("parseFields(%q, %d): error %v is not a ParseError of line 1", in, n, err)
			}
			return
		}
		if len(got) != n {
			t.Errorf("parseFields(%q, %d) = %v: %d numbers", in, n, got, len(got))
		}
	})
}
