package report

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// diagnose turns the counts into findings, worst first.
func diagnose(r *Report, rows map[int]*ProcessRow, th Thresholds) []Finding {
	r.labels = labels(rows, func(p *ProcessRow) bool { return r.mayShow(p, th) })
	leaks := r.leaks()
	var out []Finding
	pids := slices.Sorted(maps.Keys(rows))
	for _, pid := range pids {
		row := rows[pid]
		if f, ok := closeWaitFinding(r, row, leaks[ownerNS{pid: pid}][inspect.CloseWait], th); ok {
			out = append(out, f)
		}
		if f, ok := ownedFinWait2Finding(r, row, leaks[ownerNS{pid: pid}][inspect.FinWait2]); ok {
			out = append(out, f)
		}
		if f, ok := fdPressureFinding(r, row, th); ok {
			out = append(out, f)
		}
	}
	for _, o := range slices.SortedFunc(maps.Keys(leaks), func(a, b ownerNS) int {
		return cmp.Or(cmp.Compare(a.pid, b.pid), cmp.Compare(a.ns, b.ns), cmp.Compare(a.holder, b.holder))
	}) {
		switch o.pid {
		case UnknownPID:
			row := &ProcessRow{Process: inspect.Process{PID: UnknownPID, NetNS: o.ns}}
			if f, ok := closeWaitFinding(r, row, leaks[o][inspect.CloseWait], th); ok {
				out = append(out, f)
			}
			if f, ok := ownedFinWait2Finding(r, row, leaks[o][inspect.FinWait2]); ok {
				out = append(out, f)
			}
		case KernelPID:
			out = append(out, orphanFinWait2Findings(r, o.ns, leaks[o][inspect.FinWait2], th)...)
		}
	}
	out = append(out, acceptQueueFindings(r, rows)...)
	if !r.Snapshot.Selected && !r.Snapshot.Filtered { // host-wide counts would not match the filtered view
		out = append(out, systemFindings(r, th)...)
	}
	slices.SortFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(b.Count, a.Count),
			ownerOrder(a.PID, b.PID), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.NetNS, b.NetNS))
	})
	return out
}

// mayShow reports whether a process may be shown: it holds a socket of
// the view, it was selected, or its fd usage makes a finding. With
// --state, --port or --peer only those holding a socket of the view are.
func (r *Report) mayShow(p *ProcessRow, th Thresholds) bool {
	switch {
	case p.Sockets > 0:
		return true
	case r.Snapshot.Filtered:
		return false
	}
	return r.Snapshot.Selected || p.FDUsage() >= th.FDPressure
}

func peerPhrase(peer string, others int) string {
	switch others {
	case 0:
		return peer
	case 1:
		return peer + " and 1 other peer"
	}
	return fmt.Sprintf("%s and %d other peers", peer, others)
}

// fdUsage renders "1997/2048 fds (97%)", or "1997 fds (no limit)".
func fdUsage(fds int, soft int64) string {
	switch {
	case soft == inspect.Unlimited:
		return fmt.Sprintf("%d fds (no limit)", fds)
	case soft <= 0:
		return fmt.Sprintf("%d fds", fds)
	}
	return fmt.Sprintf("%d/%d fds (%d%%)", fds, soft, percent(usagePercent(fds, soft)))
}

// percent rounds a percentage to a whole one.
func percent(pct float64) int { return int(pct + 0.5) }

// atLimit reports whether a process has as many descriptors open as its
// soft limit allows, or more (a limit lowered under it): every new one
// fails now.
func atLimit(fds int, soft int64) bool { return soft > 0 && int64(fds) >= soft }

// atLimitNow is what being at the limit means, said once for every
// finding and violation.
const atLimitNow = "at its limit now: socket(), accept() and open() fail with EMFILE"

