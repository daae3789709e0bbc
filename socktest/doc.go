// Package socktest fails a Go test that leaks a TCP socket, as goleak
// fails one that leaks a goroutine: defer VerifyNone at the top of a test,
// or call VerifyTestMain from TestMain to check a whole package once (the
// safe choice when tests run in parallel, since sockets belong to the
// process, not to a test).
//
// A leak is a socket this process holds in CLOSE_WAIT (the peer closed
// and this process never will: there is no kernel timer), and any TCP
// socket still open at the end that was not open in the baseline
// (IgnoreCurrent): a connection, a listener. IgnorePeers, IgnorePorts,
// IgnoreListeners and IgnoreStates allow a deliberate keep-alive pool or
// a shared test server by name. Closing is often asynchronous (a
// transport's idle connections, a server's shutdown), so the check looks
// again with a growing pause until MaxWait has passed. It never forces a
// garbage collection: one would close by luck, through a finaliser, the
// connections a test forgot.
//
// Each leak is listed with its state, local → peer address, how long it
// has been in that state (the kernel's lower bound, in CLOSE_WAIT and
// FIN_WAIT2) or idle, its descriptor and, where the test opened it
// through Control, Track or Transport, the lines that opened it.
//
// It reads only this process's own descriptors (/proc/self/fd) and asks
// each TCP socket about itself: no privilege is needed, and the cost
// grows with this process's descriptors, not with the host's sockets. On
// systems other than Linux the check is skipped with a message.
package socktest
