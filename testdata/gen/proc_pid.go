package main

import (
	"fmt"
	"strings"
)

// writeProc writes PID/: comm, cmdline, status, stat, limits, the ns/net
// and fd/ links, and net.
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

// taskStates are status's State values, as fs/proc/array.c's
// task_state_array names them.
var taskStates = map[byte]string{
	'R': "R (running)", 'S': "S (sleeping)", 'D': "D (disk sleep)", 'T': "T (stopped)",
	't': "t (tracing stop)", 'X': "X (dead)", 'Z': "Z (zombie)", 'P': "P (parked)", 'I': "I (idle)",
}

// taskState is the process's state letter, 'S' unless set.
func (p proc) taskState() byte {
	if p.state == 0 {
		return 'S'
	}
	return p.state
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
	w("State:\t%s", taskStates[p.taskState()])
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
	return fmt.Sprintf("%d (%s) %c %d %d %d 0 -1 4194560 %d 0 %d 0 %d %d 0 0 20 0 %d 0 %d %d %d 18446744073709551615 "+
		"%d %d %d 0 0 0 0 4096 16387 0 0 0 17 %d 0 0 0 0 0 %d %d %d %d %d %d %d 0\n",
		p.pid, comm, p.taskState(), p.ppid, pgrp, pgrp, 200+p.pid%500, p.pid%7, 10+p.pid%40, 5+p.pid%20,
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