// stateSuffix is "; it is stopped: SIGSTOP or a debugger" for a process
// whose own state explains its sockets, "" otherwise.
func stateSuffix(st byte) string {
	if s := processState(st); s != "" {
		return "; it is " + s
	}
	return ""
}

// Hints of the close_wait finding, from the evidence.
const (
	hintCloseWait     = "The peer sent FIN and this process never called close(). "
	hintCloseWaitRead = "the replies were read, and the socket was kept or pooled and never closed, as by a client " +
		"object made per call and never closed (an HTTP session, a database or cache client)"
	hintCloseWaitUnread = "the reply was abandoned unread on a timeout or error path that returned without closing, " +
		"or a response body was never read to the end"
	hintCloseWaitEnd = " The kernel never expires CLOSE_WAIT; only close(), or restarting the process, frees them."
	hintStopped      = "A stopped process runs no code: it cannot close the sockets its peers closed, nor accept new " +
		"connections. Its CLOSE_WAIT sockets are not an error-path leak: resume it (kill -CONT %d), or detach the " +
		"debugger that holds it (TracerPid in /proc/%d/status)."
)

// closeWaitHint says what the sockets' receive queues tell: only the FIN
// (rx_queue 0 or 1: the replies were read) or data before it (a reply
// left unread).
func closeWaitHint(l *leak) string {
	counted := l.n - l.queued
	switch l.onlyFIN {
	case counted:
		return hintCloseWait + "Only the FIN is unread: " + hintCloseWaitRead + "." + hintCloseWaitEnd
	case 0:
		return hintCloseWait + "Data is unread before the FIN: " + hintCloseWaitUnread + "." + hintCloseWaitEnd
	}
	return fmt.Sprintf("%s%s: %s. %s: %s.%s", hintCloseWait,
		wording.Count(l.onlyFIN, "holds only the FIN", "hold only the FIN"), hintCloseWaitRead,
		wording.Count(counted-l.onlyFIN, "holds data before it", "hold data before it"), hintCloseWaitUnread, hintCloseWaitEnd)
}

func closeWaitFinding(r *Report, p *ProcessRow, l *leak, th Thresholds) (Finding, bool) {
	if l == nil || l.n-l.queued == 0 { // the queued ones are the accept_queue finding's
		return Finding{}, false
	}
	n := l.n - l.queued
	peer, others := l.topPeer()
	f := Finding{
		Severity: Warning, Kind: KindCloseWait, PID: p.PID, Name: p.Name, NetNS: p.NetNS,
		State: inspect.CloseWait, Peer: peer, Count: n, FDs: p.FDs, FDSoftLimit: p.FDSoftLimit,
		Hint: closeWaitHint(l),
	}
	if p.PID == UnknownPID {
		f.Message = fmt.Sprintf("%s in CLOSE_WAIT to %s held by a process sockleak could not inspect%s: it is not closing sockets its peer closed",
			wording.Plural(n, "socket"), peerPhrase(peer, others), r.nsPhrase(p.NetNS))
		f.Hint += " Run sockleak as root to name the process."
		return f, true
	}
	name := r.procName(p)
	f.Message = fmt.Sprintf("%s is not closing sockets its peer closed: %d in CLOSE_WAIT to %s; %s",
		name, n, peerPhrase(peer, others), fdUsage(p.FDs, p.FDSoftLimit))
	if stopped(p.State) {
		f.Message = fmt.Sprintf("%s is stopped (SIGSTOP or a debugger), so it cannot close sockets its peer closed: %d in CLOSE_WAIT to %s; %s",
			name, n, peerPhrase(peer, others), fdUsage(p.FDs, p.FDSoftLimit))
		f.Hint = fmt.Sprintf(hintStopped, p.PID, p.PID)
	} else {
		f.Message += stateSuffix(p.State)
	}
	if p.FDUsage() >= th.FDCritical || usagePercent(n, p.FDSoftLimit) >= th.CloseWaitCritical {
		f.Severity = Critical
		if atLimit(p.FDs, p.FDSoftLimit) {
			f.Message += ": " + atLimitNow
		} else {
			f.Message += fmt.Sprintf(": it will fail with EMFILE (too many open files) at %d", p.FDSoftLimit)
		}
	}
	return f, true
}

