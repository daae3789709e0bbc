package client

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
	"github.com/sockleak/sockleak/report"
)

// DemoOptions configures RunDemo.
type DemoOptions struct {
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
	// Command returns the command that runs DemoChild(args) in a child
	// process, e.g. the program itself with a hidden subcommand. The demo
	// sets its standard streams. Required.
	Command func(ctx context.Context, args []string) *exec.Cmd
	// Out receives the timeline, the table and the explanation. Required.
	Out io.Writer
	// ProcRoot is the proc filesystem to inspect. Optional: /proc.
	ProcRoot string
}

// DemoResult is what the demo measured.
type DemoResult struct {
	Peer      netip.AddrPort
	Leaky     DemoRun
	Reference DemoRun
	Took      time.Duration
}

// DemoRun is one client's run, as the inspect engine saw its process at
// the end, before it was stopped.
type DemoRun struct {
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

func (o DemoOptions) withDefaults() DemoOptions {
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

// RunDemo reproduces the incident and its fix. It starts a Slow Peer on
// loopback, then runs the leaky client and the reference client, one after
// the other, each in a child process with its open-files limit lowered, and
// watches the child with the inspect engine: the leaky client's CLOSE_WAIT
// sockets climb until socket() fails with EMFILE; the reference client ends
// with none. It writes a timeline, a side-by-side table and why to o.Out,
// and stops everything it started before it returns.
func RunDemo(ctx context.Context, o DemoOptions) (*DemoResult, error) {
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
	peer, err := StartPeer(PeerOptions{Behaviour: Slow, Delay: o.Delay})
	if err != nil {
		return nil, err
	}
	defer peer.Close()
	d := &demo{o: o, fsys: fsys, peer: peer.Addr(), begin: begin}
	res := &DemoResult{Peer: peer.Addr()}

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
	return res, writeDemoSummary(o.Out, res, o)
}

type demo struct {
	o     DemoOptions
	fsys  inspect.FS
	peer  netip.AddrPort
	begin time.Time
}

func (d *demo) logf(client, format string, args ...any) {
	fmt.Fprintf(d.o.Out, "%7.2fs  %-9s  %s\n", time.Since(d.begin).Seconds(), client, fmt.Sprintf(format, args...))
}

// run runs one client in a child process and watches it.
func (d *demo) run(ctx context.Context, client string) (run DemoRun, err error) {
	run = DemoRun{Client: client}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	args := []string{"-client", client, "-addr", d.peer.String(), "-n", strconv.Itoa(d.o.Transactions),
		"-timeout", d.o.Timeout.String(), "-fd-limit", strconv.Itoa(d.o.FDLimit)}
	cmd := d.o.Command(ctx, args)
	// The child dies with us, whatever happens to us.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 2 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return run, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return run, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return run, fmt.Errorf("demo: start the %s client: %w", client, err)
	}
	run.PID = cmd.Process.Pid
	waited := false
	defer func() {
		if !waited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()

	lines := bufio.NewScanner(stdout)
	every := max(1, d.o.Transactions/8)
	finished := false
	for !finished && lines.Scan() {
		f := strings.SplitN(lines.Text(), " ", 3)
		switch f[0] {
		case "ready":
			d.logf(client, "pid %d started, open-files limit %s", run.PID, f[1])
		case "tx":
			run.Done, _ = strconv.Atoi(f[1])
			if run.Done%every == 0 && run.Done < d.o.Transactions {
				if p, socks, err := d.scanChild(ctx, run.PID); err == nil {
					d.logf(client, "tx %3d: %s, %s", run.Done, stateSummary(socks), fdsOf(p))
				}
			}
		case "stop":
			i, _ := strconv.Atoi(f[1])
			run.Done, run.FailedAt = i-1, i
			run.Stopped = f[2]
			run.EMFILE = strings.Contains(f[2], "EMFILE")
			d.logf(client, "tx %3d: %s", i, f[2])
		case "done":
			finished = true
		}
	}
	if !finished {
		if err := ctx.Err(); err != nil {
			return run, fmt.Errorf("demo: interrupted during the %s client's run: %w", client, err)
		}
		return run, fmt.Errorf("demo: the %s client (pid %d) ended early: %v %s", client, run.PID, lines.Err(), strings.TrimSpace(stderr.String()))
	}

	// The peer answers Delay after each request: wait for its last answers
	// to arrive, so the sockets settle in their final state.
	snap, peerEnds, err := d.settle(ctx, run.PID)
	if err != nil {
		return run, err
	}
	var socks []inspect.Socket
	for _, s := range snap.Sockets {
		if s.Remote == d.peer && slices.Contains(s.PIDs, run.PID) {
			socks = append(socks, s)
		}
	}
	run.States = make(map[inspect.TCPState]int)
	for _, s := range socks {
		run.States[s.State]++
	}
	run.Sockets = len(socks)
	for _, p := range snap.Processes {
		if p.PID == run.PID {
			run.FDs, run.FDLimit = p.FDs, p.FDSoftLimit
			d.logf(client, "settled: %s, %s", stateSummary(socks), fdsOf(&p))
		}
	}
	r := report.Analyze(snap, report.DefaultThresholds)
	for _, f := range r.Findings {
		if f.PID == run.PID {
			run.Findings = append(run.Findings, f)
		}
	}
	run.PeerFinWait2, run.PeerOrphans = peerFinWait2(peerEnds, socks)
	run.FinTimeout = snap.System.FinTimeout

	// Stop the child: it closes what it holds when its stdin closes.
	_ = stdin.Close()
	waited = true
	if err := cmd.Wait(); err != nil {
		return run, fmt.Errorf("demo: the %s client: %v %s", client, err, strings.TrimSpace(stderr.String()))
	}
	d.logf(client, "pid %d stopped", run.PID)
	return run, nil
}

// scan inspects the child and this process (which runs the peer), and the
// sockets on the peer's port.
func (d *demo) scan(ctx context.Context, pid int) (*inspect.Snapshot, error) {
	return inspect.Scan(ctx, d.fsys, inspect.Options{PIDs: []int{pid, os.Getpid()}, Ports: []uint16{d.peer.Port()}})
}

func (d *demo) scanChild(ctx context.Context, pid int) (*inspect.Process, []inspect.Socket, error) {
	snap, err := d.scan(ctx, pid)
	if err != nil {
		return nil, nil, err
	}
	var socks []inspect.Socket
	for _, s := range snap.Sockets {
		if s.Remote == d.peer && slices.Contains(s.PIDs, pid) {
			socks = append(socks, s)
		}
	}
	for i := range snap.Processes {
		if snap.Processes[i].PID == pid {
			return &snap.Processes[i], socks, nil
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
		busy := false
		for _, s := range snap.Sockets {
			if s.Remote == d.peer && s.State == inspect.Established && slices.Contains(s.PIDs, pid) {
				busy = true
			}
		}
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

func writeDemoSummary(w io.Writer, res *DemoResult, o DemoOptions) error {
	fmt.Fprintln(w, "RESULT")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	l, r := res.Leaky, res.Reference
	row := func(name string, a, b any) { fmt.Fprintf(tw, "%s\t%v\t%v\t\n", name, a, b) }
	row("", "leaky", "reference")
	row("transactions", fmt.Sprintf("%d of %d", l.Done, o.Transactions), fmt.Sprintf("%d of %d", r.Done, o.Transactions))
	row("ended with", ending(l), ending(r))
	for _, st := range inspect.States {
		if l.States[st] > 0 || r.States[st] > 0 || st == inspect.CloseWait {
			row(st.String(), l.States[st], r.States[st])
		}
	}
	row("sockets held", l.Sockets, r.Sockets)
	row("fds open/limit", fmt.Sprintf("%d/%d", l.FDs, l.FDLimit), fmt.Sprintf("%d/%d", r.FDs, r.FDLimit))
	row("peer FIN_WAIT2", l.PeerFinWait2, r.PeerFinWait2)
	row("of which orphans", l.PeerOrphans, r.PeerOrphans)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, run := range []DemoRun{l, r} {
		if run.FDLimit > 0 && int64(run.FDs) > run.FDLimit {
			fmt.Fprintf(w, "(The %s client holds %s over its limit of %d: open before it lowered the\n"+
				"limit, which only stops new ones.)\n", run.Client, wording.Plural(run.FDs-int(run.FDLimit), "descriptor"), run.FDLimit)
		}
	}
	fmt.Fprintln(w)
	for _, run := range []DemoRun{l, r} {
		if len(run.Findings) == 0 {
			fmt.Fprintf(w, "sockleak inspect --pid %d (the %s client): no findings.\n", run.PID, run.Client)
			continue
		}
		fmt.Fprintf(w, "sockleak inspect --pid %d (the %s client):\n", run.PID, run.Client)
		for _, f := range run.Findings {
			fmt.Fprintf(w, "  %s [%s] %s\n", strings.ToUpper(f.Severity.String()), f.Kind, f.Message)
		}
	}
	limit := "Each one kept a file descriptor, until socket() failed with EMFILE at the open-files limit."
	if !l.EMFILE {
		limit = fmt.Sprintf("Each one keeps a file descriptor (%d of %d here): with more requests, "+
			"socket() would fail with EMFILE at the open-files limit.", l.FDs, l.FDLimit)
	}
	why := fmt.Sprintf("Every request timed out: the peer answers after %v, the clients wait %v. "+
		"The leaky client then returned without close(). The peer's late answer and its FIN still arrived, "+
		"so each such socket moved to CLOSE_WAIT with the answer unread in its receive queue, and stayed there: "+
		"the kernel never times out CLOSE_WAIT, only the owner's close() ends it. %s "+
		"The bug is in the process holding the CLOSE_WAIT sockets. The peer's side of each is a FIN_WAIT2 socket: "+
		"the peer closed its descriptor, so they are orphans, owned by no process, and the kernel drops them after "+
		"tcp_fin_timeout (%s). The reference client closes on the timeout path too: it holds no socket at the end, "+
		"and the peer's late answer finds the connection closed and draws a reset, so the peer is left with nothing either.",
		o.Delay, o.Timeout, limit, finTimeout(l.FinTimeout))
	fmt.Fprintf(w, "\nWHY\n%s\nDone in %.1f s; both clients and the peer are stopped.\n", wording.Wrap(why), res.Took.Seconds())
	return nil
}

func finTimeout(s uint64) string {
	if s == 0 {
		return "60 s by default"
	}
	return fmt.Sprintf("%d s here", s)
}

func ending(r DemoRun) string {
	switch {
	case r.EMFILE:
		return fmt.Sprintf("EMFILE at #%d", r.FailedAt)
	case r.Stopped != "":
		return fmt.Sprintf("error at #%d", r.FailedAt)
	default:
		return "all done"
	}
}

// DemoChild is the client side of the demo, run in a child process with
// args from RunDemo: it lowers its open-files limit, makes its requests
// with the leaky or the reference client, reports each on stdout, then
// holds its sockets until stdin closes, so that the parent can inspect
// them.
func DemoChild(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo-client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	kind := fs.String("client", "leaky", "leaky or reference")
	addr := fs.String("addr", "", "peer address")
	n := fs.Int("n", 100, "transactions")
	timeout := fs.Duration("timeout", 50*time.Millisecond, "receive timeout")
	fdLimit := fs.Uint64("fd-limit", 64, "soft open-files limit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *kind != "leaky" && *kind != "reference" {
		return fmt.Errorf("demo client: -client %q: want leaky or reference", *kind)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	lim.Cur = min(*fdLimit, lim.Max)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("demo client: lower RLIMIT_NOFILE: %w", err)
	}
	fmt.Fprintf(stdout, "ready %d\n", lim.Cur)

	leaky := &LeakyClient{}
	defer leaky.CloseLeaked() // also keeps the leaked conns referenced to the end
	opts := Options{ReadTimeout: *timeout, Delimiter: []byte("\n")}
	for i := 1; i <= *n; i++ {
		req := []byte("request " + strconv.Itoa(i) + "\n")
		var err error
		if *kind == "leaky" {
			_, err = leaky.Send(ctx, *addr, req, opts)
		} else {
			_, err = Send(ctx, *addr, req, opts)
		}
		var ce *Error
		if err != nil && (!errors.As(err, &ce) || ce.Kind == KindOther || ce.Kind == KindRefused) {
			msg := err.Error()
			if errors.Is(err, syscall.EMFILE) {
				msg += " (EMFILE)"
			}
			fmt.Fprintf(stdout, "stop %d %s\n", i, msg)
			break
		}
		fmt.Fprintf(stdout, "tx %d\n", i)
	}
	fmt.Fprintln(stdout, "done")
	_, err := io.Copy(io.Discard, stdin)
	return err
}
