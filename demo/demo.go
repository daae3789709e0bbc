// Package demo reproduces the incident sockleak exists for, and its fix, on
// loopback: Run starts a slow client.Peer, runs client.LeakyClient and the
// reference client (client.Send) one after the other, each in a child
// process with its open-files limit lowered, watches each child with the
// inspect engine and report.Analyze, and writes a timeline, a side-by-side
// table and why. Child is the client side, run in those child processes.
//
// It is its own package so that client, the small reference library, does
// not import the reporting stack.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os/exec"
	"time"

	"github.com/sockleak/sockleak/client"
	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/report"
)

// Options configures Run.
type Options struct {
	// Transactions is how many requests each client makes. Optional: 100.
	Transactions int
	// FDLimit is the soft open-files limit (RLIMIT_NOFILE) of each client's
	// process. Optional: 64.
	FDLimit int
	// Timeout is the clients' receive timeout. Optional: 50 ms.
	Timeout time.Duration
	// Delay is how late the peer answers; it must exceed Timeout.
	// Optional: three times Timeout.
	Delay time.Duration
	// Command returns the command that runs Child(args) in a child
	// process, e.g. the program itself with a hidden subcommand. The demo
	// sets its standard streams. Required.
	Command func(ctx context.Context, args []string) *exec.Cmd
	// Out receives the timeline, the table and the explanation. Required.
	Out io.Writer
	// ProcRoot is the proc filesystem to inspect. Optional: /proc.
	ProcRoot string
}

// Result is what the demo measured.
type Result struct {
	Peer      netip.AddrPort
	Leaky     ClientRun
	Reference ClientRun
	Took      time.Duration
}

// ClientRun is one client's run, as the inspect engine saw its process at
// the end, before it was stopped.
type ClientRun struct {
	Client   string // "leaky" or "reference"
	PID      int
	Done     int    // transactions done (answered or timed out)
	FailedAt int    // the transaction that could not start, 0 when none
	Stopped  string // why the client stopped early, e.g. the EMFILE error; empty when it did them all
	EMFILE   bool   // it stopped because socket() failed with EMFILE
	FDs      int    // open descriptors at the end
	FDLimit  int64  // soft open-files limit
	States   map[inspect.TCPState]int
	Sockets  int              // TCP sockets the process held at the end
	Findings []report.Finding // what inspect said about the process
	// PeerFinWait2 counts the peer's ends of the client's connections in
	// FIN_WAIT2 at the end, of which PeerOrphans were owned by no process.
	PeerFinWait2, PeerOrphans int
	// FinTimeout is the host's tcp_fin_timeout in seconds, 0 if unknown.
	FinTimeout uint64
}

func (o Options) withDefaults() Options {
	if o.Transactions <= 0 {
		o.Transactions = 100
	}
	if o.FDLimit <= 0 {
		o.FDLimit = 64
	}
	if o.Timeout <= 0 {
		o.Timeout = 50 * time.Millisecond
	}
	if o.Delay <= 0 {
		o.Delay = 3 * o.Timeout
	}
	if o.ProcRoot == "" {
		o.ProcRoot = inspect.DefaultRoot
	}
	return o
}

// Run reproduces the incident and its fix. It starts a Slow client.Peer on
// loopback, then runs the leaky client and the reference client, one after
// the other, each in a child process with its open-files limit lowered, and
// watches the child with the inspect engine: the leaky client's CLOSE_WAIT
// sockets climb until socket() fails with EMFILE; the reference client ends
// with none. It writes a timeline, a side-by-side table and why to o.Out,
// and stops everything it started before it returns.
func Run(ctx context.Context, o Options) (*Result, error) {
	o = o.withDefaults()
	if o.Command == nil || o.Out == nil {
		return nil, errors.New("demo: Command and Out are required")
	}
	if o.Delay <= o.Timeout {
		return nil, fmt.Errorf("demo: the peer's delay (%v) must exceed the client's timeout (%v)", o.Delay, o.Timeout)
	}
	fsys, err := inspect.NewFS(o.ProcRoot)
	if err != nil {
		return nil, err
	}
	begin := time.Now()
	peer, err := client.StartPeer(client.PeerOptions{Behaviour: client.Slow, Delay: o.Delay})
	if err != nil {
		return nil, err
	}
	defer peer.Close()
	d := &demo{o: o, fsys: fsys, peer: peer.Addr(), begin: begin}
	res := &Result{Peer: peer.Addr()}

	fmt.Fprintf(o.Out, `sockleak demo: the incident, reproduced, then fixed.
The peer, on %s, answers each request after %v, then closes.
Each client sends %d requests, gives up on a reply after %v, and runs in
its own process with its open-files limit lowered to %d. The leaky client
returns on that timeout without close(); the reference client closes on
every path.

`, peer.Addr(), o.Delay, o.Transactions, o.Timeout, o.FDLimit)
	fmt.Fprintln(o.Out, "TIMELINE")
	if res.Leaky, err = d.run(ctx, "leaky"); err != nil {
		return res, err
	}
	if res.Reference, err = d.run(ctx, "reference"); err != nil {
		return res, err
	}
	if err := peer.Close(); err != nil {
		return res, err
	}
	res.Took = time.Since(begin)
	fmt.Fprintln(o.Out)
	return res, writeSummary(o.Out, res, o)
}

// demo is one Run: its options, where it inspects, its peer's address and
// when it began, for the timeline.
type demo struct {
	o     Options
	fsys  inspect.FS
	peer  netip.AddrPort
	begin time.Time
}

func (d *demo) logf(client, format string, args ...any) {
	fmt.Fprintf(d.o.Out, "%7.2fs  %-9s  %s\n", time.Since(d.begin).Seconds(), client, fmt.Sprintf(format, args...))
}

// run runs one client in a child process and watches it: it follows the
// child's transactions, waits for the sockets to settle, measures them
// and stops the child.
func (d *demo) run(ctx context.Context, client string) (ClientRun, error) {
	run := ClientRun{Client: client}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p, err := d.start(ctx, client)
	if err != nil {
		return run, err
	}
	defer p.kill()
	run.PID = p.cmd.Process.Pid
	if err := d.follow(ctx, p, &run); err != nil {
		return run, err
	}
	// The peer answers Delay after each request: wait for its last answers
	// to arrive, so the sockets settle in their final state.
	snap, peerEnds, err := d.settle(ctx, run.PID)
	if err != nil {
		return run, err
	}
	d.measure(&run, snap, peerEnds)
	if err := p.stop(); err != nil {
		return run, fmt.Errorf("demo: the %s client: %v %s", client, err, p.stderrText())
	}
	d.logf(client, "pid %d stopped", run.PID)
	return run, nil
}
