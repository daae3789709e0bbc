// Command leaky reproduces the incident sockleak exists for, on purpose:
// it makes -n requests with client.LeakyClient, whose receive-timeout path
// returns without close(), so that each transaction with a slow peer
// leaves one socket in CLOSE_WAIT. With -close it makes them with
// client.Send, which closes on every path, as it should.
//
// Tests build and run it; it is not part of sockleak. It prints "ready"
// once every transaction is done and then holds its sockets until stdin
// closes. A line "close" on stdin is the fix arriving: it stops making
// requests, closes what it leaked and stays alive. A request that cannot
// be sent (the dial or the write fails) ends it with status 1.
//
// The clients are the library's, so where an exchange succeeds (or with
// -close) the socket is closed gracefully, as client.Send does: our FIN,
// then up to 500 ms for the peer's, not an immediate close(2).
//
// LeakyClient keeps the conns it leaked referenced (a net.Conn that becomes
// garbage is closed by its finalizer, which would hide the leak) and dials
// with KeepAlive -1 (a keepalive probe to a peer that closed would draw a
// reset and make a leaked CLOSE_WAIT socket vanish).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/client"
)

func main() {
	addr := flag.String("addr", "", "peer address")
	n := flag.Int("n", 10, "transactions")
	timeout := flag.Duration("timeout", 50*time.Millisecond, "receive timeout")
	fdLimit := flag.Uint64("fd-limit", 0, "lower the soft open-files limit to this (0: leave it)")
	closeAll := flag.Bool("close", false, "close the socket on every path (the fix)")
	flag.Parse()
	if *fdLimit > 0 {
		if err := lowerFDLimit(*fdLimit); err != nil {
			fail(err)
		}
	}
	leaky := &client.LeakyClient{}
	var fixed atomic.Bool // "close" was read: no more requests, nothing leaks
	eof := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if sc.Text() == "close" {
				fixed.Store(true)
				leaky.CloseLeaked()
			}
		}
		close(eof)
	}()
	ctx := context.Background()
	opts := client.Options{ReadTimeout: *timeout, Delimiter: []byte("\n")}
	for i := 0; i < *n && !fixed.Load(); i++ {
		req := fmt.Appendf(nil, "request %d\n", i)
		var err error
		if *closeAll {
			_, err = client.Send(ctx, *addr, req, opts)
		} else if _, err = leaky.Send(ctx, *addr, req, opts); fixed.Load() {
			leaky.CloseLeaked() // the fix arrived while it waited for the reply
		}
		// A reply that fails is the point (the leaky client leaks its
		// socket); a request that cannot be sent is not.
		var ce *client.Error
		if err != nil && !(errors.As(err, &ce) && ce.Op == "read") {
			fail(err)
		}
	}
	fmt.Println("ready")
	<-eof
	leaky.CloseLeaked()
}

// lowerFDLimit sets the soft open-files limit to n.
func lowerFDLimit(n uint64) error {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	lim.Cur = n
	return unix.Setrlimit(unix.RLIMIT_NOFILE, &lim)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "leaky:", err)
	os.Exit(1)
}
