//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// report is what a worker tells its parent when it is ready.
type report struct {
	Pid         int    `json:"pid"`
	ListenPorts []int  `json:"listen_ports"`
	SourceIPs   int    `json:"source_ips"`
	FdSoftLimit uint64 `json:"fd_soft_limit"`
}

// landscape is one worker's sockets while it builds them.
type landscape struct {
	s   spec
	lns []net.Listener // ESTABLISHED, CLOSE_WAIT and TIME_WAIT first; the rest only listen
	// errs holds the first error of any goroutine that builds.
	errs chan error
	// wg counts the acceptors and the first TIME_WAIT server ends.
	wg sync.WaitGroup
	// twClosed counts the TIME_WAIT server ends closed; closes gives their
	// close times to the renewer (RenewTW).
	twClosed atomic.Int64
	closes   chan time.Time
}

// runWorker builds the landscape of s, reports to the parent on stdout and
// holds it until stdin closes or a signal comes; then it resets every
// connection.
func runWorker(s spec) error {
	fdLimit, err := raiseFdLimit(s)
	if err != nil {
		return err
	}
	held = make([]net.Conn, 0, s.Listen+2*s.Established+2*s.CloseWait)
	l := &landscape{s: s, errs: make(chan error, 1), closes: make(chan time.Time, s.TimeWait+2*s.Concurrency)}
	ports, err := l.listen()
	if err != nil {
		return err
	}
	if err := l.build(); err != nil {
		return err
	}
	total := s.Established + s.CloseWait + s.TimeWait
	rep := report{Pid: os.Getpid(), ListenPorts: ports, SourceIPs: (total + s.PerIP - 1) / s.PerIP, FdSoftLimit: fdLimit}
	line, _ := json.Marshal(rep)
	if _, err := os.Stdout.Write(append(line, '\n')); err != nil {
		return err
	}
	if s.RenewTW && s.TimeWait > 0 {
		go renewTimeWait(s, l.lns, l.closes)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	select {
	case <-stdinClosed():
	case <-sigs:
	}
	resetAll()
	for _, ln := range l.lns {
		ln.Close()
	}
	return nil
}

// raiseFdLimit raises the soft open-files limit to the hard one and
// returns it, or fails if s would need more than 90% of it.
func raiseFdLimit(s spec) (uint64, error) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	lim.Cur = lim.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if need := s.fds(); uint64(need) > lim.Cur*9/10 {
		return 0, fmt.Errorf("needs ~%d file descriptors, more than 90%% of its limit %d: use more workers", need, lim.Cur)
	}
	return lim.Cur, nil
}

// listen opens the worker's listeners and returns their ports.
func (l *landscape) listen() ([]int, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	var ports []int
	for range l.s.Listen {
		ln, err := lc.Listen(context.Background(), "tcp4", listenAddr+":0")
		if err != nil {
			return nil, err
		}
		l.lns = append(l.lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// fail keeps the first error of the goroutines that build.
func (l *landscape) fail(err error) {
	select {
	case l.errs <- err:
	default:
	}
}

// build accepts and dials every connection of the plan, and returns once
// all are in their state, at the first error, or after 5 minutes.
func (l *landscape) build() error {
	s := l.s
	estLn, cwLn := l.lns[0], l.lns[1]
	l.accept(estLn, s.Established, hold)
	l.accept(cwLn, s.CloseWait, func(c net.Conn) {
		// Half-close: FIN to the client, which never closes (CLOSE_WAIT);
		// this end, still owned, waits in FIN_WAIT2 with no timeout.
		if err := c.(*net.TCPConn).CloseWrite(); err != nil {
			l.fail(fmt.Errorf("close write: %w", err))
		}
		hold(c)
	})
	l.acceptTimeWait()

	// Dials: ESTABLISHED, then CLOSE_WAIT, then TIME_WAIT (the freshest).
	total := s.Established + s.CloseWait + s.TimeWait
	var next atomic.Int64
	var dials sync.WaitGroup
	for range s.Concurrency {
		dials.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= total {
					return
				}
				if err := dial(s, k, l.lns); err != nil {
					l.fail(err)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { dials.Wait(); l.wg.Wait(); close(done) }()
	select {
	case <-done:
	case err := <-l.errs:
		return err
	case <-time.After(5 * time.Minute):
		return errors.New("timed out building the landscape")
	}
	select {
	case err := <-l.errs:
		return err
	default:
	}
	return nil
}

// accept accepts n connections on ln and hands each to handle.
func (l *landscape) accept(ln net.Listener, n int, handle func(net.Conn)) {
	l.wg.Go(func() {
		for range n {
			c, err := ln.Accept()
			if err != nil {
				l.fail(fmt.Errorf("accept: %w", err))
				return
			}
			handle(c)
		}
	})
}

// held keeps a reference to every conn a worker holds: a net.Conn that
// becomes garbage is closed by its finalizer.
var (
	heldMu sync.Mutex
	held   []net.Conn
)

func hold(c net.Conn) {
	heldMu.Lock()
	held = append(held, c)
	heldMu.Unlock()
}

// resetAll closes every held conn with SO_LINGER 0: a reset, so the
// landscape leaves no TIME_WAIT or orphaned FIN_WAIT sockets behind.
func resetAll() {
	heldMu.Lock()
	defer heldMu.Unlock()
	for _, c := range held {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}
}
