package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/sockleak/sockleak/client"
	"github.com/sockleak/sockleak/internal/wording"
)

// PeerOptions are the flags of sockleak peer.
type PeerOptions struct {
	Listen    string        // --listen: loopback IP:PORT
	Behaviour string        // --behaviour
	Delay     time.Duration // --delay: how late slow answers
	// CloseDelay is --close-delay: how long echo waits after the client's
	// FIN before it closes.
	CloseDelay time.Duration
	Reply      string // --reply: the answer; empty echoes the request
	Out        io.Writer
}

// defaultCloseDelay is --close-delay's default: long enough to see the
// client in FIN_WAIT2.
const defaultCloseDelay = 200 * time.Millisecond

func newPeerCmd(runF func(context.Context, *PeerOptions) error) *cobra.Command {
	opts := &PeerOptions{}
	c := &cobra.Command{
		Use:   "peer [--listen 127.0.0.1:PORT] [--behaviour NAME]",
		Short: "Run a loopback test server that closes (or does not) in a chosen way",
		Long: `Run a TCP server on a loopback address that treats each connection in one
way, to test a client against a peer that closes. It reads a request (a
line) and then:

  echo             answers every line; closes --close-delay after the
                   client's FIN (meanwhile the client is in FIN_WAIT2)
  reply-close      answers, then closes: the peer closes first
  slow             answers after --delay, then closes: the incident's peer,
                   when --delay exceeds the client's receive timeout
  half-close-hold  sends FIN with shutdown without answering and keeps the
                   socket until the client closes (FIN_WAIT2 here, CLOSE_WAIT
                   at the client: neither times out)
  reset            closes with RST (SO_LINGER 0)
  never-close      answers every line and never closes, even after the
                   client's FIN: the peer's own CLOSE_WAIT leak

It logs each connection's events and runs until interrupted.`,
		Example: `  sockleak peer --listen 127.0.0.1:7000 --behaviour slow --delay 3s
  sockleak peer --behaviour half-close-hold`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.Out = c.OutOrStdout()
			if _, err := client.ParseBehaviour(opts.Behaviour); err != nil {
				return &flagError{err}
			}
			if opts.Delay <= 0 {
				return flagErrorf("invalid --delay %v: want more than 0", opts.Delay)
			}
			if opts.CloseDelay < 0 {
				return flagErrorf("invalid --close-delay %v: want 0 or more", opts.CloseDelay)
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			ctx, stop := interruptible(c.Context())
			defer stop()
			return runPeer(ctx, opts)
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Listen, "listen", "127.0.0.1:7000", "loopback address to listen on, IP:PORT (port 0: any free port)")
	f.StringVar(&opts.Behaviour, "behaviour", "echo", "echo, reply-close, slow, half-close-hold, reset or never-close")
	f.DurationVar(&opts.Delay, "delay", 3*time.Second, "how late slow answers")
	f.DurationVar(&opts.CloseDelay, "close-delay", defaultCloseDelay, "how long echo waits after the client's FIN before it closes (0: at once)")
	f.StringVar(&opts.Reply, "reply", "", "answer to every request (a newline is appended); default: echo the request")
	return c
}

// runPeer serves until ctx is done.
func runPeer(ctx context.Context, opts *PeerOptions) error {
	start := time.Now()
	po := client.PeerOptions{
		Addr: opts.Listen, Behaviour: client.Behaviour(opts.Behaviour), Delay: opts.Delay, CloseDelay: opts.CloseDelay,
		Logf: func(format string, args ...any) {
			fmt.Fprintf(opts.Out, "%8.3fs  %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
		},
	}
	if opts.Reply != "" {
		po.Reply = []byte(opts.Reply + "\n")
	}
	p, err := client.StartPeer(po)
	if err != nil {
		return err
	}
	what := opts.Behaviour
	if po.Behaviour == client.Slow {
		what += fmt.Sprintf(" (answers after %v)", opts.Delay)
	}
	fmt.Fprintf(opts.Out, "sockleak peer: listening on %s, behaviour %s; interrupt to stop\n", p.Addr(), what)
	<-ctx.Done()
	err = p.Close()
	fmt.Fprintf(opts.Out, "sockleak peer: stopped after %s\n", wording.Plural(p.Accepted(), "connection"))
	return err
}
