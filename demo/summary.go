package demo

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// writeSummary writes what the two runs ended with, side by side, the
// findings about each client, and why.
func writeSummary(w io.Writer, res *Result, o Options) error {
	fmt.Fprintln(w, "RESULT")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	l, r := res.Leaky, res.Reference
	row := func(name string, a, b any) { fmt.Fprintf(tw, "%s\t%v\t%v\t\n", name, a, b) }
	row("", "leaky", "reference")
	row("transactions", fmt.Sprintf("%d of %d", l.Done, o.Transactions), fmt.Sprintf("%d of %d", r.Done, o.Transactions))
	row("ended with", ending(l), ending(r))
	for _, st := range inspect.States {
		if l.States[st] > 0 || r.States[st] > 0 || st == inspect.CloseWait {
			row(st.String(), l.States[st], r.States[st])
		}
	}
	row("sockets held", l.Sockets, r.Sockets)
	row("fds open/limit", fmt.Sprintf("%d/%d", l.FDs, l.FDLimit), fmt.Sprintf("%d/%d", r.FDs, r.FDLimit))
	row("peer FIN_WAIT2", l.PeerFinWait2, r.PeerFinWait2)
	row("of which orphans", l.PeerOrphans, r.PeerOrphans)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, run := range []ClientRun{l, r} {
		if run.FDLimit > 0 && int64(run.FDs) > run.FDLimit {
			fmt.Fprintf(w, "(The %s client holds %s over its limit of %d: open before it lowered the\n"+
				"limit, which only stops new ones.)\n", run.Client, wording.Plural(run.FDs-int(run.FDLimit), "descriptor"), run.FDLimit)
		}
	}
	fmt.Fprintln(w)
	writeFindings(w, l, r)
	fmt.Fprintf(w, "\nWHY\n%s\nDone in %.1f s; both clients and the peer are stopped.\n", wording.Wrap(why(l, o)), res.Took.Seconds())
	return nil
}

// writeFindings lists what inspect found about each client's process.
func writeFindings(w io.Writer, runs ...ClientRun) {
	for _, run := range runs {
		if len(run.Findings) == 0 {
			fmt.Fprintf(w, "sockleak inspect --pid %d (the %s client): no findings.\n", run.PID, run.Client)
			continue
		}
		fmt.Fprintf(w, "sockleak inspect --pid %d (the %s client):\n", run.PID, run.Client)
		for _, f := range run.Findings {
			fmt.Fprintf(w, "  %s [%s] %s\n", strings.ToUpper(f.Severity.String()), f.Kind, f.Message)
		}
	}
}

// why explains the leaky run l, unwrapped.
func why(l ClientRun, o Options) string {
	limit := "Each one kept a file descriptor, until socket() failed with EMFILE at the open-files limit."
	if !l.EMFILE {
		limit = fmt.Sprintf("Each one keeps a file descriptor (%d of %d here): with more requests, "+
			"socket() would fail with EMFILE at the open-files limit.", l.FDs, l.FDLimit)
	}
	return fmt.Sprintf("Every request timed out: the peer answers after %v, the clients wait %v. "+
		"The leaky client then returned without close(). The peer's late answer and its FIN still arrived, "+
		"so each such socket moved to CLOSE_WAIT with the answer unread in its receive queue, and stayed there: "+
		"the kernel never times out CLOSE_WAIT, only the owner's close() ends it. %s "+
		"The bug is in the process holding the CLOSE_WAIT sockets. The peer's side of each is a FIN_WAIT2 socket: "+
		"the peer closed its descriptor, so they are orphans, owned by no process, and the kernel drops them after "+
		"tcp_fin_timeout (%s). The reference client closes on the timeout path too: it holds no socket at the end, "+
		"and the peer's late answer finds the connection closed and draws a reset, so the peer is left with nothing either.",
		o.Delay, o.Timeout, limit, finTimeout(l.FinTimeout))
}

func finTimeout(s uint64) string {
	if s == 0 {
		return "60 s by default"
	}
	return fmt.Sprintf("%d s here", s)
}

func ending(r ClientRun) string {
	switch {
	case r.EMFILE:
		return fmt.Sprintf("EMFILE at #%d", r.FailedAt)
	case r.Stopped != "":
		return fmt.Sprintf("error at #%d", r.FailedAt)
	default:
		return "all done"
	}
}
