package report

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// diagnose turns the counts into findings, worst first.
func diagnose(r *Report, rows map[int]*ProcessRow, th Thresholds) []Finding {
	var out []Finding
	owners := make([]int, 0, len(rows)+2)
	for pid := range rows {
		owners = append(owners, pid)
	}
	owners = append(owners, UnknownPID)
	slices.Sort(owners)
	for _, pid := range owners {
		row := rows[pid]
		if row == nil {
			row = &ProcessRow{Process: inspect.Process{PID: pid}, States: r.Unknown}
		}
		if f, ok := closeWaitFinding(r, row, th); ok {
			out = append(out, f)
		}
		if f, ok := ownedFinWait2Finding(r, row); ok {
			out = append(out, f)
		}
		if f, ok := fdPressureFinding(row, th); ok {
			out = append(out, f)
		}
	}
	if f, ok := orphanFinWait2Finding(r, th); ok {
		out = append(out, f)
	}
	if !r.Snapshot.Selected && !r.Snapshot.Filtered { // host-wide counts would not match the filtered view
		out = append(out, systemFindings(r, th)...)
	}
	slices.SortFunc(out, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(b.Count, a.Count),
			ownerOrder(a.PID, b.PID), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}

// topPeer returns the peer with the most sockets of an owner in a state,
// and how many other peers there are.
func topPeer(groups []Group, pid int, state inspect.TCPState) (peer string, others int) {
	for _, g := range groups {
		if g.PID != pid || g.State != state {
			continue
		}
		if peer == "" {
			peer = g.Peer // groups are sorted biggest first
		} else {
			others++
		}
	}
	return peer, others
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

func closeWaitFinding(r *Report, p *ProcessRow, th Thresholds) (Finding, bool) {
	n := p.States[inspect.CloseWait]
	if n == 0 {
		return Finding{}, false
	}
	peer, others := topPeer(r.Groups, p.PID, inspect.CloseWait)
	f := Finding{
		Severity: Warning, Kind: KindCloseWait, PID: p.PID, Name: p.Name,
		State: inspect.CloseWait, Peer: peer, Count: n, FDs: p.FDs, FDSoftLimit: p.FDSoftLimit,
		Hint: "The peer sent FIN and this process never called close(): look for error and timeout paths " +
			"that return without closing, response bodies never read to the end, pools never drained. " +
			"The kernel never expires CLOSE_WAIT; only close(), or restarting the process, frees them.",
	}
	if p.PID == UnknownPID {
		f.Message = fmt.Sprintf("%s in CLOSE_WAIT to %s held by a process sockleak could not inspect: it is not closing sockets its peer closed",
			wording.Plural(n, "socket"), peerPhrase(peer, others))
		f.Hint += " Run sockleak as root to name the process."
		return f, true
	}
	f.Message = fmt.Sprintf("%s is not closing sockets its peer closed: %d in CLOSE_WAIT to %s; %s",
		ownerName(p.PID, p.Name), n, peerPhrase(peer, others), fdUsage(p.FDs, p.FDSoftLimit))
	if p.FDUsage() >= th.FDCritical || usagePercent(n, p.FDSoftLimit) >= th.CloseWaitCritical {
		f.Severity = Critical
		f.Message += fmt.Sprintf(": it will fail with EMFILE (too many open files) at %d", p.FDSoftLimit)
	}
	return f, true
}

func ownedFinWait2Finding(r *Report, p *ProcessRow) (Finding, bool) {
	n := p.States[inspect.FinWait2]
	if n == 0 {
		return Finding{}, false
	}
	peer, others := topPeer(r.Groups, p.PID, inspect.FinWait2)
	return Finding{
		Severity: Warning, Kind: KindFinWait2, PID: p.PID, Name: p.Name,
		State: inspect.FinWait2, Peer: peer, Count: n, FDs: p.FDs, FDSoftLimit: p.FDSoftLimit,
		Message: fmt.Sprintf("%s holds %s in FIN_WAIT2 to %s: it closed its side, the peer has not",
			ownerName(p.PID, p.Name), wording.Plural(n, "half-closed socket"), peerPhrase(peer, others)),
		Hint: fmt.Sprintf("The peer is likely leaking: its end sits in CLOSE_WAIT (run sockleak inspect on %s). "+
			"This process shut down writing and still holds the socket, and an owned FIN_WAIT2 never times out: "+
			"give the read a deadline and close after it.", peerHost(peer)),
	}, true
}

func orphanFinWait2Finding(r *Report, th Thresholds) (Finding, bool) {
	n := r.Kernel[inspect.FinWait2]
	if n == 0 {
		return Finding{}, false
	}
	peer, others := topPeer(r.Groups, KernelPID, inspect.FinWait2)
	top := 0
	for _, g := range r.Groups {
		if g.PID == KernelPID && g.State == inspect.FinWait2 && g.Peer == peer {
			top = g.Count
		}
	}
	sev := Info
	if top >= th.OrphanFinWait2Warning {
		sev = Warning
	}
	timeout := "net.ipv4.tcp_fin_timeout"
	if s := r.Snapshot.System.FinTimeout; s > 0 {
		timeout = fmt.Sprintf("tcp_fin_timeout (%d s)", s)
	}
	return Finding{
		Severity: sev, Kind: KindFinWait2, PID: KernelPID, Name: "kernel",
		State: inspect.FinWait2, Peer: peer, Count: n,
		Message: fmt.Sprintf("%s to %s: this host closed them, the peer has not; they expire after %s",
			wording.Plural(n, "orphaned FIN_WAIT2 socket"), peerPhrase(peer, others), timeout),
		Hint: fmt.Sprintf("The peer is likely not closing its sockets (they sit in CLOSE_WAIT there): run sockleak inspect on %s. "+
			"Orphans expire after %s, so the count shows only the most recent leaks.", peerHost(peer), timeout),
	}, true
}

// peerHost strips the port from a peer, for "run sockleak on HOST".
func peerHost(peer string) string {
	if ap, err := netip.ParseAddrPort(peer); err == nil {
		return ap.Addr().String()
	}
	return peer
}

func fdPressureFinding(p *ProcessRow, th Thresholds) (Finding, bool) {
	usage := p.FDUsage()
	if p.PID <= 0 || usage < th.FDPressure {
		return Finding{}, false
	}
	sev := Warning
	if usage >= th.FDPressureCritical {
		sev = Critical
	}
	msg := fmt.Sprintf("%s uses %d of its %d file descriptors (%d%%)", ownerName(p.PID, p.Name), p.FDs, p.FDSoftLimit, percent(usage))
	if p.SocketFDs >= 0 { // -1: only counted, not walked
		msg += "; " + wording.Count(p.SocketFDs, "is a socket", "are sockets")
	}
	return Finding{
		Severity: sev, Kind: KindFDPressure, PID: p.PID, Name: p.Name,
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
