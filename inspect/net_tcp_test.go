package inspect

import (
	"bytes"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// netipComparers lets cmp compare the netip types, whose fields are
// unexported; == is their documented equality.
var netipComparers = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
}

// The headers the kernel prints (tcp4_seq_show pads its lines to 149
// columns; tcp6_seq_show does not).
const (
	tcpHeader  = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode                                                     \n"
	tcp6Header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
)

// parseNetTCPTests are TestParseNetTCP's cases.
var parseNetTCPTests = []struct {
	name    string
	proto   Proto
	in      string
	want    []Socket
	wantErr string
}{
	{
		name:  "every field of a tcp line",
		proto: TCP,
		// 127.0.0.1:8080 to 10.0.0.5:7000, CLOSE_WAIT, tx 0x10 rx 0x1C6,
		// keepalive timer, 3 retransmits, uid 1000, 7 probes.
		in: tcpHeader +
			"   0: 0100007F:1F90 0500000A:1B58 08 00000010:000001C6 02:000A2C4F 00000003  1000        7 48213445 1 0000000070495383 20 4 30 10 -1                 \n",
		want: []Socket{{
			Proto: TCP, Local: netip.MustParseAddrPort("127.0.0.1:8080"), Remote: netip.MustParseAddrPort("10.0.0.5:7000"),
			State: CloseWait, TxQueue: 0x10, RxQueue: 0x1C6, Timer: 2, TimerTicks: 0xA2C4F, Retransmits: 3,
			UID: 1000, Timeout: 7, Inode: 48213445,
		}},
	},
	{
		name:  "listener with accept backlog and lower-case hex",
		proto: TCP,
		in: tcpHeader +
			"   0: 00000000:0016 00000000:0000 0a 00000000:00000005 00:00000000 00000000     0        0 1681 1 00000000a5785ae2 100 0 0 10 0                      \n",
		want: []Socket{{
			Proto: TCP, Local: netip.MustParseAddrPort("0.0.0.0:22"), Remote: netip.MustParseAddrPort("0.0.0.0:0"),
			State: Listen, RxQueue: 5, Inode: 1681,
		}},
	},
	{
		name:  "timewait row has inode 0 and fewer trailing columns",
		proto: TCP,
		in: tcpHeader +
			"   7: 0700000A:B02C 1E00000A:1F90 06 00000000:00000000 03:000016A8 00000000     0        0 0 3 0000000000000000                                      \n",
		want: []Socket{{
			Proto: TCP, Local: netip.MustParseAddrPort("10.0.0.7:45100"), Remote: netip.MustParseAddrPort("10.0.0.30:8080"),
			State: TimeWait, Timer: 3, TimerTicks: 0x16A8,
		}},
	},
	{
		name:  "every field of a tcp6 line",
		proto: TCP6,
		in: tcp6Header +
			"   2: B80D0120000000000000000001000000:01BB B80D0120010000000000000020000000:C488 01 000001A0:00000002 01:00000016 00000001 10004        0 61700020 2 00000000a944d49a 20 4 30 10 -1\n",
		want: []Socket{{
			Proto: TCP6, Local: netip.MustParseAddrPort("[2001:db8::1]:443"), Remote: netip.MustParseAddrPort("[2001:db8:0:1::20]:50312"),
			State: Established, TxQueue: 0x1A0, RxQueue: 2, Timer: 1, TimerTicks: 0x16, Retransmits: 1,
			UID: 10004, Inode: 61700020,
		}},
	},
	{
		name:  "tcp6 wildcard and loopback",
		proto: TCP6,
		in: tcp6Header +
			"   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11 1 0000000000000000 100 0 0 10 0\n" +
			"   1: 00000000000000000000000001000000:1F90 00000000000000000000000001000000:B26E 01 00000000:00000000 00:00000000 00000000     0        0 12 1 0000000000000000 20 4 30 10 -1\n",
		want: []Socket{
			{Proto: TCP6, Local: netip.MustParseAddrPort("[::]:443"), Remote: netip.MustParseAddrPort("[::]:0"), State: Listen, Inode: 11},
			{Proto: TCP6, Local: netip.MustParseAddrPort("[::1]:8080"), Remote: netip.MustParseAddrPort("[::1]:45678"), State: Established, Inode: 12},
		},
	},
	{
		name:  "IPv4-mapped tcp6 addresses come out as IPv4",
		proto: TCP6,
		in: tcp6Header +
			"   3: 0000000000000000FFFF00000900000A:01BB 0000000000000000FFFF00002C0200C0:9C56 01 00000000:00000000 02:00001B58 00000000 10004        0 61700025 2 00000000aa44d62d 20 4 30 10 -1\n",
		want: []Socket{{
			Proto: TCP6, Local: netip.MustParseAddrPort("10.0.0.9:443"), Remote: netip.MustParseAddrPort("192.0.2.44:40022"),
			State: Established, Timer: 2, TimerTicks: 0x1B58, UID: 10004, Inode: 61700025,
		}},
	},
	{
		name:  "unknown state is kept, not rejected",
		proto: TCP,
		in:    tcpHeader + "   0: 0100007F:1F90 00000000:0000 0D 00000000:00000000 00:00000000 00000000     0        0 5 1 0000000000000000 100 0 0 10 0\n",
		want: []Socket{{
			Proto: TCP, Local: netip.MustParseAddrPort("127.0.0.1:8080"), Remote: netip.MustParseAddrPort("0.0.0.0:0"),
			State: TCPState(0x0D), Inode: 5,
		}},
	},
	{
		name:  "header only: no sockets",
		proto: TCP,
		in:    tcpHeader,
	},
	{
		name:  "header without trailing newline or padding",
		proto: TCP6,
		in:    "  sl  local_address remote_address st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
	},
	{
		name:  "blank lines are skipped",
		proto: TCP,
		in:    tcpHeader + "\n   \n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n\n",
		want: []Socket{{
			Proto: TCP, Local: netip.MustParseAddrPort("127.0.0.1:8080"), Remote: netip.MustParseAddrPort("0.0.0.0:0"),
			State: Listen, Inode: 5,
		}},
	},
	{
		name:  "tabs separate fields too",
		proto: TCP,
		in:    tcpHeader + "0:\t0100007F:1F90\t00000000:0000\t0A\t00000000:00000000\t00:00000000\t00000000\t0\t0\t5\n",
		want: []Socket{{
			Proto: TCP, Local: netip.MustParseAddrPort("127.0.0.1:8080"), Remote: netip.MustParseAddrPort("0.0.0.0:0"),
			State: Listen, Inode: 5,
		}},
	},
	{
		name:  "CRLF line endings",
		proto: TCP,
		in:    strings.ReplaceAll(tcpHeader+"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 0000000000000000 100 0 0 10 0\n", "\n", "\r\n"),
		want: []Socket{{
			Proto: TCP, Local: netip.MustParseAddrPort("127.0.0.1:8080"), Remote: netip.MustParseAddrPort("0.0.0.0:0"),
			State: Listen, Inode: 5,
		}},
	},
	{
		name:  "largest values of each field",
		proto: TCP,
		in:    tcpHeader + "   0: FFFFFFFF:FFFF FFFFFFFF:FFFF FF FFFFFFFFFFFFFFFF:FFFFFFFFFFFFFFFF FF:FFFFFFFFFFFFFFFF FFFFFFFFFFFFFFFF 4294967295 18446744073709551615 18446744073709551615\n",
		want: []Socket{{
			Proto: TCP, Local: netip.MustParseAddrPort("255.255.255.255:65535"), Remote: netip.MustParseAddrPort("255.255.255.255:65535"),
			State: TCPState(0xFF), TxQueue: 1<<64 - 1, RxQueue: 1<<64 - 1, Timer: 0xFF, TimerTicks: 1<<64 - 1,
			Retransmits: 1<<64 - 1, UID: 1<<32 - 1, Timeout: 1<<64 - 1, Inode: 1<<64 - 1,
		}},
	},

	// Errors name the line (1-based, header included) and the problem.
	{name: "empty input", proto: TCP, in: "", wantErr: "line 1: missing header line"},
	{name: "no header", proto: TCP, in: "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n", wantErr: "line 1: missing header line"},
	{name: "junk", proto: TCP, in: "<html>404</html>\n", wantErr: `line 1: missing header line (want "sl local_address ...")`},
	{
		name: "short line", proto: TCP,
		in:      tcpHeader + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n",
		wantErr: "line 2: too few fields: 8, want at least 10",
	},
	{
		name: "slot without colon", proto: TCP,
		in:      tcpHeader + "   0 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n",
		wantErr: `line 2: slot "0": missing ':'`,
	},
	{
		name: "address without colon", proto: TCP,
		in:      tcpHeader + "   0: 0100007F1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n",
		wantErr: `line 2: local address: "0100007F1F90": missing ':'`,
	},
	{
		name: "bad hex in address", proto: TCP,
		in:      tcpHeader + "   0: 0100007G:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n",
		wantErr: `line 2: local address: address "0100007G": invalid digit 'G'`,
	},
	{
		name: "bad hex in port", proto: TCP,
		in:      tcpHeader + "   0: 0100007F:1F90 00000000:00x0 0A 00000000:00000000 00:00000000 00000000     0        0 5\n",
		wantErr: `remote address: port "00x0"`,
	},
	{
		name: "over-long address", proto: TCP,
		in:      tcpHeader + "   0: 0100007F:1F90 000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n",
		wantErr: "line 2: remote address: \"000000000:0000\": address has 9 hex digits, want 8",
	},
	{
		name: "five-digit port", proto: TCP,
		in:      tcpHeader + "   0: 0100007F:01F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n",
		wantErr: "port has 5 hex digits, want 4",
	},
	{
		name: "IPv4 row in a tcp6 table", proto: TCP6,
		in:      tcp6Header + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n",
		wantErr: "line 2: local address: \"0100007F:1F90\": address has 8 hex digits, want 32",
	},
	{
		name: "bad state", proto: TCP,
		in:      tcpHeader + "   0: 0100007F:1F90 00000000:0000 0Z 00000000:00000000 00:00000000 00000000     0        0 5\n",
		wantErr: `line 2: state: "0Z": invalid digit 'Z'`,
	},
	{
		name: "state over 8 bits", proto: TCP,
		in:      tcpHeader + "   0: 0100007F:1F90 00000000:0000 100 00000000:00000000 00:00000000 00000000     0        0 5\n",
		wantErr: `line 2: state: "100": out of range for 8 bits`,
	},
	{
		name: "queues without colon", proto: TCP,
		in:      tcpHeader + "   0: 0100007F:1F90 00000000:0000 0A 0000000000000000 00:00000000 00000000     0        0 5\n",
		wantErr: "line 2: tx_queue:rx_queue:",
	},
	{
		name: "queue over 64 bits", proto: TCP,
		in:      tcpHeader + "   0: 0100007F:1F90 00000000:0000 0A 00000000:10000000000000000 00:00000000 00000000     0        0 5\n",
		wantErr: "line 2: tx_queue:rx_queue: \"10000000000000000\": out of range for 64 bits",
	},
	{
		name: "timer over 8 bits", proto: TCP,
		in:      tcpHeader + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 100:00000000 00000000     0        0 5\n",
		wantErr: "line 2: tr:tm->when: \"100\": out of range for 8 bits",
	},
	{
		name: "bad retransmits", proto: TCP,
		in:      tcpHeader + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 -0000001     0        0 5\n",
		wantErr: "line 2: retrnsmt:",
	},
	{
		name: "uid over 32 bits", proto: TCP,
		in:      tcpHeader + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 4294967296        0 5\n",
		wantErr: "line 2: uid: \"4294967296\": out of range for 32 bits",
	},
	{
		name: "hex uid", proto: TCP,
		in:      tcpHeader + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 3E8        0 5\n",
		wantErr: "line 2: uid: \"3E8\": invalid digit 'E'",
	},
	{
		name: "bad timeout", proto: TCP,
		in:      tcpHeader + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0       -1 5\n",
		wantErr: "line 2: timeout:",
	},
	{
		name: "inode over 64 bits", proto: TCP,
		in:      tcpHeader + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 18446744073709551616\n",
		wantErr: "line 2: inode: \"18446744073709551616\": out of range for 64 bits",
	},
	{
		name: "error on a later line", proto: TCP,
		in: tcpHeader +
			"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n" +
			"   1: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6\n" +
			"   2: 0100007F:1F92 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 x\n",
		wantErr: "line 4: inode:",
	},
}

