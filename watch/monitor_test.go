package watch

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/inspect"
)

// procSpec is a process of a sample built at t0+at: pid (start time start, fds
// open, soft limit) holding cw CLOSE_WAIT sockets to 10.0.0.5:7000 with
// inodes from base, and est ESTABLISHED ones.
type procSpec struct {
	pid      int
	start    uint64
	name     string
	cw, est  int
	cwBase   uint64 // first CLOSE_WAIT inode; consecutive after it
	fds      int
	limit    int64
	extraFDs int    // fds that are not these sockets
	unit     string // the systemd unit it runs in; "": none (a process workload)
}

// testBootTime is the samples' boot time: 2025-12-02T10:00:00Z.
const testBootTime = 1764669600

func sample(at time.Duration, procs ...procSpec) Sample {
	s := Sample{Snap: snap(at)}
	s.Snap.System.BootTime = testBootTime
	for _, p := range procs {
		fds := p.fds
		if fds == 0 {
			fds = p.cw + p.est + p.extraFDs
		}
		s.Snap.Processes = append(s.Snap.Processes, inspect.Process{PID: p.pid, Name: p.name, FDs: fds, FDSoftLimit: p.limit, StartTime: p.start})
		if p.unit != "" {
			s.Snap.Processes[len(s.Snap.Processes)-1].Workload = inspect.Workload{Kind: inspect.KindUnit, Unit: p.unit, Slice: "system.slice"}
		}
		base := p.cwBase
		if base == 0 {
			base = uint64(p.pid) * 100000
		}
		for i := range p.cw {
			s.Snap.Sockets = append(s.Snap.Sockets, sock(inspect.CloseWait,
				fmt.Sprintf("10.0.0.7:%d", 30000+int(base%10000)+i), "10.0.0.5:7000", base+uint64(i), p.pid))
		}
		for i := range p.est {
			s.Snap.Sockets = append(s.Snap.Sockets, sock(inspect.Established,
				fmt.Sprintf("10.0.0.7:%d", 50000+i), "10.0.0.9:443", uint64(p.pid)*100000+50000+uint64(i), p.pid))
		}
	}
	return s
}

// TestMonitorForgets churns sockets and processes: the Monitor's state
// follows the latest sample, not the run's length.
func TestMonitorForgets(t *testing.T) {
	m := NewMonitor(Config{Window: 10 * time.Second, Thresholds: Thresholds{CloseWait: 5, MaxAge: time.Second}})
	for i := range 1000 {
		// Every sample: 3 processes with new pids, each with 20 new sockets.
		var ps []procSpec
		for j := range 3 {
			pid := 1000 + 3*i + j
			ps = append(ps, procSpec{pid: pid, start: uint64(i), name: "churn", cw: 20, cwBase: uint64(pid) * 1000, extraFDs: 3, limit: 1024})
		}
		st := m.Observe(sample(time.Duration(i)*time.Second, ps...))
		if len(st.Processes) != 3 {
			t.Fatalf("sample %d: %d processes, want 3", i, len(st.Processes))
		}
	}
	if len(m.procs) != 3 || len(m.tracker.seen) != 60 || len(m.tracker.procs) != 0 {
		t.Errorf("after 1000 churning samples: %d processes, %d sockets tracked; want 3 and 60", len(m.procs), len(m.tracker.seen))
	}
	// A process that stays keeps only the window's points.
	m = NewMonitor(Config{Window: 10 * time.Second})
	for i := range 1000 {
		m.Observe(sample(time.Duration(i)*time.Second, procSpec{pid: 1, name: "init", est: 1}))
	}
	for _, tr := range m.procs {
		if len(tr.points) != 11 || cap(tr.points) > 64 {
			t.Errorf("%d points (capacity %d), want the window's 11", len(tr.points), cap(tr.points))
		}
	}
}

