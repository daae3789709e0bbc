package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sockleak/sockleak/internal/buildinfo"
)

// versionString is the version alone: sockleak_build_info's, for watch.
func versionString() string { return buildinfo.Read().Version }

// setVersion gives the root command -V and --version, as the Nagios
// plugin guidelines and most tools have them, beside the version command:
// both print buildinfo's line, the version, commit, commit time and Go
// version.
func setVersion(root *cobra.Command) {
	root.Version = buildinfo.Read().Version
	root.SetVersionTemplate(buildinfo.Read().String() + "\n")
	root.Flags().BoolP("version", "V", false, "print the version, commit and build date, and exit")
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(c.OutOrStdout(), buildinfo.Read().String())
			return err
		},
	}
}
