// Command sockleak finds leaked TCP sockets and says whose bug they are.
//
// This package is the command line and nothing more: each subcommand has
// an Options struct, a constructor that wires its flags to them, and a run
// function that hands them to the packages that do the work (inspect
// collects, report judges and renders, watch samples over time, client is
// the reference client and peer, and so on). root.go holds Main, which
// maps errors to exit codes in one place; scanflags.go the scan flags
// every scanning command shares.
package main

import "os"

func main() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) }
