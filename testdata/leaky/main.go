// Command leaky reproduces the incident sockleak exists for, on purpose:
// a request/response client whose receive-timeout path returns without
// close(). Each transaction with a slow peer leaves one socket in
// CLOSE_WAIT. With -close it closes on every path instead, as it should.
//
// Tests build and run it; it is not part of sockleak. It prints "ready"
// once every transaction is done and then holds its sockets until stdin
// closes. A line "close" on stdin is the fix arriving: it stops making
// requests, closes what it leaked and stays alive.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// leaked holds every leaked conn: a net.Conn that becomes garbage is closed
// by its finalizer, which would hide the leak.
var (
	mu     sync.Mutex
	leaked []net.Conn
	fixed  bool // "close" was read: no more requests, nothing leaks
)

// closeLeaked closes every leaked conn.
func closeLeaked() {
	mu.Lock()
	defer mu.Unlock()
	for _, c := range leaked {
		c.Close()
	}
	leaked = nil
}

func main() {
	addr := flag.String("addr", "", "peer address")
	n := flag.Int("n", 10, "transactions")
	timeout := flag.Duration("timeout", 50*time.Millisecond, "receive timeout")
	fdLimit := flag.Uint64("fd-limit", 0, "lower the soft open-files limit to this (0: leave it)")
	closeAll := flag.Bool("close", false, "close the socket on every path (the fix)")
	flag.Parse()
	if *fdLimit > 0 {
		var lim unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			fail(err)
		}
		lim.Cur = *fdLimit
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
			fail(err)
		}
	}
	// KeepAlive -1: a keepalive probe to a peer that closed would draw a
	// reset and make a leaked CLOSE_WAIT socket vanish.
	d := net.Dialer{Timeout: 2 * time.Second, KeepAlive: -1}
	eof := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if sc.Text() == "close" {
				mu.Lock()
				fixed = true
				mu.Unlock()
				closeLeaked()
			}
		}
		close(eof)
	}()
	for i := 0; i < *n; i++ {
		mu.Lock()
		stop := fixed
		mu.Unlock()
		if stop {
			break
		}
		c, err := d.Dial("tcp", *addr)
		if err != nil {
			fail(err)
		}
		if _, err := fmt.Fprintf(c, "request %d\n", i); err != nil {
			fail(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(*timeout))
		_, err = bufio.NewReader(c).ReadString('\n')
		if err != nil && !*closeAll {
			mu.Lock()
			if !fixed {
				leaked = append(leaked, c) // the bug: return without close()
				mu.Unlock()
				continue
			}
			mu.Unlock()
		}
		c.Close()
	}
	fmt.Println("ready")
	<-eof
	closeLeaked()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "leaky:", err)
	os.Exit(1)
}
