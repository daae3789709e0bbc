package main

// ipv6 is a dual-stack proxy: tcp6 holds ::1, 2001:db8:: addresses, the
// wildcard and IPv4-mapped connections accepted on the [::] listener.
func ipv6() *tree {
	t, ino := newHost("testdata/ipv6/proc", "v6-edge-1", 61700000)
	const uid = 10004
	haproxy := fdTable{ino: ino, uid: uid, fds: []string{"/dev/null", "/dev/null", "/dev/null", "anon_inode:[eventpoll]"}}
	add := haproxy.add
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
		pid: 600, ppid: 1, name: "haproxy", uid: uid, netns: hostNS, soft: 4096, hard: 4096, fds: haproxy.fds, threads: 4, rssKB: 21600,
		cmdline: []string{"/usr/sbin/haproxy", "-Ws", "-f", "/etc/haproxy/haproxy.cfg", "-p", "/run/haproxy.pid"},
	})
	t.kernel(2, 38, 960)
	return t
}
