package main

import "fmt"

// denied is a shared host seen by an unprivileged reader: the test makes
// 101 unreadable and 102 vanish through FS.faults. There is no systemd: the
// reader, self, is PID 100.
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
	t.kernel(1, 22, 704)
	return t
}
