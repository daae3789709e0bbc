package main

import (
	"fmt"
	"net/netip"
	"sort"
)

// Network namespace inodes. 4026531840 is the initial namespace's inode on
// every kernel (PROC_NET_INIT_INO).
const (
	hostNS      = 4026531840
	containerNS = 4026532500
)

// TCP states, as in include/net/tcp_states.h.
const (
	established = 0x01
	synSent     = 0x02
	finWait1    = 0x04
	finWait2    = 0x05
	timeWait    = 0x06
	closeWait   = 0x08
	listen      = 0x0A
)

// Timer codes of the "tr" column (get_tcp4_sock).
const (
	timerNone      = 0
	timerRetrans   = 1
	timerKeepalive = 2
	timerTW        = 3
	timerProbe     = 4
)

// sock is one row of net/tcp or net/tcp6.
type sock struct {
	local, remote netip.AddrPort
	state         int
	tx, rx        uint32
	timer         int
	when          uint32 // clock ticks until the timer fires
	retrans       int
	uid           uint32
	probes        int    // the "timeout" column: icsk_probes_out
	inode         uint64 // 0 for timewait and orphaned sockets
	tw            bool   // a timewait minisock: printed by get_timewait{4,6}_sock
}

// proc is one PID directory.
type proc struct {
	pid, ppid  int
	name       string   // status Name and comm (the kernel cuts it to 15 bytes)
	state      byte     // stat field 3 and status State: 0 is 'S', sleeping
	cmdline    []string // argv; a single element for processes that rewrite their title
	uid        uint32
	netns      uint64
	soft, hard int64    // Max open files; -1 is unlimited
	fds        []string // link targets; fd N is fds[N]
	nspid      []int    // PIDs in nested PID namespaces, after the host one
	threads    int
	rssKB      int
}

// tree is one proc root.
type tree struct {
	dir      string // relative to the repository root
	hostname string
	self     int // the PID self points to: a process in the host namespace
	procs    []proc
	tcp      []sock // the host namespace's tables
	tcp6     []sock
	// nsTables are the tables of other namespaces, keyed by namespace.
	nsTables  map[uint64][2][]sock
	sys       sysctl
	fileAlloc int
}

type sysctl struct {
	fileMax              uint64
	finTimeout           int
	maxOrphans, maxTW    int
	portLow, portHigh    int
	tcpMemPages, sockets int
	orphans              int
}

// sockstat is the TCP line of net/sockstat, as far as the tables give it.
type sockstat struct {
	inuse, tw, alloc int
}

// lcg is a tiny deterministic generator: the fixtures must not change with
// the Go version, so math/rand is not used.
type lcg uint64

func (r *lcg) next(n int) int {
	*r = *r*6364136223846793005 + 1442695040888963407
	return int(uint64(*r>>33) % uint64(n))
}

// inodes hands out socket inodes in increasing order, as sockfs does.
type inodes uint64

func (i *inodes) next() uint64 { *i += 1 + inodes(uint64(*i)%7); return uint64(*i) }

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func addrPort(a string, port int) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr(a), uint16(port))
}

func sockLink(ino uint64) string { return fmt.Sprintf("socket:[%d]", ino) }

// newHost starts the tree of a host whose reader is PID 1, with systemd as
// PID 1 taking the first of the inodes that start after firstInode.
func newHost(dir, hostname string, firstInode uint64) (*tree, *inodes) {
	ino := inodes(firstInode)
	t := &tree{dir: dir, hostname: hostname, self: 1, sys: defaultSys()}
	t.procs = append(t.procs, systemd(&ino))
	return t, &ino
}

// systemd is PID 1 of every host: a few descriptors, none of them TCP.
func systemd(ino *inodes) proc {
	return proc{
		pid: 1, ppid: 0, name: "systemd", cmdline: []string{"/sbin/init"}, uid: 0, netns: hostNS,
		soft: 1073741816, hard: 1073741816, threads: 1, rssKB: 12812,
		fds: []string{"/dev/null", "/dev/null", "/dev/null", "anon_inode:[eventpoll]",
			"anon_inode:[signalfd]", sockLink(ino.next()) /* unix: /run/systemd/notify */},
	}
}

// sshd adds the SSH daemon, listening on :22 and [::]:22; sessions are its
// connections.
func (t *tree) sshd(ino *inodes, pid, rssKB int, sessions ...sock) {
	d := fdTable{ino: ino, fds: []string{"/dev/null", "/dev/null", "/dev/null"}}
	d.add(&t.tcp, sock{local: ap("0.0.0.0:22"), remote: ap("0.0.0.0:0"), state: listen})
	d.add(&t.tcp6, sock{local: ap("[::]:22"), remote: ap("[::]:0"), state: listen})
	for _, s := range sessions {
		d.add(&t.tcp, s)
	}
	t.procs = append(t.procs, proc{
		pid: pid, ppid: 1, name: "sshd", cmdline: []string{"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"},
		uid: 0, netns: hostNS, soft: 1024, hard: 524288, threads: 1, rssKB: rssKB, fds: d.fds,
	})
}

func defaultSys() sysctl {
	return sysctl{
		fileMax: 9223372036854775807, finTimeout: 60, maxOrphans: 65536, maxTW: 65536,
		portLow: 32768, portHigh: 60999, tcpMemPages: 0, sockets: 0,
	}
}

// kernel sets the host-wide counts the tables do not give: TCP memory in
// pages and sockets of every kind (sockstat), and allocated file handles
// (file-nr).
func (t *tree) kernel(tcpMemPages, sockets, fileAlloc int) {
	t.sys.tcpMemPages, t.sys.sockets, t.fileAlloc = tcpMemPages, sockets, fileAlloc
}

// fdTable builds one process's descriptors while its sockets go into the
// tables: each socket takes the next inode and the next fd.
type fdTable struct {
	ino *inodes
	uid uint32 // the owner's, for the tables' uid column
	fds []string
}

// add gives s the next inode and the owner's uid, links it as the next fd
// and appends it to table. A timewait minisock belongs to no process: it
// is only appended.
func (f *fdTable) add(table *[]sock, s sock) {
	if !s.tw {
		s.inode = f.ino.next()
		s.uid = f.uid
		f.fds = append(f.fds, sockLink(s.inode))
	}
	*table = append(*table, s)
}

// shuffle mixes the non-LISTEN rows the way the established hash does;
// the listening hash is printed first.
func shuffle(s []sock, r *lcg) {
	sort.SliceStable(s, func(i, j int) bool { return s[i].state == listen && s[j].state != listen })
	n := 0
	for n < len(s) && s[n].state == listen {
		n++
	}
	rest := s[n:]
	for i := len(rest) - 1; i > 0; i-- {
		j := r.next(i + 1)
		rest[i], rest[j] = rest[j], rest[i]
	}
}
