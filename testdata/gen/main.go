// Command gen writes the fixture proc trees under testdata/ from scratch:
//
//	go run ./testdata/gen
//
// Run it from the repository root. It is deterministic: the same source
// always writes the same bytes, so a regeneration shows up in git only when
// this file changed. Every line is printed with the format string of the
// kernel function that prints it (cited at each writer), so the trees read
// like /proc of a 6.x kernel on a little-endian machine. All hosts, ports,
// inodes and kernel pointers are invented; see testdata/README.md.
package main

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"log"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
	sockstat  sockstat
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

type sockstat struct {
	inuse, orphan, tw, alloc, mem int
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

// mustReplace replaces old with new once; a fixture whose defect did not
// land would test nothing.
func mustReplace(s, old, new string) string {
	if !strings.Contains(s, old) {
		log.Fatalf("%q not found in %q", old, s)
	}
	return strings.Replace(s, old, new, 1)
}

func main() {
	if _, err := os.Stat("go.mod"); err != nil {
		log.Fatal("run from the repository root: go run ./testdata/gen")
	}
	for _, t := range []*tree{incidentClient(), incidentPeer(), healthy(), ipv6(), netns(), denied()} {
		if err := os.RemoveAll(t.dir); err != nil {
			log.Fatal(err)
		}
		t.write()
	}
	if err := os.RemoveAll("testdata/broken"); err != nil {
		log.Fatal(err)
	}
	broken()
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

func defaultSys() sysctl {
	return sysctl{
		fileMax: 9223372036854775807, finTimeout: 60, maxOrphans: 65536, maxTW: 65536,
		portLow: 32768, portHigh: 60999, tcpMemPages: 0, sockets: 0,
	}
}

// incidentClient is the host whose process leaks: openser keeps 1987
// sockets in CLOSE_WAIT to its peer 10.0.0.5:7000, 97% of its fd limit.
func incidentClient() *tree {
	t := &tree{dir: "testdata/incident/client/proc", hostname: "sip-edge-1", self: 1, sys: defaultSys()}
	ino := inodes(48213000)
	rnd := lcg(7)
	t.procs = append(t.procs, systemd(&ino))

	sshListen4, sshListen6, sshConn := ino.next(), ino.next(), ino.next()
	t.procs = append(t.procs, proc{
		pid: 812, ppid: 1, name: "sshd", cmdline: []string{"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"},
		uid: 0, netns: hostNS, soft: 1024, hard: 524288, threads: 1, rssKB: 9180,
		fds: []string{"/dev/null", "/dev/null", "/dev/null", sockLink(sshListen4), sockLink(sshListen6), sockLink(sshConn)},
	})
	t.tcp = append(t.tcp,
		sock{local: ap("0.0.0.0:22"), remote: ap("0.0.0.0:0"), state: listen, inode: sshListen4},
		sock{local: ap("10.0.0.7:22"), remote: ap("192.0.2.10:51234"), state: established, timer: timerKeepalive, when: 0x0000A2C4, inode: sshConn})
	t.tcp6 = append(t.tcp6, sock{local: ap("[::]:22"), remote: ap("[::]:0"), state: listen, inode: sshListen6})

	// openser: fds 0-5 are not sockets, 6 listens on :5060, 7-1993 are
	// the leaked CLOSE_WAIT sockets (oldest first), 1994-1996 the three
	// live connections: 1997 descriptors against a soft limit of 2048.
	const uid = 10001
	fds := []string{"/dev/null", "/dev/null", "/dev/null", "/var/log/openser/openser.log",
		"anon_inode:[eventpoll]", fmt.Sprintf("pipe:[%d]", ino.next())}
	lis := ino.next()
	fds = append(fds, sockLink(lis))
	t.tcp = append(t.tcp, sock{local: ap("0.0.0.0:5060"), remote: ap("0.0.0.0:0"), state: listen, uid: uid, inode: lis})
	for i := range 1987 {
		c := ino.next()
		fds = append(fds, sockLink(c))
		// rx_queue is the peer's late reply, never read, plus its FIN.
		t.tcp = append(t.tcp, sock{
			local: addrPort("10.0.0.7", clientPort(i)), remote: ap("10.0.0.5:7000"), state: closeWait,
			rx: uint32(180 + rnd.next(400) + 1), uid: uid, inode: c})
	}
	for i := range 3 {
		c := ino.next()
		fds = append(fds, sockLink(c))
		t.tcp = append(t.tcp, sock{
			local: addrPort("10.0.0.7", clientPort(1987+i)), remote: ap("10.0.0.5:7000"), state: established,
			uid: uid, inode: c})
	}
	t.procs = append(t.procs, proc{
		pid: 4242, ppid: 1, name: "openser", cmdline: []string{"/usr/sbin/openser", "-f", "/etc/openser/openser.cfg"},
		uid: uid, netns: hostNS, soft: 2048, hard: 4096, fds: fds, threads: 9, rssKB: 48120,
	})
	// A handful of TIME_WAIT from short HTTP calls this host closed first.
	for i := range 5 {
		t.tcp = append(t.tcp, sock{
			local: addrPort("10.0.0.7", 45100+i*17), remote: ap("10.0.0.30:8080"), state: timeWait,
			timer: timerTW, when: uint32(5800 - i*900), tw: true})
	}
	shuffle(t.tcp, &rnd)
	t.sys.tcpMemPages, t.sys.sockets, t.fileAlloc = 1532, 2011, 3264
	return t
}

// clientPort is the ephemeral port of the client's i-th connection to the
// peer: distinct for i < 28232 because 7919 is prime to the range's size.
func clientPort(i int) int { return 32768 + (1000+i*7919)%(60999-32768+1) }

// incidentPeer is the other end: slowsvc answers late. The client's leaked
// sockets show here as FIN_WAIT2, orphaned (slowsvc closed them) and
// counting down tcp_fin_timeout: only the last minute's worth is left.
func incidentPeer() *tree {
	t := &tree{dir: "testdata/incident/peer/proc", hostname: "slowsvc-1", self: 1, sys: defaultSys()}
	ino := inodes(30512000)
	rnd := lcg(11)
	t.procs = append(t.procs, systemd(&ino))
	const uid = 10002
	journal := sockLink(ino.next()) // stdout and stderr go to journald
	lis := ino.next()
	fds := []string{"/dev/null", journal, journal, "anon_inode:[eventpoll]", "anon_inode:[eventfd]", sockLink(lis)}
	t.tcp = append(t.tcp, sock{local: ap("0.0.0.0:7000"), remote: ap("0.0.0.0:0"), state: listen, uid: uid, inode: lis})
	// The three live connections of the client.
	for i := range 3 {
		c := ino.next()
		fds = append(fds, sockLink(c))
		t.tcp = append(t.tcp, sock{
			local: ap("10.0.0.5:7000"), remote: addrPort("10.0.0.7", clientPort(1987+i)), state: established,
			uid: uid, inode: c, timer: timerNone})
	}
	// Two half-closed connections (shutdown(SHUT_WR)): slowsvc still owns
	// them, so no timer runs; their client ports are leaked ones.
	for i := range 2 {
		c := ino.next()
		fds = append(fds, sockLink(c))
		t.tcp = append(t.tcp, sock{
			local: ap("10.0.0.5:7000"), remote: addrPort("10.0.0.7", clientPort(1984+i)), state: finWait2,
			uid: uid, inode: c})
	}
	t.procs = append(t.procs, proc{
		pid: 3100, ppid: 1, name: "slowsvc", cmdline: []string{"/opt/slowsvc/bin/slowsvc", "--listen", ":7000"},
		uid: uid, netns: hostNS, soft: 65536, hard: 65536, fds: fds, threads: 12, rssKB: 30112,
	})
	// 150 orphaned FIN_WAIT2: with tcp_fin_timeout <= 60 the kernel turns
	// them into timewait minisocks (substate FIN_WAIT2, timer 3, inode 0).
	for i := range 150 {
		t.tcp = append(t.tcp, sock{
			local: ap("10.0.0.5:7000"), remote: addrPort("10.0.0.7", clientPort(1834+i)), state: finWait2,
			timer: timerTW, when: uint32(40 + i*39), tw: true})
	}
	// A well-behaved client's closed connections.
	for i := range 8 {
		t.tcp = append(t.tcp, sock{
			local: ap("10.0.0.5:7000"), remote: addrPort("10.0.0.8", 51000+i*3), state: timeWait,
			timer: timerTW, when: uint32(300 + i*700), tw: true})
	}
	shuffle(t.tcp, &rnd)
	t.sys.tcpMemPages, t.sys.sockets, t.fileAlloc = 3, 41, 1184
	return t
}

// healthy is a web server doing fine: nginx master and two workers share
// the listening sockets, as after fork.
func healthy() *tree {
	t := &tree{dir: "testdata/healthy/proc", hostname: "web-1", self: 1, sys: defaultSys()}
	ino := inodes(22040000)
	rnd := lcg(13)
	t.procs = append(t.procs, systemd(&ino))
	ssh4, ssh6 := ino.next(), ino.next()
	t.procs = append(t.procs, proc{
		pid: 700, ppid: 1, name: "sshd", cmdline: []string{"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"},
		uid: 0, netns: hostNS, soft: 1024, hard: 524288, threads: 1, rssKB: 8960,
		fds: []string{"/dev/null", "/dev/null", "/dev/null", sockLink(ssh4), sockLink(ssh6)},
	})
	t.tcp = append(t.tcp, sock{local: ap("0.0.0.0:22"), remote: ap("0.0.0.0:0"), state: listen, inode: ssh4})
	t.tcp6 = append(t.tcp6, sock{local: ap("[::]:22"), remote: ap("[::]:0"), state: listen, inode: ssh6})

	l80, l443 := ino.next(), ino.next()
	t.tcp = append(t.tcp,
		sock{local: ap("0.0.0.0:80"), remote: ap("0.0.0.0:0"), state: listen, inode: l80},
		sock{local: ap("0.0.0.0:443"), remote: ap("0.0.0.0:0"), state: listen, rx: 0, inode: l443})
	// Inherited by the workers: fds 0-5 and the two listeners.
	common := []string{"/dev/null", "/dev/null", "/var/log/nginx/error.log", sockLink(ino.next()),
		"/var/log/nginx/access.log", "/var/log/nginx/error.log", sockLink(l80), sockLink(l443)}
	master := append([]string(nil), common...)
	master = append(master, sockLink(ino.next()), sockLink(ino.next())) // channel socketpairs
	t.procs = append(t.procs, proc{
		pid: 900, ppid: 1, name: "nginx", cmdline: []string{"nginx: master process /usr/sbin/nginx -g daemon on; master_process on;"},
		uid: 0, netns: hostNS, soft: 1024, hard: 524288, fds: master, threads: 1, rssKB: 2244,
	})
	const wuid = 10003
	type conn struct {
		client string
		port   int
		local  int
	}
	workerConns := map[int][]conn{
		901: {{"192.0.2.10", 50110, 443}, {"192.0.2.10", 50111, 443}, {"192.0.2.12", 60200, 80}, {"192.0.2.11", 41000, 443}},
		902: {{"192.0.2.10", 50112, 443}, {"192.0.2.11", 41001, 443}, {"192.0.2.11", 41002, 443}},
	}
	for _, pid := range []int{901, 902} {
		fds := append([]string(nil), common...)
		fds = append(fds, sockLink(ino.next()), "anon_inode:[eventpoll]", "anon_inode:[eventfd]")
		for _, c := range workerConns[pid] {
			s := ino.next()
			fds = append(fds, sockLink(s))
			t.tcp = append(t.tcp, sock{
				local: addrPort("10.0.0.10", c.local), remote: addrPort(c.client, c.port), state: established,
				uid: wuid, inode: s, timer: timerKeepalive, when: uint32(6000 + rnd.next(6000))})
		}
		if pid == 901 { // upstream to postgres
			s := ino.next()
			fds = append(fds, sockLink(s))
			t.tcp = append(t.tcp, sock{
				local: ap("10.0.0.10:39702"), remote: ap("10.0.0.20:5432"), state: established,
				uid: wuid, inode: s})
		}
		t.procs = append(t.procs, proc{
			pid: pid, ppid: 900, name: "nginx", cmdline: []string{"nginx: worker process"},
			uid: wuid, netns: hostNS, soft: 8192, hard: 8192, fds: fds, threads: 1, rssKB: 5120,
		})
	}
	// Keep-alive timeouts: nginx closes first, so the TIME_WAIT is here.
	for i, c := range []string{"192.0.2.13:40100", "192.0.2.13:40101", "192.0.2.14:55012", "192.0.2.14:55013"} {
		t.tcp = append(t.tcp, sock{local: ap("10.0.0.10:443"), remote: ap(c), state: timeWait,
			timer: timerTW, when: uint32(1200 + i*1100), tw: true})
	}
	shuffle(t.tcp, &rnd)
	t.sys.tcpMemPages, t.sys.sockets, t.fileAlloc = 4, 112, 1536
	return t
}

// ipv6 is a dual-stack proxy: tcp6 holds ::1, 2001:db8:: addresses, the
// wildcard and IPv4-mapped connections accepted on the [::] listener.
func ipv6() *tree {
	t := &tree{dir: "testdata/ipv6/proc", hostname: "v6-edge-1", self: 1, sys: defaultSys()}
	ino := inodes(61700000)
	t.procs = append(t.procs, systemd(&ino))
	const uid = 10004
	var fds []string
	add := func(table *[]sock, s sock) {
		if !s.tw {
			s.inode = ino.next()
			s.uid = uid
			fds = append(fds, sockLink(s.inode))
		}
		*table = append(*table, s)
	}
	fds = append(fds, "/dev/null", "/dev/null", "/dev/null", "anon_inode:[eventpoll]")
	add(&t.tcp6, sock{local: ap("[::]:443"), remote: ap("[::]:0"), state: listen, rx: 0})
	add(&t.tcp6, sock{local: ap("[::1]:8080"), remote: ap("[::]:0"), state: listen})
	add(&t.tcp6, sock{local: ap("[2001:db8::1]:443"), remote: ap("[2001:db8:0:1::20]:50312"), state: established,
		tx: 0x1a0, rx: 0, timer: timerRetrans, when: 0x16, retrans: 0})
	add(&t.tcp6, sock{local: ap("[::ffff:10.0.0.9]:443"), remote: ap("[::ffff:192.0.2.44]:40022"), state: established,
		timer: timerKeepalive, when: 0x1b58})
	add(&t.tcp6, sock{local: ap("[::1]:45678"), remote: ap("[::1]:8080"), state: established})
	add(&t.tcp6, sock{local: ap("[::1]:8080"), remote: ap("[::1]:45678"), state: established})
	add(&t.tcp6, sock{local: ap("[2001:db8::1]:52000"), remote: ap("[2001:db8:ffff::1]:443"), state: synSent,
		timer: timerRetrans, when: 0x1f4, retrans: 3})
	add(&t.tcp6, sock{local: ap("[2001:db8::1]:41000"), remote: ap("[2001:db8::53]:80"), state: closeWait, rx: 1})
	add(&t.tcp6, sock{local: ap("[2001:db8::1]:443"), remote: ap("[2001:db8:0:1::21]:50400"), state: timeWait,
		timer: timerTW, when: 0xbb8, tw: true})
	add(&t.tcp, sock{local: ap("127.0.0.1:9901"), remote: ap("0.0.0.0:0"), state: listen})
	// A stalled upstream: the peer advertises a zero window; two
	// unanswered window probes so far.
	add(&t.tcp, sock{local: ap("10.0.0.9:38000"), remote: ap("10.0.0.20:5432"), state: established,
		tx: 0x1000, timer: timerProbe, when: 0xc8, probes: 2})
	t.procs = append(t.procs, proc{
		pid: 600, ppid: 1, name: "haproxy", uid: uid, netns: hostNS, soft: 4096, hard: 4096, fds: fds, threads: 4, rssKB: 21600,
		cmdline: []string{"/usr/sbin/haproxy", "-Ws", "-f", "/etc/haproxy/haproxy.cfg", "-p", "/run/haproxy.pid"},
	})
	t.sys.tcpMemPages, t.sys.sockets, t.fileAlloc = 2, 38, 960
	return t
}

// netns is a Docker host: the container's sockets live in its own
// namespace, visible only through its processes' PID/net.
func netns() *tree {
	t := &tree{dir: "testdata/netns/proc", hostname: "docker-host-1", self: 1, sys: defaultSys(),
		nsTables: map[uint64][2][]sock{}}
	ino := inodes(70100000)
	t.procs = append(t.procs, systemd(&ino))
	t.procs = append(t.procs, proc{
		pid: 640, ppid: 1, name: "dockerd", cmdline: []string{"/usr/bin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"},
		uid: 0, netns: hostNS, soft: 1048576, hard: 1048576, threads: 14, rssKB: 80400,
		fds: []string{"/dev/null", sockLink(ino.next()), sockLink(ino.next()), sockLink(ino.next()), "anon_inode:[eventpoll]"},
	})
	lis, in, out := ino.next(), ino.next(), ino.next()
	t.procs = append(t.procs, proc{
		pid: 1500, ppid: 640, name: "docker-proxy",
		cmdline: []string{"/usr/bin/docker-proxy", "-proto", "tcp", "-host-ip", "0.0.0.0", "-host-port", "8080",
			"-container-ip", "172.17.0.2", "-container-port", "80"},
		uid: 0, netns: hostNS, soft: 1048576, hard: 1048576, threads: 6, rssKB: 3900,
		fds: []string{"/dev/null", "/dev/null", "/dev/null", "anon_inode:[eventpoll]", "pipe:[70100001]", sockLink(lis), sockLink(in), sockLink(out)},
	})
	t.tcp = append(t.tcp,
		sock{local: ap("0.0.0.0:8080"), remote: ap("0.0.0.0:0"), state: listen, inode: lis},
		sock{local: ap("10.0.0.11:8080"), remote: ap("192.0.2.30:53000"), state: established, inode: in},
		sock{local: ap("172.17.0.1:41234"), remote: ap("172.17.0.2:80"), state: established, inode: out},
		sock{local: ap("10.0.0.11:8080"), remote: ap("192.0.2.30:52990"), state: timeWait, timer: timerTW, when: 0x1388, tw: true},
		sock{local: ap("172.17.0.1:41200"), remote: ap("172.17.0.2:80"), state: timeWait, timer: timerTW, when: 0x1324, tw: true})
	t.tcp6 = nil

	// The container: nginx master (PID 1 inside) and one worker.
	cl4, cl6, cin, cout := ino.next(), ino.next(), ino.next(), ino.next()
	common := []string{"/dev/null", "pipe:[70100100]", "pipe:[70100101]", sockLink(ino.next()), sockLink(cl4), sockLink(cl6)}
	master := append(append([]string(nil), common...), sockLink(ino.next()))
	worker := append(append([]string(nil), common...), "anon_inode:[eventpoll]", sockLink(cin), sockLink(cout))
	t.procs = append(t.procs,
		proc{pid: 5001, ppid: 4990, nspid: []int{1}, name: "nginx", uid: 0, netns: containerNS,
			soft: 1048576, hard: 1048576, fds: master, threads: 1, rssKB: 6100,
			cmdline: []string{"nginx: master process nginx -g daemon off;"}},
		proc{pid: 5002, ppid: 5001, nspid: []int{29}, name: "nginx", uid: 10005, netns: containerNS,
			soft: 1048576, hard: 1048576, fds: worker, threads: 1, rssKB: 3500,
			cmdline: []string{"nginx: worker process"}},
	)
	t.nsTables[containerNS] = [2][]sock{
		{
			{local: ap("0.0.0.0:80"), remote: ap("0.0.0.0:0"), state: listen, inode: cl4},
			{local: ap("172.17.0.2:80"), remote: ap("172.17.0.1:41234"), state: established, uid: 10005, inode: cin},
			{local: ap("172.17.0.2:39000"), remote: ap("10.0.0.20:5432"), state: established, uid: 10005, inode: cout},
			{local: ap("172.17.0.2:80"), remote: ap("172.17.0.1:41200"), state: timeWait, timer: timerTW, when: 0x1324, tw: true},
		},
		{
			{local: ap("[::]:80"), remote: ap("[::]:0"), state: listen, inode: cl6},
		},
	}
	t.sys.tcpMemPages, t.sys.sockets, t.fileAlloc = 2, 57, 2304
	return t
}

// denied is a shared host seen by an unprivileged reader: the test makes
// 101 unreadable and 102 vanish through FS.faults.
func denied() *tree {
	t := &tree{dir: "testdata/denied/proc", hostname: "shared-1", self: 100, sys: defaultSys()}
	ino := inodes(15300000)
	lis, conn, backup := ino.next(), ino.next(), ino.next()
	t.procs = []proc{
		{pid: 100, ppid: 1, name: "webapp", cmdline: []string{"/srv/webapp/bin/webapp", "-addr", ":8000"},
			uid: 10006, netns: hostNS, soft: 1024, hard: 4096, threads: 7, rssKB: 14100,
			fds: []string{"/dev/null", "/srv/webapp/log/out.log", "/srv/webapp/log/out.log", "anon_inode:[eventpoll]", sockLink(lis), sockLink(conn)}},
		{pid: 101, ppid: 1, name: "backup-agent", cmdline: []string{"/usr/local/bin/backup-agent", "--target", "10.0.0.40"},
			uid: 10007, netns: hostNS, soft: 1024, hard: 4096, threads: 3, rssKB: 9200,
			fds: []string{"/dev/null", "/dev/null", "/dev/null", sockLink(backup)}},
		{pid: 102, ppid: 1, name: "curl", cmdline: []string{"curl", "-s", "http://10.0.0.41/health"},
			uid: 10006, netns: hostNS, soft: 1024, hard: 4096, threads: 1, rssKB: 7300,
			fds: []string{"/dev/null", fmt.Sprintf("pipe:[%d]", ino.next()), fmt.Sprintf("pipe:[%d]", ino.next())}},
	}
	t.tcp = []sock{
		{local: ap("0.0.0.0:8000"), remote: ap("0.0.0.0:0"), state: listen, uid: 10006, inode: lis},
		{local: ap("10.0.0.12:8000"), remote: ap("192.0.2.50:52000"), state: established, uid: 10006, inode: conn},
		{local: ap("10.0.0.12:43000"), remote: ap("10.0.0.40:873"), state: established, uid: 10007, inode: backup},
		// curl's connection, closed just now.
		{local: ap("10.0.0.12:44000"), remote: ap("10.0.0.41:80"), state: timeWait, timer: timerTW, when: 0x1700, tw: true},
	}
	t.sys.tcpMemPages, t.sys.sockets, t.fileAlloc = 1, 22, 704
	return t
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

func (t *tree) write() {
	t.file("sys/kernel/hostname", t.hostname+"\n")
	t.file("sys/fs/file-max", fmt.Sprintf("%d\n", t.sys.fileMax))
	// fs/file_table.c proc_nr_files: "%lu\t%lu\t%lu\n".
	t.file("sys/fs/file-nr", fmt.Sprintf("%d\t0\t%d\n", t.fileAlloc, t.sys.fileMax))
	t.file("sys/net/ipv4/tcp_fin_timeout", fmt.Sprintf("%d\n", t.sys.finTimeout))
	t.file("sys/net/ipv4/tcp_max_orphans", fmt.Sprintf("%d\n", t.sys.maxOrphans))
	t.file("sys/net/ipv4/tcp_max_tw_buckets", fmt.Sprintf("%d\n", t.sys.maxTW))
	t.file("sys/net/ipv4/ip_local_port_range", fmt.Sprintf("%d\t%d\n", t.sys.portLow, t.sys.portHigh))
	t.writeNet("net", t.tcp, t.tcp6, t.sys.tcpMemPages, t.sys.sockets)
	t.link("self", fmt.Sprint(t.self))
	for _, p := range t.procs {
		t.writeProc(p)
	}
}

// writeNet writes a namespace's tables and its sockstat.
func (t *tree) writeNet(dir string, tcp, tcp6 []sock, mem, sockets int) {
	var b strings.Builder
	b.WriteString(pad149("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"))
	for i, s := range tcp {
		b.WriteString(formatTCP4(i, s, t.dir+dir))
	}
	t.file(dir+"/tcp", b.String())
	b.Reset()
	b.WriteString("  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	for i, s := range tcp6 {
		b.WriteString(formatTCP6(i, s, t.dir+dir))
	}
	t.file(dir+"/tcp6", b.String())

	// net/ipv4/proc.c sockstat_seq_show. inuse counts IPv4 TCP sockets
	// that are not timewait minisocks; tw counts those of both families;
	// alloc counts every TCP socket. Orphaned FIN_WAIT2 sockets that became
	// minisocks are in tw, not orphan.
	var st sockstat
	for _, s := range tcp {
		if s.tw {
			st.tw++
		} else {
			st.inuse++
		}
	}
	for _, s := range tcp6 {
		if s.tw {
			st.tw++
		} else {
			st.alloc++
		}
	}
	st.alloc += st.inuse
	t.file(dir+"/sockstat", fmt.Sprintf("sockets: used %d\nTCP: inuse %d orphan %d tw %d alloc %d mem %d\nUDP: inuse 2 mem 1\nUDPLITE: inuse 0\nRAW: inuse 0\nFRAG: inuse 0 memory 0\n",
		sockets, st.inuse, t.sys.orphans, st.tw, st.alloc, mem))
}

// pad149 pads a line the way tcp4_seq_show does: seq_setwidth(seq,
// TMPSZ - 1) and seq_pad(seq, '\n'), TMPSZ being 150.
func pad149(s string) string {
	if len(s) < 149 {
		s += strings.Repeat(" ", 149-len(s))
	}
	return s + "\n"
}

// hexAddr4 prints an IPv4 address as the kernel's %08X of the __be32: the
// bytes reversed on a little-endian machine.
func hexAddr4(a netip.Addr) string {
	b := a.As4()
	return fmt.Sprintf("%08X", binary.LittleEndian.Uint32(b[:]))
}

// hexAddr6 prints the four s6_addr32 words with %08X each.
func hexAddr6(a netip.Addr) string {
	b := a.As16()
	var s strings.Builder
	for w := range 4 {
		fmt.Fprintf(&s, "%08X", binary.LittleEndian.Uint32(b[w*4:]))
	}
	return s.String()
}

// kptr stands for the %pK column: a hashed kernel pointer, invented.
func kptr(where string, slot int) string {
	h := fnv.New32a()
	fmt.Fprintf(h, "%s/%d", where, slot)
	return fmt.Sprintf("00000000%08x", h.Sum32())
}

// fullTail is what get_tcp4_sock and get_tcp6_sock print after the inode:
// refcount, socket pointer, rto, ato, quick/pingpong, cwnd and ssthresh
// (or the fastopen queue length for a listener).
func fullTail(s sock, where string, slot int) string {
	ref := 1
	if s.timer != timerNone {
		ref = 2 // the timer holds a reference
	}
	if s.state == listen {
		return fmt.Sprintf("%d %s 100 0 0 10 0", ref, kptr(where, slot))
	}
	rto := 20
	if s.retrans > 0 {
		rto = 20 << s.retrans
	}
	return fmt.Sprintf("%d %s %d 4 30 10 -1", ref, kptr(where, slot), rto)
}

// formatTCP4 prints a row of net/tcp: get_tcp4_sock, or
// get_timewait4_sock for a timewait minisock (net/ipv4/tcp_ipv4.c).
func formatTCP4(i int, s sock, where string) string {
	l, r := s.local, s.remote
	if s.tw {
		return pad149(fmt.Sprintf("%4d: %s:%04X %s:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %s",
			i, hexAddr4(l.Addr()), l.Port(), hexAddr4(r.Addr()), r.Port(), s.state, 0, 0,
			3, s.when, 0, 0, 0, 0, 3, kptr(where, i)))
	}
	return pad149(fmt.Sprintf("%4d: %s:%04X %s:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d %s",
		i, hexAddr4(l.Addr()), l.Port(), hexAddr4(r.Addr()), r.Port(), s.state, s.tx, s.rx,
		s.timer, s.when, s.retrans, s.uid, s.probes, s.inode, fullTail(s, where, i)))
}

// formatTCP6 prints a row of net/tcp6: get_tcp6_sock or
// get_timewait6_sock (net/ipv6/tcp_ipv6.c). Unlike tcp4, no padding.
func formatTCP6(i int, s sock, where string) string {
	l, r := s.local, s.remote
	if s.tw {
		return fmt.Sprintf("%4d: %s:%04X %s:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %s\n",
			i, hexAddr6(l.Addr()), l.Port(), hexAddr6(r.Addr()), r.Port(), s.state, 0, 0,
			3, s.when, 0, 0, 0, 0, 3, kptr(where, i))
	}
	return fmt.Sprintf("%4d: %s:%04X %s:%04X %02X %08X:%08X %02X:%08X %08X %5d %8d %d %s\n",
		i, hexAddr6(l.Addr()), l.Port(), hexAddr6(r.Addr()), r.Port(), s.state, s.tx, s.rx,
		s.timer, s.when, s.retrans, s.uid, s.probes, s.inode, fullTail(s, where, i))
}

func (t *tree) writeProc(p proc) {
	dir := fmt.Sprint(p.pid)
	comm := p.name
	if len(comm) > 15 {
		comm = comm[:15]
	}
	t.file(dir+"/comm", comm+"\n")
	t.file(dir+"/cmdline", strings.Join(p.cmdline, "\x00")+"\x00")
	t.file(dir+"/status", status(p, comm))
	t.file(dir+"/stat", stat(p, comm))
	t.file(dir+"/limits", limits(p.soft, p.hard))
	t.link(dir+"/ns/net", fmt.Sprintf("net:[%d]", p.netns))
	for n, target := range p.fds {
		t.link(fmt.Sprintf("%s/fd/%d", dir, n), target)
	}
	// PID/net is the process's namespace. A host process's PID/net holds
	// the same tables as the root's net/: a relative symlink stands for the
	// copy, which would only make the trees larger.
	if p.netns == hostNS {
		t.link(dir+"/net", "../net")
	} else {
		tables := t.nsTables[p.netns]
		t.writeNet(dir+"/net", tables[0], tables[1], 1, 9)
	}
}

// status prints PID/status as fs/proc/array.c proc_pid_status does.
func status(p proc, comm string) string {
	ids := func(host int) string {
		s := fmt.Sprint(host)
		for _, n := range p.nspid {
			s += fmt.Sprintf("\t%d", n)
		}
		return s
	}
	caps := "0000000000000000"
	if p.uid == 0 {
		caps = "000001ffffffffff"
	}
	fdSize := 64
	for fdSize < len(p.fds) {
		fdSize *= 2
	}
	vm := p.rssKB * 4
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	w("Name:\t%s", comm)
	w("Umask:\t0022")
	w("State:\tS (sleeping)")
	w("Tgid:\t%d", p.pid)
	w("Ngid:\t0")
	w("Pid:\t%d", p.pid)
	w("PPid:\t%d", p.ppid)
	w("TracerPid:\t0")
	w("Uid:\t%d\t%d\t%d\t%d", p.uid, p.uid, p.uid, p.uid)
	w("Gid:\t%d\t%d\t%d\t%d", p.uid, p.uid, p.uid, p.uid)
	w("FDSize:\t%d", fdSize)
	w("Groups:\t ")
	w("NStgid:\t%s", ids(p.pid))
	w("NSpid:\t%s", ids(p.pid))
	w("NSpgid:\t%s", ids(p.pid))
	w("NSsid:\t%s", ids(p.pid))
	w("Kthread:\t0")
	w("VmPeak:\t%8d kB", vm+1024)
	w("VmSize:\t%8d kB", vm)
	w("VmLck:\t%8d kB", 0)
	w("VmPin:\t%8d kB", 0)
	w("VmHWM:\t%8d kB", p.rssKB+512)
	w("VmRSS:\t%8d kB", p.rssKB)
	w("RssAnon:\t%8d kB", p.rssKB*3/4)
	w("RssFile:\t%8d kB", p.rssKB-p.rssKB*3/4)
	w("RssShmem:\t%8d kB", 0)
	w("VmData:\t%8d kB", vm/2)
	w("VmStk:\t%8d kB", 132)
	w("VmExe:\t%8d kB", 1204)
	w("VmLib:\t%8d kB", 5848)
	w("VmPTE:\t%8d kB", 96)
	w("VmSwap:\t%8d kB", 0)
	w("HugetlbPages:\t%8d kB", 0)
	w("CoreDumping:\t0")
	w("THP_enabled:\t1")
	w("untag_mask:\t0xffffffffffffffff")
	w("Threads:\t%d", p.threads)
	w("SigQ:\t0/63446")
	w("SigPnd:\t0000000000000000")
	w("ShdPnd:\t0000000000000000")
	w("SigBlk:\t0000000000000000")
	w("SigIgn:\t0000000000001000")
	w("SigCgt:\t0000000180004a03")
	w("CapInh:\t0000000000000000")
	w("CapPrm:\t%s", caps)
	w("CapEff:\t%s", caps)
	w("CapBnd:\t000001ffffffffff")
	w("CapAmb:\t0000000000000000")
	w("NoNewPrivs:\t0")
	w("Seccomp:\t0")
	w("Seccomp_filters:\t0")
	w("Speculation_Store_Bypass:\tthread vulnerable")
	w("SpeculationIndirectBranch:\tconditional enabled")
	w("Cpus_allowed:\tf")
	w("Cpus_allowed_list:\t0-3")
	w("Mems_allowed:\t00000000,00000001")
	w("Mems_allowed_list:\t0")
	w("voluntary_ctxt_switches:\t%d", 1000+p.pid*7)
	w("nonvoluntary_ctxt_switches:\t%d", 10+p.pid%97)
	return b.String()
}

// stat prints PID/stat as fs/proc/array.c do_task_stat does: 52 fields,
// "pid (comm) state ppid pgrp session tty_nr tpgid flags ...". Times,
// addresses and counters are invented but plausible.
func stat(p proc, comm string) string {
	pages := p.rssKB / 4
	start := 1000 + p.pid*13
	code := 0x55d0a0000000 + uint64(p.pid)<<20
	stack := 0x7ffc00000000 + uint64(p.pid)<<16
	pgrp := p.pid // daemons lead their own group; forked workers stay in the parent's
	if p.ppid > 1 {
		pgrp = p.ppid
	}
	return fmt.Sprintf("%d (%s) S %d %d %d 0 -1 4194560 %d 0 %d 0 %d %d 0 0 20 0 %d 0 %d %d %d 18446744073709551615 "+
		"%d %d %d 0 0 0 0 4096 16387 0 0 0 17 %d 0 0 0 0 0 %d %d %d %d %d %d %d 0\n",
		p.pid, comm, p.ppid, pgrp, pgrp, 200+p.pid%500, p.pid%7, 10+p.pid%40, 5+p.pid%20,
		p.threads, start, p.rssKB*4*1024, pages,
		code, code+0x1a000, stack, p.pid%4,
		code+0x2b000, code+0x2c000, code+0x100000, stack+0x1f00, stack+0x1f40, stack+0x1f40, stack+0x1fe0)
}

// limits prints PID/limits as fs/proc/base.c proc_pid_limits does:
// "%-25s %-20s %-20s %-10s" with a unit, "%-25s %-20s %-20s " without.
func limits(soft, hard int64) string {
	v := func(n int64) string {
		if n < 0 {
			return "unlimited"
		}
		return fmt.Sprint(n)
	}
	rows := []struct {
		name       string
		soft, hard string
		unit       string
	}{
		{"Max cpu time", "unlimited", "unlimited", "seconds"},
		{"Max file size", "unlimited", "unlimited", "bytes"},
		{"Max data size", "unlimited", "unlimited", "bytes"},
		{"Max stack size", "8388608", "unlimited", "bytes"},
		{"Max core file size", "0", "unlimited", "bytes"},
		{"Max resident set", "unlimited", "unlimited", "bytes"},
		{"Max processes", "63446", "63446", "processes"},
		{"Max open files", v(soft), v(hard), "files"},
		{"Max locked memory", "8388608", "8388608", "bytes"},
		{"Max address space", "unlimited", "unlimited", "bytes"},
		{"Max file locks", "unlimited", "unlimited", "locks"},
		{"Max pending signals", "63446", "63446", "signals"},
		{"Max msgqueue size", "819200", "819200", "bytes"},
		{"Max nice priority", "0", "0", ""},
		{"Max realtime priority", "0", "0", ""},
		{"Max realtime timeout", "unlimited", "unlimited", "us"},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-25s %-20s %-20s ", r.name, r.soft, r.hard)
		if r.unit != "" {
			fmt.Fprintf(&b, "%-10s", r.unit)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func (t *tree) file(rel, content string) { writeFile(filepath.Join(t.dir, rel), content) }

func (t *tree) link(rel, target string) {
	p := filepath.Join(t.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		log.Fatal(err)
	}
}

func writeFile(path, content string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		log.Fatal(err)
	}
}

// broken writes malformed inputs, one defect each, and two trees whose
// socket table is missing or malformed.
func broken() {
	const dir = "testdata/broken"
	header := pad149("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode")
	good := func(i int) string {
		return formatTCP4(i, sock{local: ap("127.0.0.1:8080"), remote: ap("0.0.0.0:0"), state: listen, inode: 40000 + uint64(i)}, "broken")
	}
	est := formatTCP4(1, sock{local: ap("10.0.0.7:40000"), remote: ap("10.0.0.5:7000"), state: established, uid: 10001, inode: 40001}, "broken")
	files := map[string]string{
		// A 'G' in the local address: line 3.
		"net/tcp_bad_hex": header + good(0) + mustReplace(est, "0700000A:9C40", "0700000G:9C40"),
		// Cut after the uid: eight fields. Line 2.
		"net/tcp_short_line": header + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n" + good(1),
		// No header: the first line is a socket.
		"net/tcp_no_header": good(0) + est,
		// Not a socket table at all.
		"net/tcp_junk": "Hello, this is not /proc/net/tcp.\n<html><body>404</body></html>\n",
		// Nine hex digits in the remote address: line 2.
		"net/tcp_long_address": header + mustReplace(good(0), " 00000000:0000 ", " 000000000:0000 "),
		// State "0Z": line 3.
		"net/tcp_bad_state": header + good(0) + mustReplace(est, " 01 00000000:", " 0Z 00000000:"),
		// The same table with CRLF line endings, as after a trip through
		// Windows: parses like the original.
		"net/tcp_crlf": strings.ReplaceAll(header+good(0)+est, "\n", "\r\n"),
		// An empty file: the kernel always prints the header, so this is an
		// error rather than "no sockets".
		"net/tcp_empty": "",
		// A tcp6 table holding an IPv4 row: the address is 8 digits, not 32.
		"net/tcp6_short_address": "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" + good(0),
		// limits without its header line.
		"limits/no_header": strings.SplitN(limits(1024, 4096), "\n", 2)[1],
		// "Max open files" with a soft limit that is not a number: line 9.
		"limits/garbage": mustReplace(limits(1024, 4096), fmt.Sprintf("%-25s %-20s", "Max open files", "1024"), fmt.Sprintf("%-25s %-20s", "Max open files", "lots")),
		// No "Max open files" row.
		"limits/no_open_files": mustReplace(limits(1024, 4096), fmt.Sprintf("%-25s %-20s %-20s %-10s\n", "Max open files", "1024", "4096", "files"), ""),
	}
	for name, content := range files {
		writeFile(filepath.Join(dir, name), content)
	}

	// Two small trees: one without net/tcp (tcp6 is there), one whose
	// net/tcp has a malformed fourth line.
	for _, name := range []string{"missing_tcp", "malformed_tcp"} {
		ino := inodes(90000000)
		t := &tree{dir: filepath.Join(dir, name, "proc"), hostname: "broken-1", self: 1, sys: defaultSys()}
		t.procs = []proc{systemd(&ino)}
		l := ino.next()
		t.procs = append(t.procs, proc{pid: 300, ppid: 1, name: "app", cmdline: []string{"/usr/bin/app"}, uid: 10008,
			netns: hostNS, soft: 1024, hard: 4096, threads: 1, rssKB: 4000,
			fds: []string{"/dev/null", "/dev/null", "/dev/null", sockLink(l)}})
		t.tcp = []sock{
			{local: ap("0.0.0.0:9000"), remote: ap("0.0.0.0:0"), state: listen, uid: 10008, inode: l},
			{local: ap("10.0.0.13:9000"), remote: ap("192.0.2.60:50000"), state: timeWait, timer: timerTW, when: 0x100, tw: true},
			{local: ap("10.0.0.13:9000"), remote: ap("192.0.2.60:50001"), state: timeWait, timer: timerTW, when: 0x200, tw: true},
		}
		t.write()
		tcp := filepath.Join(t.dir, "net", "tcp")
		if name == "missing_tcp" {
			if err := os.Remove(tcp); err != nil {
				log.Fatal(err)
			}
			continue
		}
		b, err := os.ReadFile(tcp)
		if err != nil {
			log.Fatal(err)
		}
		lines := strings.SplitAfter(string(b), "\n")
		// Line 4 (the second TIME_WAIT) loses its remote port's colon.
		a := hexAddr4(netip.MustParseAddr("192.0.2.60"))
		lines[3] = mustReplace(lines[3], a+":C351", a+"C351")
		writeFile(tcp, strings.Join(lines, ""))
	}
}