// linkedPhrase names the holder of the CLOSE_WAIT ends of FIN_WAIT2
// sockets on this host: "the other end is pid 77 (redis-server) in
// CLOSE_WAIT: it is not closing"; "" when no end is here. Several holders
// name the one with the most.
func (r *Report) linkedPhrase(l *leak) string {
	if l == nil || len(l.linked) == 0 {
		return ""
	}
	holders := slices.SortedFunc(maps.Keys(l.linked), func(a, b int) int {
		return cmp.Or(cmp.Compare(l.linked[b], l.linked[a]), cmp.Compare(a, b))
	})
	h := holders[0]
	n, queued := l.linked[h], l.linkedQueued[h]
	var s string
	switch queued {
	case 0:
		s = fmt.Sprintf("the other end is %s in CLOSE_WAIT: it is not closing", r.holderName(h))
	case n:
		s = fmt.Sprintf("the other end is %s in CLOSE_WAIT in its accept queue: it is not accepting", r.holderName(h))
	default:
		s = fmt.Sprintf("the other end is %s in CLOSE_WAIT: it is not closing (%d of them wait in its accept queue: "+
			"it is not accepting either)", r.holderName(h), queued)
	}
	if n < l.n-l.queued || len(holders) > 1 {
		s = fmt.Sprintf("for %d of them %s", n, s)
	}
	return s
}

// holderName names the holder of a socket on this host for messages.
func (r *Report) holderName(pid int) string {
	if pid <= 0 {
		return ownerName(pid, "")
	}
	for _, p := range r.Snapshot.Processes {
		if p.PID == pid {
			return ownerName(pid, r.label(pid, p.Name))
		}
	}
	return ownerName(pid, "")
}

func ownedFinWait2Finding(r *Report, p *ProcessRow, l *leak) (Finding, bool) {
	if l == nil || l.n == 0 {
		return Finding{}, false
	}
	n := l.n
	peer, others := l.topPeer()
	hint := fmt.Sprintf("The peer is likely leaking: its end sits in CLOSE_WAIT (run sockleak inspect on %s). ", peerHost(peer))
	if link := r.linkedPhrase(l); link != "" {
		hint = "The peer is on this host: " + link + ". "
	}
	return Finding{
		Severity: Warning, Kind: KindFinWait2, PID: p.PID, Name: p.Name, NetNS: p.NetNS,
		State: inspect.FinWait2, Peer: peer, Count: n, FDs: p.FDs, FDSoftLimit: p.FDSoftLimit,
		Message: fmt.Sprintf("%s holds %s in FIN_WAIT2 to %s: it closed its side, the peer has not%s",
			r.procName(p), wording.Plural(n, "half-closed socket"), peerPhrase(peer, others),
			stateSuffix(p.State)),
		Hint: hint + "This process shut down writing and still holds the socket, and an owned FIN_WAIT2 never times out: " +
			"give the read a deadline and close after it.",
	}, true
}

