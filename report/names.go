package report

import (
	"fmt"
	"path"
	"strings"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// maxCmdline is how much of a command line, in characters, tells
// processes of one name apart.
const maxCmdline = 40

// labels names each process for people: its name, or, when another
// process that may be shown has the same name, its name and its command
// line, escaped and shortened ("python3 worker.py --queue a"). Names and
// command lines are the process's own text: anything unprintable is
// escaped.
func labels(procs map[int]*ProcessRow, shown func(*ProcessRow) bool) map[int]string {
	byName := map[string]int{}
	for _, p := range procs {
		if shown(p) {
			byName[p.Name]++
		}
	}
	out := make(map[int]string, len(procs))
	for pid, p := range procs {
		out[pid] = wording.Escape(p.Name)
		if byName[p.Name] > 1 {
			if c := ShortCmdline(p.Name, p.Cmdline); c != "" {
				out[pid] += " " + c
			}
		}
	}
	return out
}

// ShortCmdline renders a command line to tell a process from others of its
// name (report's views and watch's use it): without the program when it is the name ("/usr/bin/python3
// worker.py" of python3 is "worker.py"; nginx's "nginx: worker process"
// is "worker process"), escaped, and cut to maxCmdline characters in
// the middle, as both ends tell processes apart (the program's mode, the
// last flag).
func ShortCmdline(name, cmdline string) string {
	c := strings.TrimSpace(cmdline)
	prog, rest, _ := strings.Cut(c, " ")
	if strings.TrimSuffix(path.Base(prog), ":") == name {
		c = strings.TrimSpace(rest)
	}
	r := []rune(wording.Escape(c))
	if len(r) <= maxCmdline {
		return string(r)
	}
	head := maxCmdline * 2 / 3
	return string(r[:head]) + "…" + string(r[len(r)-(maxCmdline-1-head):])
}

// processState says what a process's own state means for its sockets,
// from the state letter of PID/stat; "" when it runs or sleeps as usual.
func processState(st byte) string {
	switch st {
	case 'T', 't':
		return "stopped: SIGSTOP or a debugger"
	case 'Z':
		return "a zombie: it has exited and its parent has not reaped it"
	case 'D':
		return "in uninterruptible sleep (D): blocked in the kernel, on disk or network storage I/O as a rule"
	}
	return ""
}

// stopped reports whether a process runs no code at all: stopped or
// traced (T, t).
func stopped(st byte) bool { return st == 'T' || st == 't' }

// otherNS reports whether ns is a network namespace other than the
// host's, worth naming.
func (r *Report) otherNS(ns uint64) bool {
	host := r.Snapshot.HostNetNS
	return ns != 0 && (ns != host && host != 0 || host == 0 && r.namespaces() > 1)
}

// nsMember returns a process that lives in network namespace ns, the one
// with the lowest PID, or nil.
func (r *Report) nsMember(ns uint64) *inspect.Process {
	var out *inspect.Process
	for i := range r.Snapshot.Processes {
		p := &r.Snapshot.Processes[i]
		if p.NetNS == ns && (out == nil || p.PID < out.PID) {
			out = p
		}
	}
	return out
}

// nsPhrase names a network namespace other than the host's for a finding
// of sockets no process holds: " in network namespace 4026532500 (that of
// pid 5001 (nginx))"; "" for the host's.
func (r *Report) nsPhrase(ns uint64) string {
	if !r.otherNS(ns) {
		return ""
	}
	s := fmt.Sprintf(" in network namespace %d", ns)
	if m := r.nsMember(ns); m != nil {
		s += fmt.Sprintf(" (that of %s)", ownerName(m.PID, r.label(m.PID, m.Name)))
	}
	return s
}

// label is a process's name for messages: see labels.
func (r *Report) label(pid int, name string) string {
	if l, ok := r.labels[pid]; ok {
		return l
	}
	return wording.Escape(name)
}

// procName names a process for its findings: "pid 42 (nginx)", led by its
// workload when it belongs to a unit, a container or a pod
// ("leaky.service (pid 4242, python3 client.py)"), with its network
// namespace when it is not the host's ("pid 42 (nginx) in network
// namespace 4026532500").
func (r *Report) procName(p *ProcessRow) string {
	s := ownerName(p.PID, r.label(p.PID, p.Name))
	if w := workloadPhrase(&p.Process); w != "" {
		s = fmt.Sprintf("%s (pid %d, %s)", w, p.PID, r.label(p.PID, p.Name))
	}
	if r.otherNS(p.NetNS) {
		s += fmt.Sprintf(" in network namespace %d", p.NetNS)
	}
	return s
}

// workloadPhrase names a process's workload for people, escaped (a unit or
// pod is named by whoever started it): "leaky.service",
// "shop/api-7d9f/app", "pod/UID"; "" for a plain process, which its name
// already names.
func workloadPhrase(p *inspect.Process) string {
	if p.Workload.Named() {
		return wording.Escape(p.WorkloadName())
	}
	return ""
}
