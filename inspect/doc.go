// Package inspect collects what sockleak diagnoses, from a proc
// filesystem (the live /proc, a host's /proc mounted elsewhere, or a
// fixture tree): the TCP sockets of every network namespace, the processes
// that own them with their file descriptors and limits, and the system's
// socket counters.
//
// Scan (scan.go) is the collect step: it selects the processes, reads the
// socket tables beside their descriptors, and assembles a
// Snapshot (snapshot.go) as Options (options.go) ask, giving queued
// connections to their listener's owners (queue.go) and reading again the
// sockets no process was seen holding (recheck.go). Where the tables and
// the owners come from is a backend: a table source and an owner source
// (sources.go), which each backend's file registers in the registry of
// backend.go (source_netlink_linux.go and source_proc.go, both with the fd
// walk of owners_fdwalk.go as their owner source). The readers
// are named for the kernel files they read (net_tcp.go, proc_fd.go,
// proc_limits.go, proc_stat.go, system.go, netlink_linux.go).
//
// Beside Scan it serves the other commands: ProcessTree for sockleak run,
// LookupSocket for the reference client; and OwnSockets (self_linux.go),
// the TCP sockets of this process read through its own descriptors, for
// socktest.
package inspect
