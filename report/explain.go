package report

import (
	"bytes"
	"fmt"
	"io"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// Explanation says what a TCP state means in the close handshake and whose
// bug a build-up of it points to.
type Explanation struct {
	State   inspect.TCPState
	Meaning string // one line
	Closer  string // which side started the close: "this side", "the peer", "both", or "-"
	Blame   string // whose bug a build-up points to, in a few words
	BuildUp string // what many sockets in this state mean, in full
	EndedBy string // what takes a socket out of the state, in full
	Ends    string // EndedBy in a few words
}

// Explanations covers every state, in kernel order.
var Explanations = []Explanation{{
	State: inspect.Established, Meaning: "open; data flows both ways", Closer: "-", Blame: "-",
	BuildUp: "normal; a count that only grows is a pool that never shrinks or clients that never disconnect",
	EndedBy: "either side's close(), a reset, or keepalive failing on a dead peer",
	Ends:    "close, reset, keepalive",
}, {
	State: inspect.SynSent, Meaning: "connect() sent SYN, no answer yet", Closer: "-", Blame: "network or peer",
	BuildUp: "the peer is unreachable, filtered by a firewall, or not accepting",
	EndedBy: "SYN retransmissions (net.ipv4.tcp_syn_retries, about 2 minutes by default) or the connect timeout",
	Ends:    "SYN retries",
}, {
	State: inspect.SynRecv, Meaning: "SYN answered, waiting for the final ACK", Closer: "-", Blame: "flood, slow accept()",
	BuildUp: "a SYN flood, a full accept queue (the server is not calling accept() fast enough: check its listen backlog " +
		"and ss -ltn's Recv-Q), or clients whose ACKs are lost",
	EndedBy: "SYN-ACK retransmissions (net.ipv4.tcp_synack_retries)",
	Ends:    "SYN-ACK retries",
}, {
	State: inspect.FinWait1, Meaning: "our FIN sent, not yet acknowledged", Closer: "this side", Blame: "network or peer",
	BuildUp: "the peer or the path is not answering, or the send queue is still draining to a slow peer",
	EndedBy: "FIN retransmissions, then a reset (tcp_orphan_retries for orphans)",
	Ends:    "FIN retries",
}, {
	State: inspect.FinWait2, Meaning: "our FIN acknowledged, waiting for the peer's", Closer: "this side", Blame: "the peer",
	BuildUp: "the peer leaks: it got our FIN and never called close(), so its end sits in CLOSE_WAIT",
	EndedBy: "orphaned (the process already closed): net.ipv4.tcp_fin_timeout, 60 s by default; " +
		"still owned (half-closed with shutdown(SHUT_WR)): no timeout at all",
	Ends: "orphan: tcp_fin_timeout; owned: never",
}, {
	State: inspect.TimeWait, Meaning: "closed; lingers to absorb late packets", Closer: "this side", Blame: "-",
	BuildUp: "many short connections; normal unless near net.ipv4.tcp_max_tw_buckets. Reuse connections to have fewer",
	EndedBy: "a fixed 60 s on Linux (TCP_TIMEWAIT_LEN); tcp_fin_timeout does not change it",
	Ends:    "fixed 60 s",
}, {
	State: inspect.Close, Meaning: "closed, or not yet connected", Closer: "-", Blame: "-",
	BuildUp: "sockets created and never connected; rare in the tables",
	EndedBy: "close() by the owner",
	Ends:    "owner's close()",
}, {
	State: inspect.CloseWait, Meaning: "the peer sent FIN; we have not closed", Closer: "the peer", Blame: "THIS PROCESS",
	BuildUp: "this process leaks: error and timeout paths that return without close(), response bodies never read " +
		"to the end, pools never drained. Each leaked socket holds a file descriptor until EMFILE",
	EndedBy: "nothing in the kernel: only close() by the owner (or its exit). Keepalive or a pending send may turn it into a reset",
	Ends:    "never: only owner's close()",
}, {
	State: inspect.LastAck, Meaning: "the peer closed, then we did; waiting for its ACK", Closer: "the peer", Blame: "network or peer",
	BuildUp: "the peer vanished after sending its FIN",
	EndedBy: "FIN retransmissions (tcp_orphan_retries for orphans), then the socket is dropped",
	Ends:    "FIN retries",
}, {
	State: inspect.Listen, Meaning: "a server socket waiting for connections", Closer: "-", Blame: "-",
	BuildUp: "normal: one per listening address and port (more with SO_REUSEPORT). Its Recv-Q is the connections " +
		"waiting in its accept queue and its Send-Q the backlog: a queue near the backlog, or queued connections in " +
		"CLOSE_WAIT (their clients gave up), means the server is not calling accept(): stopped, hung or overloaded",
	EndedBy: "close() by the owner",
	Ends:    "owner's close()",
}, {
	State: inspect.Closing, Meaning: "both sent FIN at once; waiting for an ACK", Closer: "both", Blame: "-",
	BuildUp: "rare: simultaneous closes, or lost ACKs",
	EndedBy: "FIN retransmissions",
	Ends:    "FIN retries",
}, {
	State: inspect.NewSynRecv, Meaning: "half-open request socket, shown as SYN_RECV", Closer: "-", Blame: "flood, slow accept()",
	BuildUp: "as SYN_RECV, which is how /proc/net/tcp and sock_diag report these sockets (so sockleak, ss and netstat never " +
		"list NEW_SYN_RECV): a SYN flood, or a full accept queue",
	EndedBy: "SYN-ACK retransmissions (net.ipv4.tcp_synack_retries)",
	Ends:    "SYN-ACK retries",
}}

// Explain writes the explanation of one state.
func Explain(w io.Writer, s inspect.TCPState) error {
	for _, e := range Explanations {
		if e.State != s {
			continue
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s: %s.\n\n", e.State, e.Meaning)
		wording.WriteWrapped(&b, "closed first by: ", "                 ", e.Closer+".")
		wording.WriteWrapped(&b, "a build-up:      ", "                 ", e.BuildUp+".")
		wording.WriteWrapped(&b, "ended by:        ", "                 ", e.EndedBy+".")
		if pair := pairOf(s); pair != 0 {
			fmt.Fprintf(&b, "\nThe other end of a %s socket is usually in %s.\n", s, pair)
		}
		_, err := w.Write(b.Bytes())
		return err
	}
	return fmt.Errorf("no explanation for state %s", s)
}

// pairOf returns the state the peer is usually in while this side is in s.
func pairOf(s inspect.TCPState) inspect.TCPState {
	switch s {
	case inspect.CloseWait:
		return inspect.FinWait2
	case inspect.FinWait2:
		return inspect.CloseWait
	case inspect.LastAck:
		return inspect.TimeWait
	case inspect.SynSent:
		return inspect.SynRecv
	}
	return 0
}

// ExplainAll writes a compact table of every state.
func ExplainAll(w io.Writer) error {
	var b bytes.Buffer
	t := newTable(&b, []string{"STATE", "MEANING", "CLOSED FIRST", "A BUILD-UP BLAMES", "ENDED BY"})
	for _, e := range Explanations {
		if err := t.Append([]string{e.State.String(), e.Meaning, e.Closer, e.Blame, e.Ends}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	b.WriteString("\nA build-up of CLOSE_WAIT is a bug in the process that holds them; a build-up of FIN_WAIT2 is\n" +
		"usually a bug in the peer. Run 'sockleak explain STATE' for one state in full.\n")
	_, err := w.Write(trimTrailingSpace(b.Bytes()))
	return err
}
