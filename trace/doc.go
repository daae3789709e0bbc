// Package trace records, while it runs, the moment each TCP socket gets a
// descriptor with the user stack that asked for it, and the time of each
// of its state changes (BPF: fexit on sock_alloc_file, the
// sock:inet_sock_set_state tracepoint). At the end it joins what it
// recorded to the sockets still held in a leak state, symbolises each
// opening stack (internal/symbolize) and groups the sockets by it: which
// code opened the sockets that leak, and exactly when each entered its
// state.
package trace
