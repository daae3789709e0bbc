package main

import "fmt"

// incidentClient is the host whose process leaks: openser keeps 1987
// sockets in CLOSE_WAIT to its peer 10.0.0.5:7000, 97% of its fd limit.
func incidentClient() *tree {
	t, ino := newHost("testdata/incident/client/proc", "sip-edge-1", 48213000)
	rnd := lcg(7)

	t.sshd(ino, 812, 9180,
		sock{local: ap("10.0.0.7:22"), remote: ap("192.0.2.10:51234"), state: established, timer: timerKeepalive, when: 0x0000A2C4})

	// openser: fds 0-5 are not sockets, 6 listens on :5060, 7-1993 are
	// the leaked CLOSE_WAIT sockets (oldest first), 1994-1996 the three
	// live connections: 1997 descriptors against a soft limit of 2048.
	const uid = 10001
	openser := fdTable{ino: ino, uid: uid, fds: []string{"/dev/null", "/dev/null", "/dev/null", "/var/log/openser/openser.log",
		"anon_inode:[eventpoll]", fmt.Sprintf("pipe:[%d]", ino.next())}}
	openser.add(&t.tcp, sock{local: ap("0.0.0.0:5060"), remote: ap("0.0.0.0:0"), state: listen})
	for i := range 1987 {
		// rx_queue is the peer's late reply, never read, plus its FIN.
		openser.add(&t.tcp, sock{
			local: addrPort("10.0.0.7", clientPort(i)), remote: ap("10.0.0.5:7000"), state: closeWait,
			rx: uint32(180 + rnd.next(400) + 1)})
	}
	for i := range 3 {
		openser.add(&t.tcp, sock{
			local: addrPort("10.0.0.7", clientPort(1987+i)), remote: ap("10.0.0.5:7000"), state: established})
	}
	t.procs = append(t.procs, proc{
		pid: 4242, ppid: 1, name: "openser", cmdline: []string{"/usr/sbin/openser", "-f", "/etc/openser/openser.cfg"},
		uid: uid, netns: hostNS, soft: 2048, hard: 4096, fds: openser.fds, threads: 9, rssKB: 48120,
	})
	// A handful of TIME_WAIT from short HTTP calls this host closed first.
	for i := range 5 {
		t.tcp = append(t.tcp, sock{
			local: addrPort("10.0.0.7", 45100+i*17), remote: ap("10.0.0.30:8080"), state: timeWait,
			timer: timerTW, when: uint32(5800 - i*900), tw: true})
	}
	shuffle(t.tcp, &rnd)
	t.kernel(1532, 2011, 3264)
	return t
}

// clientPort is the ephemeral port of the client's i-th connection to the
// peer: distinct for i < 28232 because 7919 is prime to the range's size.
func clientPort(i int) int { return 32768 + (1000+i*7919)%(60999-32768+1) }

// incidentPeer is the other end: slowsvc answers late. The client's leaked
// sockets show here as FIN_WAIT2, orphaned (slowsvc closed them) and
// counting down tcp_fin_timeout: only the last minute's worth is left.
func incidentPeer() *tree {
	t, ino := newHost("testdata/incident/peer/proc", "slowsvc-1", 30512000)
	rnd := lcg(11)
	const uid = 10002
	journal := sockLink(ino.next()) // stdout and stderr go to journald
	slowsvc := fdTable{ino: ino, uid: uid, fds: []string{"/dev/null", journal, journal, "anon_inode:[eventpoll]", "anon_inode:[eventfd]"}}
	slowsvc.add(&t.tcp, sock{local: ap("0.0.0.0:7000"), remote: ap("0.0.0.0:0"), state: listen})
	// The three live connections of the client.
	for i := range 3 {
		slowsvc.add(&t.tcp, sock{
			local: ap("10.0.0.5:7000"), remote: addrPort("10.0.0.7", clientPort(1987+i)), state: established,
			timer: timerNone})
	}
	// Two half-closed connections (shutdown(SHUT_WR)): slowsvc still owns
	// them, so no timer runs; their client ports are leaked ones.
	for i := range 2 {
		slowsvc.add(&t.tcp, sock{
			local: ap("10.0.0.5:7000"), remote: addrPort("10.0.0.7", clientPort(1984+i)), state: finWait2})
	}
	t.procs = append(t.procs, proc{
		pid: 3100, ppid: 1, name: "slowsvc", cmdline: []string{"/opt/slowsvc/bin/slowsvc", "--listen", ":7000"},
		uid: uid, netns: hostNS, soft: 65536, hard: 65536, fds: slowsvc.fds, threads: 12, rssKB: 30112,
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
	t.kernel(3, 41, 1184)
	return t
}
