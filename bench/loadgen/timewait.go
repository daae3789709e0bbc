//go:build linux

package main

import (
	"fmt"
	"net"
	"os"
	"time"

	"github.com/sockleak/sockleak/bench/internal/truth"
)

// acceptTimeWait serves the TIME_WAIT server ends: the client closed
// first; read its FIN, then close. The client end goes to TIME_WAIT; this
// one is gone after the last ACK. With RenewTW the listener accepts for
// good, and each close time goes to the renewer, which replaces the socket
// when it expires.
func (l *landscape) acceptTimeWait() {
	l.wg.Add(l.s.TimeWait) // done as each of the first TimeWait ends closes
	twLn := l.lns[2]
	if !l.s.RenewTW {
		l.accept(twLn, l.s.TimeWait, l.closeTimeWait)
		return
	}
	go func() {
		for {
			c, err := twLn.Accept()
			if err != nil {
				l.fail(fmt.Errorf("accept: %w", err))
				return
			}
			l.closeTimeWait(c)
		}
	}()
}

// closeTimeWait closes a TIME_WAIT server end once the client's FIN is in.
func (l *landscape) closeTimeWait(c net.Conn) {
	go func() {
		var b [1]byte
		for {
			if _, err := c.Read(b[:]); err != nil {
				break
			}
		}
		c.Close()
		if l.s.RenewTW {
			select {
			case l.closes <- time.Now():
			default:
			}
		}
		if l.twClosed.Add(1) <= int64(l.s.TimeWait) {
			l.wg.Done()
		}
	}()
}

// renewTimeWait makes a new TIME_WAIT socket for each one that expires, in
// the order they were made, so that their number stays about the same:
// never more than were made (the timer wheel lets a 60 s TIME_WAIT run up
// to ~2 s late), a little less while renewing.
func renewTimeWait(s spec, lns []net.Listener, closes <-chan time.Time) {
	first := s.Established + s.CloseWait // the TIME_WAIT dials of the plan
	for i := 0; ; i++ {
		t := <-closes
		time.Sleep(time.Until(t.Add(truth.TimeWaitSeconds*time.Second + 2500*time.Millisecond)))
		if err := dial(s, first+i%s.TimeWait, lns); err != nil {
			fmt.Fprintf(os.Stderr, "loadgen: worker %d: renewing TIME_WAIT sockets stopped: %v\n", s.Index, err)
			return
		}
	}
}
