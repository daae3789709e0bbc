package demo

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"

	"time"
)

// process is a client's child process, which runs Child and reports each
// transaction on its stdout.
type process struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner // its stdout
	stderr bytes.Buffer
	waited bool
}

// start starts the client's child process with the demo's options.
func (d *demo) start(ctx context.Context, client string) (*process, error) {
	args := []string{"-client", client, "-addr", d.peer.String(), "-n", strconv.Itoa(d.o.Transactions),
		"-timeout", d.o.Timeout.String(), "-fd-limit", strconv.Itoa(d.o.FDLimit)}
	p := &process{cmd: d.o.Command(ctx, args)}
	// The child dies with us, whatever happens to us.
	p.cmd.SysProcAttr = childAttr()
	p.cmd.WaitDelay = 2 * time.Second
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p.lines = bufio.NewScanner(stdout)
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("demo: start the %s client: %w", client, err)
	}
	return p, nil
}

// follow reads the child's report of each transaction until it is done,
// logs it with, every eighth of the run, what the inspect engine sees, and
// records it in run.
func (d *demo) follow(ctx context.Context, p *process, run *ClientRun) error {
	every := max(1, d.o.Transactions/8)
	for p.lines.Scan() {
		f := strings.SplitN(p.lines.Text(), " ", 3)
		switch f[0] {
		case "ready":
			d.logf(run.Client, "pid %d started, open-files limit %s", run.PID, f[1])
		case "tx":
			run.Done, _ = strconv.Atoi(f[1])
			if run.Done%every == 0 && run.Done < d.o.Transactions {
				if proc, socks, err := d.scanChild(ctx, run.PID); err == nil {
					d.logf(run.Client, "tx %3d: %s, %s", run.Done, stateSummary(socks), fdsOf(proc))
				}
			}
		case "stop":
			i, _ := strconv.Atoi(f[1])
			run.Done, run.FailedAt = i-1, i
			run.Stopped = f[2]
			run.EMFILE = strings.Contains(f[2], "EMFILE")
			d.logf(run.Client, "tx %3d: %s", i, f[2])
		case "done":
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("demo: interrupted during the %s client's run: %w", run.Client, err)
	}
	// Its stderr is whole once it has been waited for.
	p.kill()
	return fmt.Errorf("demo: the %s client (pid %d) ended early: %v %s", run.Client, run.PID, p.lines.Err(), p.stderrText())
}

// stop closes the child's stdin, on which it closes what it holds and
// exits, and waits for it.
func (p *process) stop() error {
	_ = p.stdin.Close()
	p.waited = true
	return p.cmd.Wait()
}

// kill kills the child and waits for it, unless it has been waited for.
func (p *process) kill() {
	if p.waited {
		return
	}
	p.waited = true
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

func (p *process) stderrText() string { return strings.TrimSpace(p.stderr.String()) }
