package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/report"
)

// ExplainOptions are the arguments of sockleak explain.
type ExplainOptions struct {
	State string // optional: one state, in any spelling
	Out   io.Writer
}

func newExplainCmd(runF func(*ExplainOptions) error) *cobra.Command {
	opts := &ExplainOptions{}
	return &cobra.Command{
		Use:   "explain [STATE]",
		Short: "Explain a TCP state: what it means, who closed, whose bug a build-up is, what ends it",
		Example: `  sockleak explain
  sockleak explain close-wait`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			opts.Out = c.OutOrStdout()
			if len(args) == 1 {
				opts.State = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return runExplain(opts)
		},
	}
}

func runExplain(opts *ExplainOptions) error {
	if opts.State == "" {
		return report.ExplainAll(opts.Out)
	}
	st, err := inspect.ParseState(opts.State)
	if err != nil {
		return &flagError{err}
	}
	return report.Explain(opts.Out, st)
}
