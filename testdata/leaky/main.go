// Command leaky reproduces the incident sockleak exists for, on purpose:
// a request/response client whose receive-timeout path returns without
// close(). Each transaction with a slow peer leaves one socket in
// CLOSE_WAIT. With -close it closes on every path instead, as it should.
//
// Tests build and run it; it is not part of sockleak. It prints "ready"
// once every transaction is done and then holds its sockets until stdin
// closes.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// leaked holds every leaked conn: a net.Conn that becomes garbage is closed
// by its finalizer, which would hide the leak.
var leaked []net.Conn

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
	for i := 0; i < *n; i++ {
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
			leaked = append(leaked, c) // the bug: return without close()
			continue
		}
		c.Close()
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range leaked {
		c.Close()
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "leaky:", err)
	os.Exit(1)
}