// orphanFinWait2Findings judges orphaned FIN_WAIT2 sockets of one
// network namespace: those whose other ends one process holds in
// CLOSE_WAIT on this host (naming it), or the rest (naming the local
// ports of inbound ones: the services).
func orphanFinWait2Findings(r *Report, ns uint64, l *leak, th Thresholds) []Finding {
	if l == nil || l.n == 0 {
		return nil
	}
	timeout := "net.ipv4.tcp_fin_timeout"
	if s := r.Snapshot.System.FinTimeout; s > 0 {
		timeout = fmt.Sprintf("tcp_fin_timeout (%d s)", s)
	}
	peer, others := l.topPeer()
	sev := Info
	if slices.Max(slices.Collect(maps.Values(l.peers))) >= th.OrphanFinWait2Warning {
		sev = Warning
	}
	services := ""
	if len(l.ports) > 0 {
		ports := slices.Sorted(maps.Keys(l.ports))
		words := make([]string, len(ports))
		for i, p := range ports {
			words[i] = strconv.Itoa(int(p))
		}
		services = fmt.Sprintf(" from local port %s", strings.Join(words, ", "))
		if len(ports) > 1 {
			services = fmt.Sprintf(" from local ports %s", strings.Join(words, ", "))
		}
	}
	f := Finding{
		Severity: sev, Kind: KindFinWait2, PID: KernelPID, Name: "kernel", NetNS: ns,
		State: inspect.FinWait2, Peer: peer, Count: l.n,
		Message: fmt.Sprintf("%s to %s%s%s: this host closed them, the peer has not; they expire after %s",
			wording.Plural(l.n, "orphaned FIN_WAIT2 socket"), peerPhrase(peer, others), services, r.nsPhrase(ns), timeout),
		Hint: fmt.Sprintf("The peer is likely not closing its sockets (they sit in CLOSE_WAIT there): run sockleak inspect on %s. "+
			"Orphans expire after %s, so the count shows only the most recent leaks.", peerHost(peer), timeout),
	}
	if link := r.linkedPhrase(l); link != "" {
		f.Message += "; " + link
		f.Hint = "The peer is on this host and is not closing its sockets: see its findings. " +
			fmt.Sprintf("Orphans expire after %s, so the count shows only the most recent leaks.", timeout)
	}
	return []Finding{f}
}

// peerHost strips the port from a peer, for "run sockleak on HOST".
func peerHost(peer string) string {
	if ap, err := netip.ParseAddrPort(peer); err == nil {
		return ap.Addr().String()
	}
	return peer
}

func fdPressureFinding(r *Report, p *ProcessRow, th Thresholds) (Finding, bool) {
	usage := p.FDUsage()
	if p.PID <= 0 || usage < th.FDPressure || !r.mayShow(p, th) {
		return Finding{}, false
	}
	sev := Warning
	if usage >= th.FDPressureCritical {
		sev = Critical
	}
	name := r.procName(p)
	msg := fmt.Sprintf("%s uses %d of its %d file descriptors (%d%%)", name, p.FDs, p.FDSoftLimit, percent(usage))
	if atLimit(p.FDs, p.FDSoftLimit) {
		msg = fmt.Sprintf("%s is %s (%d of %d file descriptors open)", name, atLimitNow, p.FDs, p.FDSoftLimit)
	}
	if p.SocketFDs >= 0 { // -1: only counted, not walked
		msg += "; " + wording.Count(p.SocketFDs, "is a socket", "are sockets")
	}
	msg += stateSuffix(p.State)
	return Finding{
		Severity: sev, Kind: KindFDPressure, PID: p.PID, Name: p.Name, NetNS: p.NetNS,
		Count: p.FDs, FDs: p.FDs, FDSoftLimit: p.FDSoftLimit,
		Message: msg,
		Hint: fmt.Sprintf("At the limit every socket(), accept() and open() fails with EMFILE. The other findings, "+
			"or ls -l /proc/%d/fd, show what holds them. Raising the limit (LimitNOFILE=, ulimit -n) buys time; "+
			"it does not fix a leak.", p.PID),
	}, true
}

