package inspect

// The iter/tcp probe of issue 14 (docs/performance.md, "iter/tcp against
// sock_diag"): the programs bpf/tcp_iter.c and bpf/task_file_sock.c, their
// loader and decoder, kept for the benchmarks and the parity test that
// measured them. They are test code: the iterator read the sockets too
// little faster than the dump to replace it (1.1-1.2x), so no scan uses
// them, and bpf2go generates their objects as _test files.
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang-16 -strip llvm-strip-16 -tags linux -target bpfel,bpfeb -cflags "-O2 -g -Wall -Werror -I../internal/bpfkit/include -I/usr/include/bpf" -no-global-types tcpIter bpf/tcp_iter.c
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang-16 -strip llvm-strip-16 -tags linux -target bpfel,bpfeb -cflags "-O2 -g -Wall -Werror -I../internal/bpfkit/include -I/usr/include/bpf" -no-global-types taskFileSock bpf/task_file_sock.c

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf/link"
	"github.com/sockleak/sockleak/internal/bpfkit"
	"golang.org/x/sys/unix"
)

// tcpRecordSize is the size of bpf/tcp_iter.c's struct tcp_record.
const tcpRecordSize = 88

// The kinds of socket a tcp_record describes (its kind byte).
const (
	tcpKindFull     = 0 // a full socket: tcp_info's times are valid
	tcpKindTimewait = 1 // TIME_WAIT, or an orphan in FIN_WAIT2
	tcpKindRequest  = 2 // a half-open connection (NEW_SYN_RECV)
)

// tcpIter is the iter/tcp program, loaded and attached: each open of its
// link walks the TCP sockets of the opening thread's network namespace.
type tcpIter struct {
	objs tcpIterObjects
	link *link.Iter
}

func newTCPIter() (*tcpIter, error) {
	if err := bpfkit.Prepare(); err != nil {
		return nil, err
	}
	it := &tcpIter{}
	if err := loadTcpIterObjects(&it.objs, nil); err != nil {
		return nil, fmt.Errorf("loading the tcp iterator: %w", err)
	}
	l, err := link.AttachIter(link.IterOptions{Program: it.objs.SockleakTcp})
	if err != nil {
		it.objs.Close()
		return nil, fmt.Errorf("attaching the tcp iterator: %w", err)
	}
	it.link = l
	return it, nil
}

func (it *tcpIter) Close() error {
	return errors.Join(it.link.Close(), it.objs.Close())
}

// run sets the states to write (a sock_diag mask) and runs the iterator
// once, calling fn for each socket (s is reused: fn copies it).
func (it *tcpIter) run(mask uint32, fn func(*Socket)) error {
	if err := it.objs.StateMask.Set(mask); err != nil {
		return fmt.Errorf("setting the tcp iterator's states: %w", err)
	}
	r, err := it.link.Open()
	if err != nil {
		return fmt.Errorf("running the tcp iterator: %w", err)
	}
	defer r.Close()
	return readTCPRecords(r, fn)
}

// readTCPRecords reads the iterator's output from r to its end and calls
// fn for each socket, in order; a read may end anywhere in a record.
func readTCPRecords(r io.Reader, fn func(*Socket)) error {
	buf := make([]byte, bpfReadSize)
	var s Socket
	have := 0
	for {
		n, err := r.Read(buf[have:])
		have += n
		whole := have - have%tcpRecordSize
		if derr := decodeTCPRecords(buf[:whole], &s, fn); derr != nil {
			return derr
		}
		have = copy(buf, buf[whole:have])
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the tcp iterator: %w", err)
		}
	}
	if have != 0 {
		return fmt.Errorf("tcp iterator: its output ends %d bytes into a %d-byte record", have, tcpRecordSize)
	}
	return nil
}

// decodeTCPRecords calls fn for each record of b as a Socket filled as
// decodeInetDiagMsg fills it from a dump with tcp_info (s is reused).
// Output that is not whole records, or a record of an unknown family, is
// an error: a program and a decoder out of step.
func decodeTCPRecords(b []byte, s *Socket, fn func(*Socket)) error {
	if len(b)%tcpRecordSize != 0 {
		return fmt.Errorf("tcp iterator: %d bytes of output, not a whole number of %d-byte records", len(b), tcpRecordSize)
	}
	ne := binary.NativeEndian
	for ; len(b) >= tcpRecordSize; b = b[tcpRecordSize:] {
		family := b[44]
		*s = Socket{
			State:       TCPState(b[45]),
			Timer:       b[46],
			Retransmits: uint64(b[47]),
			Inode:       ne.Uint64(b[0:]),
			NetNS:       uint64(ne.Uint32(b[8:])),
			UID:         ne.Uint32(b[12:]),
			RxQueue:     uint64(ne.Uint32(b[16:])),
			TxQueue:     uint64(ne.Uint32(b[20:])),
			TimerTicks:  uint64(ne.Uint32(b[24:])) / 10,
		}
		var src, dst netip.Addr
		switch family {
		case unix.AF_INET:
			s.Proto = TCP
			src = netip.AddrFrom4([4]byte(b[48:52]))
			dst = netip.AddrFrom4([4]byte(b[64:68]))
		case unix.AF_INET6:
			s.Proto = TCP6
			src = netip.AddrFrom16([16]byte(b[48:64])).Unmap()
			dst = netip.AddrFrom16([16]byte(b[64:80])).Unmap()
		default:
			return fmt.Errorf("tcp iterator: a record of family %d", family)
		}
		s.Local = netip.AddrPortFrom(src, ne.Uint16(b[40:]))
		s.Remote = netip.AddrPortFrom(dst, ne.Uint16(b[42:]))
		if b[80] == tcpKindFull {
			tcpInfoTimes(s, ne.Uint32(b[28:]), ne.Uint32(b[32:]), ne.Uint32(b[36:]))
		}
		fn(s)
	}
	return nil
}

// BenchmarkBPFTCPIterLoad is the tcp iterator's load cost (spec, kernel
// BTF, the kernel's config for CONFIG_HZ, verification, attach), beside
// the task_file iterator's in BenchmarkBPFLoad.
func BenchmarkBPFTCPIterLoad(b *testing.B) {
	skipWithoutBPF(b)
	for b.Loop() {
		it, err := newTCPIter()
		if err != nil {
			b.Fatal(err)
		}
		it.Close()
	}
}
