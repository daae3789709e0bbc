// Package inspect reads TCP sockets, the processes that own them, their
// file descriptors and limits, and the system's socket counters from a proc
// filesystem: the live /proc, a host's /proc mounted elsewhere, or a fixture
// tree.
package inspect
