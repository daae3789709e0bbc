package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
)

// fixtureBootTime is every tree's boot time: 2025-12-01T00:00:00Z.
const fixtureBootTime = 1764547200

// write writes the whole tree: sys/, net/, self and every PID directory.
func (t *tree) write() {
	t.file("sys/kernel/hostname", t.hostname+"\n")
	t.file("sys/fs/file-max", fmt.Sprintf("%d\n", t.sys.fileMax))
	// fs/file_table.c proc_nr_files: "%lu\t%lu\t%lu\n".
	t.file("sys/fs/file-nr", fmt.Sprintf("%d\t0\t%d\n", t.fileAlloc, t.sys.fileMax))
	t.file("sys/net/ipv4/tcp_fin_timeout", fmt.Sprintf("%d\n", t.sys.finTimeout))
	t.file("sys/net/ipv4/tcp_max_orphans", fmt.Sprintf("%d\n", t.sys.maxOrphans))
	t.file("sys/net/ipv4/tcp_max_tw_buckets", fmt.Sprintf("%d\n", t.sys.maxTW))
	t.file("sys/net/ipv4/ip_local_port_range", fmt.Sprintf("%d\t%d\n", t.sys.portLow, t.sys.portHigh))
	// fs/proc/stat.c show_stat, its lines sockleak does not read cut
	// short: "btime %llu" is the boot time, 2025-12-01T00:00:00Z in
	// every tree (watch's start_time).
	t.file("stat", fmt.Sprintf("cpu  10132 290 3084 46828 166 0 251 0 0 0\nintr 1992 24 0 9\nctxt 33021\nbtime %d\n"+
		"processes %d\nprocs_running 1\nprocs_blocked 0\n", fixtureBootTime, 1000+len(t.procs)))
	t.writeNet("net", t.tcp, t.tcp6, t.sys.tcpMemPages, t.sys.sockets)
	t.link("self", fmt.Sprint(t.self))
	for _, p := range t.procs {
		t.writeProc(p)
	}
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