// systemFindings weighs the kernel's tables against their limits.
func systemFindings(r *Report, th Thresholds) []Finding {
	sys := r.Snapshot.System
	severity := func(n, limit uint64) Severity {
		if limit == 0 {
			return Info
		}
		pct := float64(n) / float64(limit) * 100
		switch {
		case pct >= th.SystemCritical:
			return Critical
		case pct >= th.SystemWarning:
			return Warning
		}
		return Info
	}
	of := func(n, limit uint64, name string) string {
		if limit == 0 {
			return ""
		}
		return fmt.Sprintf(" (%s of %s %d)", percentString(n, limit), name, limit)
	}
	var out []Finding
	// sockstat's tw counts the kernel's timewait sockets: TIME_WAIT, and
	// the orphaned FIN_WAIT2 sockets that tcp_close turned into timewait
	// sockets too. Both count towards tcp_max_tw_buckets. Like sockstat,
	// the finding is of the host's namespace.
	twSockets := 0
	for i := range r.Snapshot.Sockets {
		if s := &r.Snapshot.Sockets[i]; s.State == inspect.TimeWait && (s.NetNS == r.Snapshot.HostNetNS || r.Snapshot.HostNetNS == 0) {
			twSockets++
		}
	}
	buckets := sys.TCPTimeWait
	if buckets == 0 {
		buckets = uint64(twSockets) // no sockstat: what the tables show
	}
	// Orphaned FIN_WAIT2 sockets alone have their own finding: the
	// buckets they take are news only near the limit.
	if buckets > 0 && (twSockets > 0 || severity(buckets, sys.MaxTWBuckets) > Info) {
		count, msg := twSockets, wording.Plural(twSockets, "socket")+" in TIME_WAIT"
		switch {
		case twSockets == 0:
			count, msg = int(buckets), wording.Plural(int(buckets), "timewait socket")+" (orphaned FIN_WAIT2)"
		case buckets > uint64(twSockets):
			msg += fmt.Sprintf("; %d timewait sockets with the orphaned FIN_WAIT2 ones", buckets)
		}
		out = append(out, Finding{
			Severity: severity(buckets, sys.MaxTWBuckets), Kind: KindTimeWait, State: inspect.TimeWait, Count: count,
			Message: msg + of(buckets, sys.MaxTWBuckets, "tcp_max_tw_buckets"),
			Hint: "TIME_WAIT is the normal end of a connection this host closed first and lasts a fixed 60 s on Linux " +
				"(tcp_fin_timeout does not change it). Many mean many short connections: reuse them (keep-alive, pools). " +
				"At the limit the kernel logs \"time wait bucket table overflow\".",
		})
	}
	if sys.TCPOrphan > 0 {
		out = append(out, Finding{
			Severity: severity(sys.TCPOrphan, sys.MaxOrphans), Kind: KindOrphans, Count: int(sys.TCPOrphan),
			Message: fmt.Sprintf("%s%s", wording.Plural(int(sys.TCPOrphan), "orphaned socket"), of(sys.TCPOrphan, sys.MaxOrphans, "tcp_max_orphans")),
			Hint: "Orphans are sockets their process closed before the close handshake finished (FIN_WAIT1, FIN_WAIT2, " +
				"LAST_ACK, CLOSING). Over the limit the kernel resets connections and logs \"too many orphaned sockets\".",
		})
	}
	if sys.FileMax > 0 && float64(sys.FilesAllocated)/float64(sys.FileMax)*100 >= th.SystemWarning {
		out = append(out, Finding{
			Severity: severity(sys.FilesAllocated, sys.FileMax), Kind: KindFileNr, Count: int(sys.FilesAllocated),
			Message: fmt.Sprintf("%d file handles allocated system-wide%s", sys.FilesAllocated, of(sys.FilesAllocated, sys.FileMax, "file-max")),
			Hint:    "At fs.file-max every process's open() and socket() fails with ENFILE. Find the processes with the most descriptors.",
		})
	}
	return out
}

func percentString(n, limit uint64) string {
	pct := float64(n) / float64(limit) * 100
	switch {
	case pct > 0 && pct < 0.1:
		return "<0.1%"
	case pct < 1:
		return fmt.Sprintf("%.1f%%", pct)
	}
	return fmt.Sprintf("%d%%", percent(pct))
}
