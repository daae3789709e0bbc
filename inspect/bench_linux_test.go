//go:build linux

package inspect

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"
)

// netTCPText renders n rows in the kernel's /proc/net/tcp format.
func netTCPText(n int) []byte {
	var b bytes.Buffer
	b.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%4d: 0100007F:%04X 0500000A:1B58 08 00000000:0000000A 00:00000000 00000000     0        0 %d 1 0000000000000000 20 4 30 10 -1\n",
			i, 32768+i%28000, 100000+i)
	}
	return b.Bytes()
}

func BenchmarkParseNetTCP(b *testing.B) {
	text := netTCPText(10000)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		socks, err := ParseNetTCP(bytes.NewReader(text), TCP)
		if err != nil || len(socks) != 10000 {
			b.Fatal(len(socks), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10000), "ns/socket")
}

// inetDiagMsg builds one SOCK_DIAG_BY_FAMILY payload with tcp_info.
func inetDiagMsg() []byte {
	msg := make([]byte, sizeofInetDiagMsg+4+104)
	ne := binary.NativeEndian
	msg[0], msg[1] = unix.AF_INET, uint8(CloseWait)
	binary.BigEndian.PutUint16(msg[4:], 40000)
	binary.BigEndian.PutUint16(msg[6:], 7000)
	copy(msg[8:], []byte{127, 0, 0, 1})
	copy(msg[24:], []byte{10, 0, 0, 5})
	ne.PutUint32(msg[56:], 10)
	ne.PutUint32(msg[68:], 123456)
	a := msg[sizeofInetDiagMsg:]
	ne.PutUint16(a[0:], uint16(len(a)))
	ne.PutUint16(a[2:], inetDiagInfo)
	ne.PutUint32(a[4+tcpInfoLastDataSent:], 5000)
	ne.PutUint32(a[4+tcpInfoLastDataRecv:], 3000)
	ne.PutUint32(a[4+tcpInfoLastAckRecv:], 2000)
	return msg
}

func TestDecodeInetDiagMsg(t *testing.T) {
	var s Socket
	if err := decodeInetDiagMsg(inetDiagMsg(), &s); err != nil {
		t.Fatal(err)
	}
	if s.Local.String() != "127.0.0.1:40000" || s.Remote.String() != "10.0.0.5:7000" || s.State != CloseWait ||
		s.RxQueue != 10 || s.Inode != 123456 || !s.HasIdle || s.IdleMs != 3000 || !s.HasAge || s.AgeMs != 2000 {
		t.Errorf("decoded %+v", s)
	}
	if err := decodeInetDiagMsg(inetDiagMsg()[:40], &s); err == nil {
		t.Error("a short message decoded without error")
	}
}

