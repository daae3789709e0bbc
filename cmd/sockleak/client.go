package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sockleak/sockleak/client"
)

// ClientOptions are the flags of sockleak client.
type ClientOptions struct {
	Addr     string        // --addr HOST:PORT. Required.
	Send     string        // --send: the request, sent followed by a newline
	Timeout  time.Duration // --timeout: for each of connect, write and read
	Close    string        // --close: graceful or abort
	Trace    bool          // --trace: print each step with the socket's kernel state
	Count    int           // --count: requests, one connection each
	Delim    string        // --delim: end of the reply, with Go escapes; "" reads to EOF
	MaxReply int           // --max-reply: bytes
	Out      io.Writer
}

func newClientCmd(runF func(context.Context, *ClientOptions) error) *cobra.Command {
	opts := &ClientOptions{}
	c := &cobra.Command{
		Use:   "client --addr HOST:PORT --send TEXT",
		Short: "Send a request with the reference client, which closes its socket on every path",
		Long: `Send a request and read the reply with sockleak's reference client: one
connection per request, a deadline for each step, and the socket closed on
every path, success or error. With --trace, print each step with the
socket's state in the kernel (getsockopt TCP_INFO) and the time it took, to
watch the close handshake happen.

--close graceful (the default) sends FIN with shutdown, waits briefly for the
peer's FIN, then closes: the peer sees a clean end, and when it closes within
the wait the TIME_WAIT lands here. --close abort closes with SO_LINGER 0:
the peer gets RST, nothing is left in TIME_WAIT; use it only when the peer
expects it. After a timeout or a reply too large the socket is closed at once.`,
		Example: `  sockleak peer --behaviour reply-close &
  sockleak client --addr 127.0.0.1:7000 --send hello --trace
  sockleak client --addr 127.0.0.1:7000 --send hello --close abort --count 3`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.Out = c.OutOrStdout()
			if opts.Addr == "" {
				return flagErrorf("--addr is required")
			}
			if opts.Close != "graceful" && opts.Close != "abort" {
				return flagErrorf("invalid --close %q: want graceful or abort", opts.Close)
			}
			if opts.Count < 1 {
				return flagErrorf("invalid --count %d: want 1 or more", opts.Count)
			}
			if opts.Timeout <= 0 {
				return flagErrorf("invalid --timeout %v: want more than 0", opts.Timeout)
			}
			if opts.MaxReply < 1 {
				// The library takes 0 for its default: a flag says what it means.
				return flagErrorf("invalid --max-reply %d: want 1 or more bytes", opts.MaxReply)
			}
			if _, err := unescape(opts.Delim); err != nil {
				return flagErrorf("invalid --delim %q: %v", opts.Delim, err)
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			return runClient(c.Context(), opts)
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Addr, "addr", "", "server address, HOST:PORT")
	f.StringVar(&opts.Send, "send", "", "request text; a newline is appended")
	f.DurationVar(&opts.Timeout, "timeout", 2*time.Second, "deadline for each step: connect, write, read")
	f.StringVar(&opts.Close, "close", "graceful", "how to close after a reply: graceful (FIN) or abort (RST)")
	f.BoolVar(&opts.Trace, "trace", false, "print each step with the socket's kernel state and its duration")
	f.IntVar(&opts.Count, "count", 1, "requests to send, one connection each")
	f.StringVar(&opts.Delim, "delim", `\n`, `end of the reply (Go escapes: \n, \r\n); "" reads until the server closes`)
	f.IntVar(&opts.MaxReply, "max-reply", 64<<10, "largest reply accepted, in bytes")
	return c
}

func unescape(s string) (string, error) { return strconv.Unquote(`"` + s + `"`) }

func runClient(ctx context.Context, opts *ClientOptions) error {
	delim, _ := unescape(opts.Delim)
	co := client.Options{
		DialTimeout: opts.Timeout, WriteTimeout: opts.Timeout, ReadTimeout: opts.Timeout,
		MaxReply: opts.MaxReply, Delimiter: []byte(delim),
	}
	if opts.Close == "abort" {
		co.Close = client.Abort
	}
	if opts.Trace {
		co.Trace = func(s client.Step) { fmt.Fprintln(opts.Out, s) }
	}
	var failed int
	var last error
	for i := 1; i <= opts.Count; i++ {
		if opts.Trace {
			fmt.Fprintf(opts.Out, "request %d of %d to %s (%s close)\n", i, opts.Count, opts.Addr, co.Close)
		}
		reply, err := client.Send(ctx, opts.Addr, []byte(opts.Send+"\n"), co)
		if err != nil {
			failed++
			last = err
			if opts.Count > 1 {
				fmt.Fprintf(opts.Out, "request %d: %v\n", i, err)
			}
			continue
		}
		if opts.Trace {
			fmt.Fprintf(opts.Out, "reply: %q\n", reply)
		} else if _, err := opts.Out.Write(reply); err != nil {
			return err
		} else if len(reply) == 0 || reply[len(reply)-1] != '\n' {
			fmt.Fprintln(opts.Out)
		}
	}
	switch {
	case failed == 0:
		return nil
	case opts.Count == 1:
		return last
	default:
		return fmt.Errorf("%d of %d requests failed, the last with: %w", failed, opts.Count, last)
	}
}
