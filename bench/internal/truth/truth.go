// Package truth is the ground truth bench/loadgen writes and
// bench/checktruth compares sockleak's output with.
package truth

import (
	"net/netip"
	"slices"
)

// TimeWaitSeconds is how long a TIME_WAIT socket lasts on Linux
// (TCP_TIMEWAIT_LEN, fixed).
const TimeWaitSeconds = 60

// Truth is the socket landscape loadgen built.
type Truth struct {
	// Sockets is the number of sockets created: the sum of States.
	Sockets int `json:"sockets"`
	// States counts sockets by kernel state name. TIME_WAIT is the number
	// created; they expire (see TimeWait).
	States map[string]int `json:"states"`
	// Static are the states whose counts do not change while loadgen holds
	// its sockets: compare them exactly.
	Static []string `json:"static_states"`
	// TimeWait describes the TIME_WAIT sockets, owned by no process.
	TimeWait TimeWait `json:"time_wait"`
	// ListenAddr and ListenPorts identify loadgen's sockets: every one of
	// them has ListenAddr:port (port in ListenPorts) as its local or remote
	// address.
	ListenAddr  string `json:"listen_addr"`
	ListenPorts []int  `json:"listen_ports"`
	// Pids are the worker processes and what each holds. The loadgen
	// process itself (LoadgenPid) holds no socket.
	Pids       []Pid  `json:"pids"`
	LoadgenPid int    `json:"loadgen_pid"`
	Workers    int    `json:"workers"`
	SourceIPs  int    `json:"source_ips"`
	Ready      string `json:"ready"`
	BuildMs    int64  `json:"build_ms"`
	// KernelCheck is "ok" when /proc/net/tcp showed exactly States for
	// loadgen's sockets in static states, and at most TimeWait.Created in
	// TIME_WAIT, once everything was set up; otherwise what differed.
	KernelCheck string `json:"kernel_check"`
}

// TimeWait is the TIME_WAIT part of the landscape.
type TimeWait struct {
	// Created is how many were made; AtReady how many the kernel showed
	// when loadgen became ready (a few fewer: see loadgen's settle).
	Created int  `json:"created"`
	AtReady int  `json:"at_ready"`
	Owned   bool `json:"owned"`
	// Renewed: loadgen replaces each by a new one when it expires.
	Renewed       bool   `json:"renewed"`
	ExpiresAfterS int    `json:"expires_after_s"`
	ExpiresBy     string `json:"expires_by"`
}

// Pid is one worker process.
type Pid struct {
	Pid         int            `json:"pid"`
	States      map[string]int `json:"states"`
	ListenPorts []int          `json:"listen_ports"`
	FdSoftLimit uint64         `json:"fd_soft_limit"`
}

// Ours reports whether a socket with these local and remote addresses is
// one of loadgen's: one of its ends is a loadgen listening address.
func (t *Truth) Ours(local, remote netip.AddrPort) bool {
	addr, err := netip.ParseAddr(t.ListenAddr)
	if err != nil {
		return false
	}
	for _, ap := range []netip.AddrPort{local, remote} {
		if ap.Addr().Unmap() == addr && slices.Contains(t.ListenPorts, int(ap.Port())) {
			return true
		}
	}
	return false
}

// StateNames returns the state names of both count maps, sorted: the
// rows of a truth-against-measurement comparison.
func StateNames(a, b map[string]int) []string {
	var names []string
	for k := range a {
		names = append(names, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}
