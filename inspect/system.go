package inspect

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// System holds the host-wide counters and settings the diagnosis weighs
// sockets against. A value the proc root does not have stays 0.
type System struct {
	// FilesAllocated is the first column of sys/fs/file-nr: file handles
	// allocated system-wide.
	FilesAllocated uint64
	FileMax        uint64 // sys/fs/file-max
	// TCPInUse, TCPOrphan, TCPTimeWait, TCPAlloc and TCPMem are the "TCP:"
	// row of net/sockstat (TCPMem in pages).
	TCPInUse, TCPOrphan, TCPTimeWait, TCPAlloc, TCPMem uint64
	// FinTimeout is sys/net/ipv4/tcp_fin_timeout in seconds: how long an
	// orphaned FIN_WAIT2 socket lives.
	FinTimeout     uint64
	MaxOrphans     uint64    // sys/net/ipv4/tcp_max_orphans
	MaxTWBuckets   uint64    // sys/net/ipv4/tcp_max_tw_buckets
	LocalPortRange [2]uint16 // sys/net/ipv4/ip_local_port_range
	// BootTime is stat's btime: when the host booted, in seconds since
	// the epoch (ProcessStart turns a process's start time into a time).
	BootTime uint64
}

// readSystem reads the system counters. Files that are missing or
// malformed are reported together in the returned error, and the rest is
// still returned: one odd file must not hide the sockets.
func (fsys FS) readSystem() (System, error) {
	if fsys.native {
		return System{}, nil // gopsutilGaps says they are missing
	}
	var s System
	var errs []error
	num := func(rel string, dst *uint64) {
		v, err := fsys.readUint(rel)
		if err != nil {
			errs = append(errs, err)
			return
		}
		*dst = v
	}
	if f, err := fsys.readFields("sys/fs/file-nr", 3); err != nil {
		errs = append(errs, err)
	} else {
		s.FilesAllocated, s.FileMax = f[0], f[2]
	}
	num("sys/fs/file-max", &s.FileMax)
	if err := fsys.readSockstat(&s); err != nil {
		errs = append(errs, err)
	}
	if bt, err := fsys.readBootTime(); err != nil {
		errs = append(errs, err)
	} else {
		s.BootTime = bt
	}
	num("sys/net/ipv4/tcp_fin_timeout", &s.FinTimeout)
	num("sys/net/ipv4/tcp_max_orphans", &s.MaxOrphans)
	num("sys/net/ipv4/tcp_max_tw_buckets", &s.MaxTWBuckets)
	if f, err := fsys.readFields("sys/net/ipv4/ip_local_port_range", 2); err != nil {
		errs = append(errs, err)
	} else if f[0] > 65535 || f[1] > 65535 {
		errs = append(errs, fmt.Errorf("%s: port out of range", fsys.path("sys/net/ipv4/ip_local_port_range")))
	} else {
		s.LocalPortRange = [2]uint16{uint16(f[0]), uint16(f[1])}
	}
	return s, errors.Join(errs...)
}

func (fsys FS) readUint(rel string) (uint64, error) {
	f, err := fsys.readFields(rel, 1)
	if err != nil {
		return 0, err
	}
	return f[0], nil
}

// readFields reads a one-line file of at least n unsigned numbers.
func (fsys FS) readFields(rel string, n int) ([]uint64, error) {
	p := fsys.path(rel)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	out, err := parseFields(string(b), n)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.Path = p
		}
		return nil, err
	}
	return out, nil
}

// parseFields parses the first n unsigned numbers of a one-line sys/ or
// proc file (tcp_fin_timeout, file-nr, ip_local_port_range). n is the
// caller's, never the file's.
func parseFields(b string, n int) ([]uint64, error) {
	line := strings.TrimSpace(b)
	fields := strings.Fields(line)
	if len(fields) < n {
		return nil, &ParseError{Line: 1, Text: line, Err: fmt.Errorf("want %d numbers", n)}
	}
	out := make([]uint64, n)
	for i := range out {
		var err error
		if out[i], err = strconv.ParseUint(fields[i], 10, 64); err != nil {
			return nil, &ParseError{Line: 1, Text: line, Err: err}
		}
	}
	return out, nil
}

// readSockstat reads the "TCP:" row of net/sockstat (net/ipv4/proc.c,
// sockstat_seq_show): "TCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1".
func (fsys FS) readSockstat(s *System) error {
	p := fsys.path("net/sockstat")
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := parseSockstat(f, s); err != nil {
		var pe *ParseError
		if errors.As(err, &pe) {
			pe.Path = p
		}
		return err
	}
	return nil
}

func parseSockstat(r io.Reader, s *System) error {
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "TCP:" {
			continue
		}
		if len(fields)%2 != 1 {
			return &ParseError{Line: n, Text: sc.Text(), Err: errors.New("want name value pairs")}
		}
		for i := 1; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseUint(fields[i+1], 10, 64)
			if err != nil {
				return &ParseError{Line: n, Text: sc.Text(), Err: err}
			}
			switch fields[i] {
			case "inuse":
				s.TCPInUse = v
			case "orphan":
				s.TCPOrphan = v
			case "tw":
				s.TCPTimeWait = v
			case "alloc":
				s.TCPAlloc = v
			case "mem":
				s.TCPMem = v
			}
		}
		return nil
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return &ParseError{Line: n, Err: errors.New(`no "TCP:" row`)}
}

// readHostname reads sys/kernel/hostname, so a mounted host /proc names the
// host, not the container reading it.
func (fsys FS) readHostname() string {
	if fsys.native {
		return nativeHostname()
	}
	b, err := os.ReadFile(filepath.Join(fsys.root, "sys/kernel/hostname"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
