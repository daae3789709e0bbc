// Package livetest marks sockleak's live tests: those that need the host
// (real sockets on loopback, child processes, network namespaces, a pty,
// HTTP on loopback, a go build). go test -short skips them and runs the
// rest, the fixture, parser, renderer and golden tests, in seconds.
package livetest

import "testing"

// Skip skips t under -short. Call it first in a live test, or in a helper
// that only live tests use.
func Skip(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("live test: needs the host (real sockets, processes or namespaces); skipped with -short")
	}
}
