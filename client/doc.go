// Package client is sockleak's reference TCP request/response client and
// what it is tried against:
//
//   - Send (client.go), the reference client: one connection per request,
//     a deadline for each step, and the socket closed on every path, exactly
//     once, gracefully (Graceful) or with a reset (Abort);
//   - its errors (errors.go): *Error, of a Kind, matching the sentinels
//     ErrTimeout, ErrRefused and the others with errors.Is;
//   - the tracer (trace.go): Options.Trace sees each Step with the socket's
//     kernel state, read from its descriptor (KernelState) or, once it is
//     closed, from the kernel's socket table (TableState);
//   - Peer (peer.go), a loopback server that closes, or does not, in one of
//     the Behaviours, among them Slow, the incident's peer;
//   - LeakyClient (leaky.go), the bad example: Send with the incident's bug.
//
// The bug LeakyClient keeps: a client sends a request, waits for the reply
// with a receive timeout, and on timeout returns without close(). The peer
// answers late and closes; the client's socket then sits in CLOSE_WAIT for
// ever (the kernel never times CLOSE_WAIT out), holding a file descriptor,
// until the process hits its open-files limit and fails with EMFILE.
// Package demo puts the two clients side by side.
//
// The package depends on inspect (TCP states, the socket table) and nothing
// else of sockleak's but internal/wording.
package client
