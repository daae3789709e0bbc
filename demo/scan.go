package demo

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/report"
)

// scan inspects the child and this process (which runs the peer), and the
// sockets on the peer's port.
func (d *demo) scan(ctx context.Context, pid int) (*inspect.Snapshot, error) {
	return inspect.Scan(ctx, d.fsys, inspect.Options{PIDs: []int{pid, os.Getpid()}, Ports: []uint16{d.peer.Port()}})
}

// clientSockets returns the sockets of snap that pid holds to the peer.
func (d *demo) clientSockets(snap *inspect.Snapshot, pid int) []inspect.Socket {
	var socks []inspect.Socket
	for _, s := range snap.Sockets {
		if s.Remote == d.peer && slices.Contains(s.PIDs, pid) {
			socks = append(socks, s)
		}
	}
	return socks
}

func (d *demo) scanChild(ctx context.Context, pid int) (*inspect.Process, []inspect.Socket, error) {
	snap, err := d.scan(ctx, pid)
	if err != nil {
		return nil, nil, err
	}
	for i := range snap.Processes {
		if snap.Processes[i].PID == pid {
			return &snap.Processes[i], d.clientSockets(snap, pid), nil
		}
	}
	return nil, nil, fmt.Errorf("demo: pid %d is gone", pid)
}

// settle waits until the child holds no ESTABLISHED socket to the peer
// (every late answer has arrived) and the peer has no FIN in flight (no
// FIN_WAIT1: its last FIN has been acknowledged). It returns the last scan
// and the peer's ends from the socket table read with it.
func (d *demo) settle(ctx context.Context, pid int) (*inspect.Snapshot, []inspect.Socket, error) {
	deadline := time.Now().Add(d.o.Delay + 5*time.Second)
	for {
		snap, err := d.scan(ctx, pid)
		if err != nil {
			return nil, nil, err
		}
		busy := slices.ContainsFunc(d.clientSockets(snap, pid), func(s inspect.Socket) bool { return s.State == inspect.Established })
		peerEnds := d.peerTable()
		for _, s := range peerEnds {
			busy = busy || s.State == inspect.FinWait1
		}
		if !busy || time.Now().After(deadline) {
			return snap, peerEnds, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// measure records in run what the settled scan shows of the child: its
// sockets to the peer by state, its descriptors, the findings about it,
// and the peer's ends of its connections.
func (d *demo) measure(run *ClientRun, snap *inspect.Snapshot, peerEnds []inspect.Socket) {
	socks := d.clientSockets(snap, run.PID)
	run.States = make(map[inspect.TCPState]int)
	for _, s := range socks {
		run.States[s.State]++
	}
	run.Sockets = len(socks)
	for _, p := range snap.Processes {
		if p.PID == run.PID {
			run.FDs, run.FDLimit = p.FDs, p.FDSoftLimit
			d.logf(run.Client, "settled: %s, %s", stateSummary(socks), fdsOf(&p))
		}
	}
	// The client has settled: every socket it still holds stays, however
	// young. The minimum age is for hosts where sockets pass through.
	th := report.DefaultThresholds
	th.MinAge = 0
	r := report.Analyze(snap, th)
	for _, f := range r.Findings {
		if f.PID == run.PID {
			run.Findings = append(run.Findings, f)
		}
	}
	run.PeerFinWait2, run.PeerOrphans = peerFinWait2(peerEnds, socks)
	run.FinTimeout = snap.System.FinTimeout
}

// peerFinWait2 counts the peer's ends (from peerTable) in FIN_WAIT2 of the
// connections whose other end is one of socks (the client's), and of them
// the orphans (owned by no process, inode 0). Other sockets on the peer's
// port are not this run's: orphans live for tcp_fin_timeout, and an
// earlier peer may have had the same port.
func peerFinWait2(peerEnds, socks []inspect.Socket) (all, orphans int) {
	client := make(map[netip.AddrPort]bool, len(socks))
	for _, s := range socks {
		client[s.Local] = true
	}
	for _, s := range peerEnds {
		if s.State == inspect.FinWait2 && client[s.Remote] {
			all++
			if s.Inode == 0 {
				orphans++
			}
		}
	}
	return all, orphans
}

// peerTable returns the peer's end of every connection in the socket
// table, owned or not (a scan by pid shows only the owned ones).
func (d *demo) peerTable() []inspect.Socket {
	path, proto := filepath.Join(d.fsys.Root(), "net", "tcp"), inspect.TCP
	if d.peer.Addr().Is6() {
		path, proto = filepath.Join(d.fsys.Root(), "net", "tcp6"), inspect.TCP6
	}
	socks, err := inspect.ReadNetTCP(path, proto)
	if err != nil {
		return nil
	}
	return slices.DeleteFunc(socks, func(s inspect.Socket) bool { return s.Local != d.peer })
}

// stateSummary says how many of socks are in each state, e.g.
// "1 ESTABLISHED, 3 CLOSE_WAIT", in the kernel's order of states.
func stateSummary(socks []inspect.Socket) string {
	n := make(map[inspect.TCPState]int)
	for _, s := range socks {
		n[s.State]++
	}
	var parts []string
	for _, st := range inspect.States {
		if n[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[st], st))
		}
	}
	if len(parts) == 0 {
		return "no sockets"
	}
	return strings.Join(parts, ", ")
}

func fdsOf(p *inspect.Process) string {
	return fmt.Sprintf("%d/%d fds", p.FDs, p.FDSoftLimit)
}
