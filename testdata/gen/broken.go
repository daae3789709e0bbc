package main

import (
	"fmt"
	"log"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
)

const brokenDir = "testdata/broken"

// broken writes malformed inputs, one defect each, and two trees whose
// socket table is missing or malformed.
func broken() {
	for name, content := range brokenFiles() {
		writeFile(filepath.Join(brokenDir, name), content)
	}
	for _, name := range []string{"missing_tcp", "malformed_tcp"} {
		brokenTree(name)
	}
}

// brokenFiles are the malformed net/tcp, net/tcp6 and limits files, by
// path under broken/.
func brokenFiles() map[string]string {
	good := func(i int) string {
		return formatTCP4(i, sock{local: ap("127.0.0.1:8080"), remote: ap("0.0.0.0:0"), state: listen, inode: 40000 + uint64(i)}, "broken")
	}
	est := formatTCP4(1, sock{local: ap("10.0.0.7:40000"), remote: ap("10.0.0.5:7000"), state: established, uid: 10001, inode: 40001}, "broken")
	return map[string]string{
		// A 'G' in the local address: line 3.
		"net/tcp_bad_hex": tcp4Header + good(0) + mustReplace(est, "0700000A:9C40", "0700000G:9C40"),
		// Cut after the uid: eight fields. Line 2.
		"net/tcp_short_line": tcp4Header + "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0\n" + good(1),
		// No header: the first line is a socket.
		"net/tcp_no_header": good(0) + est,
		// Not a socket table at all.
		"net/tcp_junk": "Hello, this is not /proc/net/tcp.\n<html><body>404</body></html>\n",
		// Nine hex digits in the remote address: line 2.
		"net/tcp_long_address": tcp4Header + mustReplace(good(0), " 00000000:0000 ", " 000000000:0000 "),
		// State "0Z": line 3.
		"net/tcp_bad_state": tcp4Header + good(0) + mustReplace(est, " 01 00000000:", " 0Z 00000000:"),
		// The same table with CRLF line endings, as after a trip through
		// Windows: parses like the original.
		"net/tcp_crlf": strings.ReplaceAll(tcp4Header+good(0)+est, "\n", "\r\n"),
		// An empty file: the kernel always prints the header, so this is an
		// error rather than "no sockets".
		"net/tcp_empty": "",
		// A tcp6 table holding an IPv4 row: the address is 8 digits, not 32.
		"net/tcp6_short_address": tcp6Header + good(0),
		// limits without its header line.
		"limits/no_header": strings.SplitN(limits(1024, 4096), "\n", 2)[1],
		// "Max open files" with a soft limit that is not a number: line 9.
		"limits/garbage": mustReplace(limits(1024, 4096), fmt.Sprintf("%-25s %-20s", "Max open files", "1024"), fmt.Sprintf("%-25s %-20s", "Max open files", "lots")),
		// No "Max open files" row.
		"limits/no_open_files": mustReplace(limits(1024, 4096), fmt.Sprintf("%-25s %-20s %-20s %-10s\n", "Max open files", "1024", "4096", "files"), ""),
	}
}

// brokenTree writes one of two small trees: missing_tcp has no net/tcp
// (tcp6 is there); malformed_tcp's net/tcp has a malformed fourth line.
func brokenTree(name string) {
	t, ino := newHost(filepath.Join(brokenDir, name, "proc"), "broken-1", 90000000)
	app := fdTable{ino: ino, uid: 10008, fds: []string{"/dev/null", "/dev/null", "/dev/null"}}
	app.add(&t.tcp, sock{local: ap("0.0.0.0:9000"), remote: ap("0.0.0.0:0"), state: listen})
	t.procs = append(t.procs, proc{pid: 300, ppid: 1, name: "app", cmdline: []string{"/usr/bin/app"}, uid: 10008,
		netns: hostNS, soft: 1024, hard: 4096, threads: 1, rssKB: 4000, fds: app.fds})
	t.tcp = append(t.tcp,
		sock{local: ap("10.0.0.13:9000"), remote: ap("192.0.2.60:50000"), state: timeWait, timer: timerTW, when: 0x100, tw: true},
		sock{local: ap("10.0.0.13:9000"), remote: ap("192.0.2.60:50001"), state: timeWait, timer: timerTW, when: 0x200, tw: true})
	t.write()
	tcp := filepath.Join(t.dir, "net", "tcp")
	if name == "missing_tcp" {
		if err := os.Remove(tcp); err != nil {
			log.Fatal(err)
		}
		return
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

// mustReplace replaces old with new once; a fixture whose defect did not
// land would test nothing.
func mustReplace(s, old, new string) string {
	if !strings.Contains(s, old) {
		log.Fatalf("%q not found in %q", old, s)
	}
	return strings.Replace(s, old, new, 1)
}
