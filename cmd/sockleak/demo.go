package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"

	"github.com/spf13/cobra"

	"github.com/sockleak/sockleak/demo"
)

// DemoOptions are the flags of sockleak demo.
type DemoOptions struct {
	Transactions int           // --transactions: requests per client
	FDLimit      int           // --fd-limit: the clients' soft open-files limit
	Timeout      time.Duration // --timeout: the clients' receive timeout
	Delay        time.Duration // --delay: how late the peer answers
	Out          io.Writer
}

// demoClientCmd is the hidden subcommand the demo runs its clients with.
const demoClientCmd = "__demo-client"

func newDemoCmd(runF func(context.Context, *DemoOptions) error) *cobra.Command {
	opts := &DemoOptions{}
	c := &cobra.Command{
		Use:   "demo",
		Short: "Reproduce the incident: a leaky client's CLOSE_WAIT sockets pile up until EMFILE; then the fix",
		Long: `Reproduce the incident sockleak exists for, on loopback, in about 9 seconds.
A slow peer answers each request later than the client waits, then closes.
The leaky client returns on that timeout without close(): watched by the
inspect engine, its CLOSE_WAIT sockets climb to its lowered open-files limit
until socket() fails with EMFILE. The reference client, same requests, same
limit, ends with no socket. The demo prints a timeline, a side-by-side table
and why, and stops everything it started.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			opts.Out = c.OutOrStdout()
			if opts.Transactions < 1 || opts.FDLimit < 8 {
				return flagErrorf("invalid --transactions %d or --fd-limit %d: want at least 1 and 8", opts.Transactions, opts.FDLimit)
			}
			if opts.Timeout <= 0 || opts.Delay <= opts.Timeout {
				return flagErrorf("invalid --timeout %v, --delay %v: the peer's delay must exceed the client's timeout", opts.Timeout, opts.Delay)
			}
			if runF != nil {
				return runF(c.Context(), opts)
			}
			ctx, stop := interruptible(c.Context())
			defer stop()
			return runDemo(ctx, opts)
		},
	}
	f := c.Flags()
	f.IntVar(&opts.Transactions, "transactions", 100, "requests each client sends")
	f.IntVar(&opts.FDLimit, "fd-limit", 64, "soft open-files limit of each client's process")
	f.DurationVar(&opts.Timeout, "timeout", 50*time.Millisecond, "the clients' receive timeout")
	f.DurationVar(&opts.Delay, "delay", 150*time.Millisecond, "how late the peer answers (more than --timeout)")
	return c
}

// runDemo runs the demo, with this program, under the hidden subcommand
// demoClientCmd, as its clients.
func runDemo(ctx context.Context, opts *DemoOptions) error {
	if err := demo.Supported(); err != nil {
		return fmt.Errorf("demo: %w", err) // exit 2, before any child starts
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("demo: find this program to run its clients: %w", err)
	}
	_, err = demo.Run(ctx, demo.Options{
		Transactions: opts.Transactions, FDLimit: opts.FDLimit, Timeout: opts.Timeout, Delay: opts.Delay,
		Command: func(ctx context.Context, args []string) *exec.Cmd {
			return exec.CommandContext(ctx, exe, append([]string{demoClientCmd}, args...)...)
		},
		Out: opts.Out,
	})
	return err
}

// newDemoClientCmd is the demo's client process. Hidden: only the demo
// runs it.
func newDemoClientCmd() *cobra.Command {
	return &cobra.Command{
		Use:                demoClientCmd,
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(c *cobra.Command, args []string) error {
			return demo.Child(c.Context(), args, c.InOrStdin(), c.OutOrStdout())
		},
	}
}