func TestParseNetTCP(t *testing.T) {
	for _, tt := range parseNetTCPTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNetTCP(strings.NewReader(tt.in), tt.proto)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseNetTCP() error = %v, want it to contain %q", err, tt.wantErr)
				}
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("ParseNetTCP() error = %T, want *ParseError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseNetTCP() error = %v", err)
			}
			if diff := cmp.Diff(tt.want, got, netipComparers); diff != "" {
				t.Errorf("ParseNetTCP() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseError(t *testing.T) {
	inner := errors.New("too few fields")
	tests := []struct {
		name string
		err  *ParseError
		want string
	}{
		{"with path", &ParseError{Path: "/proc/net/tcp", Line: 3, Text: "  0: x", Err: inner}, `/proc/net/tcp:3: too few fields: "  0: x"`},
		{"bare reader", &ParseError{Line: 3, Text: "  0: x", Err: inner}, `line 3: too few fields: "  0: x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if !errors.Is(tt.err, inner) {
				t.Error("errors.Is(err, inner) = false, want true through Unwrap")
			}
		})
	}
}

// TestReadNetTCPBroken reads each malformed file of testdata/broken/net:
// the error must name the file and the line.
func TestReadNetTCPBroken(t *testing.T) {
	dir := filepath.Join("..", "testdata", "broken", "net")
	tests := []struct {
		file    string
		proto   Proto
		wantErr string // after "PATH:"
	}{
		{"tcp_bad_hex", TCP, `3: local address: address "0700000G": invalid digit 'G'`},
		{"tcp_short_line", TCP, "2: too few fields: 8, want at least 10"},
		{"tcp_no_header", TCP, "1: missing header line"},
		{"tcp_junk", TCP, "1: missing header line"},
		{"tcp_long_address", TCP, "2: remote address: \"000000000:0000\": address has 9 hex digits, want 8"},
		{"tcp_bad_state", TCP, `3: state: "0Z": invalid digit 'Z'`},
		{"tcp_empty", TCP, "1: missing header line"},
		{"tcp6_short_address", TCP6, "2: local address: \"0100007F:1F90\": address has 8 hex digits, want 32"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			got, err := ReadNetTCP(path, tt.proto)
			want := path + ":" + tt.wantErr
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("ReadNetTCP(%s) = %d sockets, error %v; want error containing %q", tt.file, len(got), err, want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Path != path {
				t.Errorf("ReadNetTCP(%s) error = %#v, want *ParseError with Path %q", tt.file, err, path)
			}
		})
	}
}

// TestReadNetTCPCRLF: a table with CRLF line endings parses like the
// original.
func TestReadNetTCPCRLF(t *testing.T) {
	got, err := ReadNetTCP(filepath.Join("..", "testdata", "broken", "net", "tcp_crlf"), TCP)
	if err != nil {
		t.Fatal(err)
	}
	want := []Socket{
		{Proto: TCP, Local: netip.MustParseAddrPort("127.0.0.1:8080"), Remote: netip.MustParseAddrPort("0.0.0.0:0"), State: Listen, Inode: 40000},
		{Proto: TCP, Local: netip.MustParseAddrPort("10.0.0.7:40000"), Remote: netip.MustParseAddrPort("10.0.0.5:7000"), State: Established, UID: 10001, Inode: 40001},
	}
	if diff := cmp.Diff(want, got, netipComparers); diff != "" {
		t.Errorf("ReadNetTCP(tcp_crlf) mismatch (-want +got):\n%s", diff)
	}
}

func TestReadNetTCPMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tcp")
	_, err := ReadNetTCP(path, TCP)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("ReadNetTCP(missing) error = %v, want ErrNotExist naming %s", err, path)
	}
}

// TestReadNetTCPFixture reads the incident client's table: the kernel's
// padded lines, in hash order.
func TestReadNetTCPFixture(t *testing.T) {
	socks, err := ReadNetTCP(filepath.Join("..", "testdata", "incident", "client", "proc", "net", "tcp"), TCP)
	if err != nil {
		t.Fatal(err)
	}
	want := map[TCPState]int{CloseWait: 1987, Established: 4, Listen: 2, TimeWait: 5}
	if diff := cmp.Diff(want, countStates(socks)); diff != "" {
		t.Errorf("states mismatch (-want +got):\n%s", diff)
	}
	for _, s := range socks {
		if s.Proto != TCP || !s.Local.Addr().Is4() || !s.Remote.Addr().Is4() {
			t.Errorf("socket %v -> %v: want IPv4 tcp", s.Local, s.Remote)
		}
		if (s.Inode == 0) != (s.State == TimeWait) {
			t.Errorf("%v %v -> %v: inode %d; only TIME_WAIT has inode 0 in this table", s.State, s.Local, s.Remote, s.Inode)
		}
	}
}

func countStates(socks []Socket) map[TCPState]int {
	m := make(map[TCPState]int)
	for _, s := range socks {
		m[s.State]++
	}
	return m
}

func FuzzParseNetTCP(f *testing.F) {
	addNetTCPSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte, tcp6 bool) {
		proto := TCP
		if tcp6 {
			proto = TCP6
		}
		socks, err := ParseNetTCP(bytes.NewReader(in), proto)
		if err != nil {
			if socks != nil {
				t.Errorf("ParseNetTCP() = %d sockets with error %v, want none", len(socks), err)
			}
			return
		}
		checkParsedSockets(t, socks, proto)
	})
}

// addNetTCPSeeds seeds FuzzParseNetTCP: fixture rows and odd cases.
func addNetTCPSeeds(f *testing.F) {
	const (
		listen4 = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1 0000000000000000 100 0 0 10 0\n"
		mapped6 = "   3: 0000000000000000FFFF00000900000A:01BB 0000000000000000FFFF00002C0200C0:9C56 01 00000000:00000000 02:00001B58 00000000 10004        0 61700025 2 00000000aa44d62d 20 4 30 10 -1\n"
	)
	// Header only.
	f.Add([]byte(tcpHeader), false)
	// A listener.
	f.Add([]byte(tcpHeader+listen4), false)
	// CLOSE_WAIT from the incident fixture, padded.
	f.Add([]byte(tcpHeader+"   2: 0700000A:A869 0500000A:1B58 08 00000000:000001C6 00:00000000 00000000 10001        0 48213445 1 0000000070495383 20 4 30 10 -1                 \n"), false)
	// TIME_WAIT: inode 0, short tail.
	f.Add([]byte(tcpHeader+"   7: 0700000A:B02C 1E00000A:1F90 06 00000000:00000000 03:000016A8 00000000     0        0 0 3 0000000000000000\n"), false)
	// IPv4-mapped tcp6 row.
	f.Add([]byte(tcp6Header+mapped6), true)
	// Tcp6 wildcard.
	f.Add([]byte(tcp6Header+"   0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11 1 0000000000000000 100 0 0 10 0\n"), true)
	// 2001:db8:: row.
	f.Add([]byte(tcp6Header+"   2: B80D0120000000000000000001000000:01BB B80D0120010000000000000020000000:C488 01 000001A0:00000002 01:00000016 00000001 10004        0 61700020 2 00000000a944d49a 20 4 30 10 -1\n"), true)
	// Missing colon in an address.
	f.Add([]byte(tcpHeader+"   0: 0100007F1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n"), false)
	// Missing colon after the slot.
	f.Add([]byte(tcpHeader+"   0 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n"), false)
	// Over-long hex address.
	f.Add([]byte(tcpHeader+"   0: 0100007F00:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n"), false)
	// IPv4-width address in tcp6.
	f.Add([]byte(tcp6Header+listen4), true)
	// IPv6-width address in tcp.
	f.Add([]byte(tcpHeader+mapped6), false)
	// CRLF line endings.
	f.Add([]byte(strings.ReplaceAll(tcpHeader+listen4, "\n", "\r\n")), false)
	// Tabs between fields.
	f.Add([]byte(tcpHeader+"0:\t0100007F:1F90\t00000000:0000\t0A\t00000000:00000000\t00:00000000\t00000000\t0\t0\t5\n"), false)
	// Largest value of every field.
	f.Add([]byte(tcpHeader+"   0: FFFFFFFF:FFFF FFFFFFFF:FFFF FF FFFFFFFFFFFFFFFF:FFFFFFFFFFFFFFFF FF:FFFFFFFFFFFFFFFF FFFFFFFFFFFFFFFF 4294967295 18446744073709551615 18446744073709551615\n"), false)
	// Huge uid.
	f.Add([]byte(tcpHeader+"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 99999999999999999999 0 5\n"), false)
	// Unknown state.
	f.Add([]byte(tcpHeader+"   0: 0100007F:1F90 00000000:0000 0D 00000000:00000000 00:00000000 00000000     0        0 5\n"), false)
	// Short line.
	f.Add([]byte(tcpHeader+"   0: 0100007F:1F90 00000000:0000 0A\n"), false)
	// Trailing blank lines.
	f.Add([]byte(tcpHeader+"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5\n\n\n"), false)
	// Empty.
	f.Add([]byte(""), false)
	// Bare header, then a lone colon.
	f.Add([]byte("sl\n:"), false)
	// No header.
	f.Add([]byte("junk\n"), false)
	// Every row of the fixture tables, one file per seed.
	for _, name := range []string{"incident/peer/proc/net/tcp", "ipv6/proc/net/tcp6", "netns/proc/5001/net/tcp", "broken/net/tcp_crlf"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", filepath.FromSlash(name)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, strings.HasSuffix(name, "6"))
	}
}

// checkParsedSockets checks what ParseNetTCP returned without error.
func checkParsedSockets(t *testing.T, socks []Socket, proto Proto) {
	t.Helper()
	for _, s := range socks {
		if st := s.State.String(); s.State.Valid() == strings.HasPrefix(st, "UNKNOWN") {
			t.Errorf("state %d: String() = %q, Valid() = %v", uint8(s.State), st, s.State.Valid())
		}
		if _, err := ParseState(s.State.String()); s.State.Valid() && err != nil {
			t.Errorf("state %v does not parse back: %v", s.State, err)
		}
		if s.Proto != proto {
			t.Errorf("Proto = %q, want %q", s.Proto, proto)
		}
		if !s.Local.IsValid() || !s.Remote.IsValid() {
			t.Errorf("addresses %v, %v: want both valid", s.Local, s.Remote)
		}
		for _, a := range [...]struct {
			name string
			ok   bool
		}{
			{"local", s.Local.Addr().Is4() || (proto == TCP6 && s.Local.Addr().Is6() && !s.Local.Addr().Is4In6())},
			{"remote", s.Remote.Addr().Is4() || (proto == TCP6 && s.Remote.Addr().Is6() && !s.Remote.Addr().Is4In6())},
		} {
			if !a.ok {
				t.Errorf("%s address of a %s socket: %v; want IPv4, or unmapped IPv6 in tcp6", a.name, proto, s)
			}
		}
		if s.Local.Addr().Zone() != "" || s.Remote.Addr().Zone() != "" {
			t.Errorf("addresses %v, %v have a zone", s.Local, s.Remote)
		}
		if s.NetNS != 0 || s.PIDs != nil {
			t.Errorf("the parser set NetNS %d or PIDs %v; those are Scan's", s.NetNS, s.PIDs)
		}
	}
}