func BenchmarkDecodeInetDiagMsg(b *testing.B) {
	msg := inetDiagMsg()
	var s Socket
	b.ReportAllocs()
	for b.Loop() {
		if err := decodeInetDiagMsg(msg, &s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFDWalk walks this process's fd directory holding 1000 sockets.
func BenchmarkFDWalk(b *testing.B) {
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	for i := 0; i < 1000; i++ {
		f, err := ln.(*net.TCPListener).File()
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
	}
	dir := "/proc/" + strconv.Itoa(os.Getpid()) + "/fd"
	for _, bc := range []struct {
		name  string
		probe bool
	}{{"probe", true}, {"list", false}} {
		b.Run(bc.name, func(b *testing.B) {
			w := newFDWalker(bc.probe)
			var t fdTable
			b.ReportAllocs()
			for b.Loop() {
				t = fdTable{sockets: t.sockets[:0]}
				if err := w.walk(dir, nil, &t); err != nil || t.open < 1000 || len(t.sockets) < 1000 {
					b.Fatal(t.open, len(t.sockets), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/fd")
		})
	}
}

// BenchmarkNetlinkDump dumps this host's TCP sockets: both families in one
// request, as Scan does, and one request per family.
func BenchmarkNetlinkDump(b *testing.B) {
	c, err := newDiagConn()
	if err != nil {
		b.Skip(err)
	}
	defer c.Close()
	for _, bc := range []struct {
		name     string
		families []uint8
	}{{"both", []uint8{unix.AF_UNSPEC}}, {"byFamily", []uint8{unix.AF_INET, unix.AF_INET6}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n = 0
				for _, fam := range bc.families {
					if err := c.dump(fam, allStates, false, func(*Socket) { n++ }); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(n), "sockets")
		})
	}
}

// BenchmarkScanLive scans this host's /proc as inspect does: every process,
// owners resolved. Its figure depends on the host's sockets and
// descriptors (run it beside bench/loadgen for a landscape); it is here for
// profiles (-cpuprofile) of the whole scan, not for a fixed number.
//
// It runs once per backend that can read the live host, in one run so
// their ratios mean something: with bench/loadgen running, bpf to netlink
// is the owner sources' difference (the programs stay loaded across
// iterations, as in a watch), and proc and gopsutil (what the other systems
// use: it reads /proc/net/tcp and walks every PID/fd itself) what reading
// without netlink costs.
func BenchmarkScanLive(b *testing.B) {
	fsys, err := NewFS(DefaultRoot)
	if err != nil {
		b.Skip(err)
	}
	for _, backend := range []Backend{BackendNetlink, BackendProc, BackendBPF, BackendGopsutil} {
		b.Run(string(backend), func(b *testing.B) {
			if d, _ := lookupBackend(backend); d.require != nil {
				if err := d.require(); err != nil {
					b.Skip(err)
				}
			}
			b.ReportAllocs()
			sockets := 0
			for b.Loop() {
				snap, err := Scan(b.Context(), fsys, Options{Backend: backend})
				if err != nil {
					b.Fatal(err)
				}
				sockets = len(snap.Sockets)
			}
			b.ReportMetric(float64(sockets), "sockets")
		})
	}
}

// BenchmarkNetlinkAgeBound compares the ways to read the age bound of
// CLOSE_WAIT and FIN_WAIT2 sockets (tcp_info) in a dump of every state:
// none (no age), tcp_info for every socket, and a dump of the other states
// without it beside a small one of those two with it. Run it beside
// bench/loadgen for a landscape.
func BenchmarkNetlinkAgeBound(b *testing.B) {
	c, err := newDiagConn()
	if err != nil {
		b.Skip(err)
	}
	defer c.Close()
	ages := uint32(1<<CloseWait | 1<<FinWait2)
	type dump struct {
		mask     uint32
		withInfo bool
	}
	for _, bc := range []struct {
		name  string
		dumps []dump
	}{
		{"none", []dump{{allStates, false}}},
		{"info", []dump{{allStates, true}}},
		{"split", []dump{{allStates &^ ages, false}, {ages, true}}},
		{"ages-only", []dump{{ages, true}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			done := threadCPU(b)
			n, aged := 0, 0
			for b.Loop() {
				n, aged = 0, 0
				for _, d := range bc.dumps {
					if err := c.dump(unix.AF_UNSPEC, d.mask, d.withInfo, func(s *Socket) {
						n++
						if s.HasAge {
							aged++
						}
					}); err != nil {
						b.Fatal(err)
					}
				}
			}
			done()
			b.ReportMetric(float64(n), "sockets")
			b.ReportMetric(float64(aged), "aged")
		})
	}
}

// BenchmarkRecheckUnowned is the recheck's cost on 100k sockets when the
// join found an owner for every one (nothing to do), and the pass that
// finds the unowned ones when it did not (here one, rechecked in a
// fixture tree; with a copy of the 100k sockets, as it filters in place).
func BenchmarkRecheckUnowned(b *testing.B) {
	socks := make([]Socket, 100_000)
	for i := range socks {
		socks[i] = Socket{State: CloseWait, Inode: uint64(i + 1), PIDs: []int{42}, NetNS: 4026531840}
	}
	socks[len(socks)/2].PIDs = nil
	fsys, err := NewFS(filepath.Join("..", "testdata", "healthy", "proc"))
	if err != nil {
		b.Fatal(err)
	}
	req := tableRequest{fsys: fsys, hostNS: 4026531840}
	for _, unowned := range []int{0, 1} {
		b.Run(fmt.Sprintf("unowned=%d", unowned), func(b *testing.B) {
			sc := &scanner{snap: &Snapshot{}, tables: procTables{}, req: req, unowned: unowned}
			work := make([]Socket, len(socks))
			b.ReportAllocs()
			for b.Loop() {
				if unowned > 0 {
					copy(work, socks) // recheckUnowned filters in place
				}
				if n := len(sc.recheckUnowned(work)); n != len(socks)-unowned {
					b.Fatal(n)
				}
			}
		})
	}
}

// BenchmarkNetlinkRecheck rechecks 300 CLOSE_WAIT sockets of this host,
// looked up one by one or with a dump of their states. Run it beside
// bench/loadgen: a dump's cost grows with the host's sockets, lookups'
// does not.
func BenchmarkNetlinkRecheck(b *testing.B) {
	if err := netlinkAvailable(); err != nil {
		b.Skip(err)
	}
	r := &netlinkReader{mask: 1 << CloseWait}
	var socks []Socket
	if err := r.read(nil, 0, &socks); err != nil {
		b.Fatal(err)
	}
	if len(socks) < 300 {
		b.Skipf("%d CLOSE_WAIT sockets on this host, want 300 (run bench/loadgen)", len(socks))
	}
	socks = socks[:300]
	fsys, err := NewFS(DefaultRoot)
	if err != nil {
		b.Fatal(err)
	}
	for _, lookups := range []int{recheckLookups, 0} {
		b.Run(fmt.Sprintf("recheckLookups=%d", lookups), func(b *testing.B) {
			saved := recheckLookups
			recheckLookups = lookups
			defer func() { recheckLookups = saved }()
			for b.Loop() {
				present, err := r.recheck(tableRequest{fsys: fsys}, socks)
				if err != nil || len(present) < 250 {
					b.Fatal(len(present), err)
				}
			}
		})
	}
}

// threadCPU locks the benchmark's goroutine to its thread and counts the
// thread's CPU time (user and system: where the kernel builds a dump or
// runs an iterator, in the reading syscalls), steadier than wall time on a
// busy machine. The function it returns reports it as cpu-ns/op and
// unlocks the thread.
func threadCPU(b *testing.B) (done func()) {
	b.Helper()
	runtime.LockOSThread()
	used := func() int64 {
		var ru unix.Rusage
		if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
			b.Fatal(err)
		}
		return ru.Utime.Nano() + ru.Stime.Nano()
	}
	start := used()
	return func() {
		b.ReportMetric(float64(used()-start)/float64(b.N), "cpu-ns/op")
		runtime.UnlockOSThread()
	}
}
