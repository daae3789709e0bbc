//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/sockleak/sockleak/bench/internal/truth"
)

// child is a worker process as its parent sees it.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	gone  chan struct{} // closed when the worker's stdout closes: it exited
	rep   report
}

// readiness is a worker's first line: its report, or why there is none.
type readiness struct {
	i   int
	rep report
	err error
}

// runParent starts a worker per spec, waits until all are ready, prints
// the ground truth and holds the landscape until stdin closes or a signal
// comes; then it stops the workers.
func runParent(specs []spec, truthFile string) error {
	start := time.Now()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ready := make(chan readiness, len(specs))
	cs := make([]*child, len(specs))
	defer stopWorkers(cs)
	for i, s := range specs {
		c, err := startWorker(i, s, ready)
		if err != nil {
			return err
		}
		cs[i] = c
	}
	for range specs {
		select {
		case r := <-ready:
			if r.err != nil {
				return r.err
			}
			cs[r.i].rep = r.rep
		case s := <-sigs:
			return fmt.Errorf("interrupted (%v) while building", s)
		}
	}
	t := groundTruth(specs, cs, start)
	if err := publish(t, truthFile); err != nil {
		return err
	}
	exited := make(chan int, len(cs))
	for i, c := range cs {
		go func() { <-c.gone; exited <- i }()
	}
	select {
	case <-stdinClosed():
	case <-sigs:
	case i := <-exited:
		return fmt.Errorf("worker %d (pid %d) exited while holding", i, cs[i].rep.Pid)
	}
	return nil
}

// startWorker starts worker i, which sends its readiness (its first line
// on stdout) to ready.
func startWorker(i int, s spec, ready chan<- readiness) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	arg, _ := json.Marshal(s)
	cmd := exec.Command(self, "-worker", string(arg))
	cmd.Stderr = os.Stderr
	// If loadgen dies without cleaning up, so do its workers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin, gone: make(chan struct{})}
	go func() {
		defer close(c.gone)
		line, err := bufio.NewReader(stdout).ReadBytes('\n')
		var rep report
		if err == nil {
			err = json.Unmarshal(line, &rep)
		} else {
			err = fmt.Errorf("worker %d exited before it was ready", i)
		}
		ready <- readiness{i, rep, err}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	return c, nil
}

// stopWorkers closes each started worker's stdin, which asks it to reset
// its connections and exit, and kills one that does not within 10 s.
func stopWorkers(cs []*child) {
	for _, c := range cs {
		if c != nil {
			c.stdin.Close()
		}
	}
	for _, c := range cs {
		if c == nil {
			continue
		}
		select {
		case <-c.gone:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.gone
		}
		_ = c.cmd.Wait()
	}
}

// groundTruth is the landscape the ready workers hold, checked against
// the kernel's table (settle).
func groundTruth(specs []spec, cs []*child, start time.Time) truth.Truth {
	t := truth.Truth{
		States:     map[string]int{},
		Static:     []string{"ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT2", "LISTEN"},
		ListenAddr: listenAddr,
		LoadgenPid: os.Getpid(),
		Workers:    len(specs),
	}
	for i, s := range specs {
		rep := cs[i].rep
		p := truth.Pid{Pid: rep.Pid, States: s.states(), ListenPorts: rep.ListenPorts, FdSoftLimit: rep.FdSoftLimit}
		for st, c := range p.States {
			t.States[st] += c
		}
		t.ListenPorts = append(t.ListenPorts, rep.ListenPorts...)
		t.SourceIPs += rep.SourceIPs
		t.Pids = append(t.Pids, p)
		t.TimeWait.Created += s.TimeWait
	}
	slices.Sort(t.ListenPorts)
	if t.TimeWait.Created > 0 {
		t.States["TIME_WAIT"] = t.TimeWait.Created
	}
	for _, c := range t.States {
		t.Sockets += c
	}
	t.TimeWait.ExpiresAfterS = truth.TimeWaitSeconds
	t.TimeWait.Renewed = specs[0].RenewTW
	t.KernelCheck, t.TimeWait.AtReady = settle(&t, 10*time.Second)
	now := time.Now().UTC()
	t.Ready = now.Format(time.RFC3339)
	// The first TIME_WAIT socket was made after start: all are gone by then.
	t.TimeWait.ExpiresBy = now.Add(truth.TimeWaitSeconds * time.Second).Format(time.RFC3339)
	t.BuildMs = time.Since(start).Milliseconds()
	return t
}

// publish writes the truth to stdout and truthFile (when set), then says
// "ready" on stderr.
func publish(t truth.Truth, truthFile string) error {
	out, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	out = append(out, '\n')
	if truthFile != "" {
		if err := os.WriteFile(truthFile, out, 0o644); err != nil {
			return err
		}
	}
	if _, err := os.Stdout.Write(out); err != nil {
		return err
	}
	if t.KernelCheck != "ok" {
		fmt.Fprintln(os.Stderr, "loadgen: warning: the kernel's socket table does not match the truth:", t.KernelCheck)
	}
	fmt.Fprintf(os.Stderr, "loadgen: %d sockets, %d workers, %d source addresses, built in %.1f s\n",
		t.Sockets, t.Workers, t.SourceIPs, float64(t.BuildMs)/1000)
	fmt.Fprintln(os.Stderr, "ready")
	return nil
}