// TestMonitorHandshakeAges checks the age of each close-handshake state a
// process holds, and that only CLOSE_WAIT sockets name its CLOSE_WAIT peer.
func TestMonitorHandshakeAges(t *testing.T) {
	m := NewMonitor(Config{Window: time.Minute, Thresholds: Thresholds{CloseWait: -1}})
	at := func(d time.Duration, socks ...inspect.Socket) Sample {
		s := Sample{Snap: snap(d, socks...)}
		s.Snap.Processes = []inspect.Process{{PID: 42, Name: "svc", FDs: 10, FDSoftLimit: 100, StartTime: 1}}
		return s
	}
	fw2 := sock(inspect.FinWait2, "10.0.0.7:40000", "10.0.0.9:80", 1, 42) // half-closed, held
	cw := sock(inspect.CloseWait, "10.0.0.7:40001", "10.0.0.5:7000", 2, 42)
	est := sock(inspect.Established, "10.0.0.7:40002", "10.0.0.9:443", 3, 42)
	m.Observe(at(0, fw2, est))
	m.Observe(at(10*time.Second, fw2, est, cw))
	st := m.Observe(at(25*time.Second, fw2, est, cw))
	p := st.Processes[0]
	want := map[inspect.TCPState]time.Duration{inspect.FinWait2: 25 * time.Second, inspect.CloseWait: 15 * time.Second}
	if diff := cmp.Diff(want, p.Oldest); diff != "" {
		t.Errorf("ages (-want +got):\n%s", diff)
	}
	if p.CloseWaitOldest() != 15*time.Second || p.CloseWaitPeer != "10.0.0.5:7000" {
		t.Errorf("CLOSE_WAIT oldest %v to %q, want 15s to 10.0.0.5:7000 (not the FIN_WAIT2 socket's peer)", p.CloseWaitOldest(), p.CloseWaitPeer)
	}
}

// TestMonitorOrderSoonestFirst checks that a process growing towards its
// fd limit ranks above one that holds more CLOSE_WAIT sockets but does
// not grow.
func TestMonitorOrderSoonestFirst(t *testing.T) {
	m := NewMonitor(Config{Window: time.Minute, Thresholds: Thresholds{CloseWait: -1}})
	var st *Status
	for i := range 4 {
		st = m.Observe(sample(time.Duration(i)*10*time.Second,
			procSpec{pid: 7, start: 1, name: "stuck", cw: 55, extraFDs: 9, limit: 64},
			procSpec{pid: 42, start: 1, name: "leaky", cw: 5 * i, extraFDs: 4, limit: 256},
		))
	}
	if len(st.Processes) != 2 || st.Processes[0].PID != 42 || st.Processes[0].ETA <= 0 {
		t.Errorf("order = %+v, want pid 42 (growing, a limit ahead) before pid 7", st.Processes)
	}
}

// TestMonitorFirstSampleAge: a CLOSE_WAIT socket the kernel says is 40 s
// old (its AgeMs bound) reads 40 s old on the first sample, not 0, and a
// --max-age under that fires at once; the ages grow from there.
func TestMonitorFirstSampleAge(t *testing.T) {
	m := NewMonitor(Config{Window: time.Minute, Thresholds: Thresholds{CloseWait: -1, MaxAge: 30 * time.Second}})
	aged := func(at time.Duration, ageMs uint32) Sample {
		s := sample(at, procSpec{pid: 42, start: 1, name: "leaky", cw: 2, limit: 1024})
		for i := range s.Snap.Sockets {
			s.Snap.Sockets[i].AgeMs, s.Snap.Sockets[i].HasAge = ageMs-uint32(i)*1000, true
		}
		return s
	}
	st := m.Observe(aged(0, 40000))
	if len(st.Processes) != 1 || st.Processes[0].CloseWaitOldest() != 40*time.Second {
		t.Fatalf("first sample: processes %+v, want pid 42 with its oldest CLOSE_WAIT 40s", st.Processes)
	}
	if len(st.Alerts) != 1 || st.Alerts[0].Rule != "close_wait_age" || !st.Alerts[0].Firing {
		t.Errorf("first sample: alerts %+v, want close_wait_age firing at once", st.Alerts)
	}
	st = m.Observe(aged(2*time.Second, 42000))
	if got := st.Processes[0].CloseWaitOldest(); got != 42*time.Second {
		t.Errorf("second sample: oldest %v, want 42s", got)
	}
}
