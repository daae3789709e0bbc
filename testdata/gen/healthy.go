package main

// healthy is a web server doing fine: nginx master and two workers share
// the listening sockets, as after fork.
func healthy() *tree {
	t, ino := newHost("testdata/healthy/proc", "web-1", 22040000)
	rnd := lcg(13)
	t.sshd(ino, 700, 8960)

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
		worker := fdTable{ino: ino, uid: wuid, fds: append([]string(nil), common...)}
		worker.fds = append(worker.fds, sockLink(ino.next()), "anon_inode:[eventpoll]", "anon_inode:[eventfd]")
		for _, c := range workerConns[pid] {
			worker.add(&t.tcp, sock{
				local: addrPort("10.0.0.10", c.local), remote: addrPort(c.client, c.port), state: established,
				timer: timerKeepalive, when: uint32(6000 + rnd.next(6000))})
		}
		if pid == 901 { // upstream to postgres
			worker.add(&t.tcp, sock{local: ap("10.0.0.10:39702"), remote: ap("10.0.0.20:5432"), state: established})
		}
		t.procs = append(t.procs, proc{
			pid: pid, ppid: 900, name: "nginx", cmdline: []string{"nginx: worker process"},
			uid: wuid, netns: hostNS, soft: 8192, hard: 8192, fds: worker.fds, threads: 1, rssKB: 5120,
		})
	}
	// Keep-alive timeouts: nginx closes first, so the TIME_WAIT is here.
	for i, c := range []string{"192.0.2.13:40100", "192.0.2.13:40101", "192.0.2.14:55012", "192.0.2.14:55013"} {
		t.tcp = append(t.tcp, sock{local: ap("10.0.0.10:443"), remote: ap(c), state: timeWait,
			timer: timerTW, when: uint32(1200 + i*1100), tw: true})
	}
	shuffle(t.tcp, &rnd)
	t.kernel(4, 112, 1536)
	return t
}
