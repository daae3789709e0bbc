package main

import (
	"fmt"
	"net/netip"
)

// The hung tree's numbers: tests in inspect and report hard-code them.
const (
	hungAccepted     = 20 // accepted before the stop, now CLOSE_WAIT with an fd
	hungQueuedEstab  = 12 // in the accept queue, clients still waiting
	hungQueuedClosed = 40 // in the accept queue, clients gave up (CLOSE_WAIT)
	hungQueuedRemote = 3  // in the accept queue from 10.0.0.20, CLOSE_WAIT
	// The clients' ends left in FIN_WAIT2: orphaned ones expire after
	// tcp_fin_timeout, so only the last minute's are left.
	hungOrphanedAccepted = 10 // of the accepted connections
	hungOrphanedQueued   = 20 // of the queued ones
	hungHalfClosed       = 2  // of the queued ones, still owned (shutdown(SHUT_WR))
	hungRequest          = 14 // "*1\r\n$4\r\nPING\r\n", never read
)

// hung is a host whose cache server was stopped (SIGSTOP, a debugger): it
// neither accepts nor reads, and its clients on the same host time out and
// close. Its listener's accept queue fills with connections that have no
// descriptor (inode 0): ESTABLISHED while their clients wait, CLOSE_WAIT
// once they gave up; their other ends are the clients' ESTABLISHED and
// FIN_WAIT2 sockets, orphaned or not.
func hung() *tree {
	t, ino := newHost("testdata/hung/proc", "cache-1", 27310000)
	rnd := lcg(17)
	t.sshd(ino, 700, 9012)

	// redis-server, stopped: fds 0-5 are not sockets, 6 and 7 listen on
	// :6379 and [::]:6379, 8-27 are the connections it accepted before it
	// stopped, each now holding the client's unread PING and FIN.
	const ruid, cuid = 10009, 10008
	redis := fdTable{ino: ino, uid: ruid, fds: []string{"/dev/null", "/dev/null", "/var/log/redis/redis-server.log",
		fmt.Sprintf("pipe:[%d]", ino.next()), fmt.Sprintf("pipe:[%d]", ino.next()), "anon_inode:[eventpoll]"}}
	queued := hungQueuedEstab + hungQueuedClosed + hungQueuedRemote
	// get_tcp4_sock prints sk_ack_backlog, the accept queue's length, as
	// a listener's rx_queue, and 0 as its tx_queue: the backlog (511, as
	// redis asks) is only in sock_diag's idiag_wqueue.
	redis.add(&t.tcp, sock{local: ap("0.0.0.0:6379"), remote: ap("0.0.0.0:0"), state: listen, rx: uint32(queued)})
	redis.add(&t.tcp6, sock{local: ap("[::]:6379"), remote: ap("[::]:0"), state: listen})

	port := 40100
	client := func() netip.AddrPort { port += 1 + rnd.next(5); return addrPort("127.0.0.1", port) }
	// The client worker, python3 4400, holds the connections still
	// waiting for an answer and the two it half-closed; the ones it
	// closed are orphaned FIN_WAIT2, their tcp_fin_timeout counting down:
	// only the last minute's are left.
	worker := fdTable{ino: ino, uid: cuid, fds: []string{"/dev/null", "/dev/null", "/dev/null", "anon_inode:[eventpoll]"}}
	for i := range hungAccepted {
		c := client()
		redis.add(&t.tcp, sock{local: ap("127.0.0.1:6379"), remote: c, state: closeWait, rx: hungRequest + 1})
		if i >= hungAccepted-hungOrphanedAccepted { // the most recent
			t.tcp = append(t.tcp, sock{local: c, remote: ap("127.0.0.1:6379"), state: finWait2,
				timer: timerTW, when: uint32(400 + i*170), tw: true})
		}
	}
	for i := range hungQueuedClosed {
		c := client()
		t.tcp = append(t.tcp, sock{local: ap("127.0.0.1:6379"), remote: c, state: closeWait, rx: hungRequest + 1, uid: ruid})
		switch n := hungQueuedClosed - i; {
		case n <= hungHalfClosed: // the most recent two: half-closed, still owned, no timer
			worker.add(&t.tcp, sock{local: c, remote: ap("127.0.0.1:6379"), state: finWait2})
		case n <= hungHalfClosed+hungOrphanedQueued:
			t.tcp = append(t.tcp, sock{local: c, remote: ap("127.0.0.1:6379"), state: finWait2,
				timer: timerTW, when: uint32(2100 + i*90), tw: true})
		}
	}
	for range hungQueuedEstab {
		c := client()
		t.tcp = append(t.tcp, sock{local: ap("127.0.0.1:6379"), remote: c, state: established, rx: hungRequest, uid: ruid})
		worker.add(&t.tcp, sock{local: c, remote: ap("127.0.0.1:6379"), state: established,
			timer: timerKeepalive, when: uint32(3000 + rnd.next(3000))})
	}
	// The application server's connections, queued on the wildcard
	// listener through the host's own address.
	for i := range hungQueuedRemote {
		t.tcp = append(t.tcp, sock{local: ap("10.0.0.11:6379"), remote: addrPort("10.0.0.20", 51500+i*7), state: closeWait,
			rx: hungRequest + 1, uid: ruid})
	}
	t.procs = append(t.procs, proc{
		pid: 2100, ppid: 1, name: "redis-server", cmdline: []string{"/usr/bin/redis-server 0.0.0.0:6379"}, state: 'T',
		uid: ruid, netns: hostNS, soft: 10032, hard: 10032, fds: redis.fds, threads: 5, rssKB: 11240,
	}, proc{
		pid: 4400, ppid: 1, name: "python3", cmdline: []string{"python3", "/opt/jobs/poll_cache.py"},
		uid: cuid, netns: hostNS, soft: 1024, hard: 524288, fds: worker.fds, threads: 1, rssKB: 21400,
	})
	shuffle(t.tcp, &rnd)
	t.kernel(3, 160, 992)
	return t
}
