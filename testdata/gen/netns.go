package main

// netns is a Docker host: the container's sockets live in its own
// namespace, visible only through its processes' PID/net.
func netns() *tree {
	t, ino := newHost("testdata/netns/proc", "docker-host-1", 70100000)
	t.nsTables = map[uint64][2][]sock{}
	t.procs = append(t.procs, proc{
		pid: 640, ppid: 1, name: "dockerd", cmdline: []string{"/usr/bin/dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"},
		uid: 0, netns: hostNS, soft: 1048576, hard: 1048576, threads: 14, rssKB: 80400,
		fds: []string{"/dev/null", sockLink(ino.next()), sockLink(ino.next()), sockLink(ino.next()), "anon_inode:[eventpoll]"},
	})
	proxy := fdTable{ino: ino, fds: []string{"/dev/null", "/dev/null", "/dev/null", "anon_inode:[eventpoll]", "pipe:[70100001]"}}
	proxy.add(&t.tcp, sock{local: ap("0.0.0.0:8080"), remote: ap("0.0.0.0:0"), state: listen})
	proxy.add(&t.tcp, sock{local: ap("10.0.0.11:8080"), remote: ap("192.0.2.30:53000"), state: established})
	proxy.add(&t.tcp, sock{local: ap("172.17.0.1:41234"), remote: ap("172.17.0.2:80"), state: established})
	t.procs = append(t.procs, proc{
		pid: 1500, ppid: 640, name: "docker-proxy",
		cmdline: []string{"/usr/bin/docker-proxy", "-proto", "tcp", "-host-ip", "0.0.0.0", "-host-port", "8080",
			"-container-ip", "172.17.0.2", "-container-port", "80"},
		uid: 0, netns: hostNS, soft: 1048576, hard: 1048576, threads: 6, rssKB: 3900, fds: proxy.fds,
	})
	t.tcp = append(t.tcp,
		sock{local: ap("10.0.0.11:8080"), remote: ap("192.0.2.30:52990"), state: timeWait, timer: timerTW, when: 0x1388, tw: true},
		sock{local: ap("172.17.0.1:41200"), remote: ap("172.17.0.2:80"), state: timeWait, timer: timerTW, when: 0x1324, tw: true})
	t.tcp6 = nil

	// The container: nginx master (PID 1 inside) and one worker. Their
	// sockets are in the container's tables, not the host's.
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
	t.kernel(2, 57, 2304)
	return t
}
