package demo

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/report"
)

// summaryResult is a demo run as TestRunSmall's ends: the leaky client
// stopped by EMFILE, the reference client done with nothing left.
var summaryResult = &Result{
	Leaky: ClientRun{Client: "leaky", PID: 101, Done: 8, FailedAt: 9, EMFILE: true,
		Stopped: "dial tcp 127.0.0.1:40767: socket: too many open files (EMFILE)",
		FDs:     17, FDLimit: 16, States: map[inspect.TCPState]int{inspect.CloseWait: 8}, Sockets: 8,
		Findings: []report.Finding{{Severity: report.Critical, Kind: report.KindCloseWait, PID: 101,
			Message: "pid 101 (demo) is not closing sockets its peer closed: 8 in CLOSE_WAIT to 127.0.0.1:40767"}},
		PeerFinWait2: 8, PeerOrphans: 8, FinTimeout: 60},
	Reference: ClientRun{Client: "reference", PID: 102, Done: 24, FDs: 9, FDLimit: 16, States: map[inspect.TCPState]int{}},
	Took:      1200 * time.Millisecond,
}

const summaryWant = `RESULT
                           leaky  reference
      transactions       8 of 24   24 of 24
        ended with  EMFILE at #9   all done
        CLOSE_WAIT             8          0
      sockets held             8          0
    fds open/limit         17/16       9/16
    peer FIN_WAIT2             8          0
  of which orphans             8          0
(The leaky client holds 1 descriptor over its limit of 16: open before it lowered the
limit, which only stops new ones.)

sockleak inspect --pid 101 (the leaky client):
  CRITICAL [close_wait] pid 101 (demo) is not closing sockets its peer closed: 8 in CLOSE_WAIT to 127.0.0.1:40767
sockleak inspect --pid 102 (the reference client): no findings.

WHY
Every request timed out: the peer answers after 100ms, the clients wait 30ms. The leaky client then
returned without close(). The peer's late answer and its FIN still arrived, so each such socket
moved to CLOSE_WAIT with the answer unread in its receive queue, and stayed there: the kernel never
times out CLOSE_WAIT, only the owner's close() ends it. Each one kept a file descriptor, until
socket() failed with EMFILE at the open-files limit. The bug is in the process holding the
CLOSE_WAIT sockets. The peer's side of each is a FIN_WAIT2 socket: the peer closed its descriptor,
so they are orphans, owned by no process, and the kernel drops them after tcp_fin_timeout (60 s
here). The reference client closes on the timeout path too: it holds no socket at the end, and the
peer's late answer finds the connection closed and draws a reset, so the peer is left with nothing
either.

Done in 1.2 s; both clients and the peer are stopped.
`

var summaryOptions = Options{Transactions: 24, Timeout: 30 * time.Millisecond, Delay: 100 * time.Millisecond}

func TestWriteSummary(t *testing.T) {
	var out bytes.Buffer
	if err := writeSummary(&out, summaryResult, summaryOptions); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(summaryWant, out.String()); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

// TestWriteSummaryNoEMFILE: a leaky client that did all its requests
// within its limit, on a host whose tcp_fin_timeout is unknown.
func TestWriteSummaryNoEMFILE(t *testing.T) {
	res := *summaryResult
	res.Leaky = ClientRun{Client: "leaky", PID: 101, Done: 20, FailedAt: 21, Stopped: "dial: connection refused",
		FDs: 12, FDLimit: 16, States: map[inspect.TCPState]int{inspect.CloseWait: 3, inspect.Established: 1}, Sockets: 4}
	var out bytes.Buffer
	if err := writeSummary(&out, &res, summaryOptions); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	collapse := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, want := range []string{
		"ended with  error at #21   all done\n",
		"ESTABLISHED             1          0\n",
		"sockleak inspect --pid 101 (the leaky client): no findings.\n",
		"Each one keeps a file descriptor (12 of 16 here): with more requests, socket() would fail",
		"tcp_fin_timeout (60 s by default)",
	} {
		if !strings.Contains(collapse(text), collapse(want)) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "over its limit") {
		t.Errorf("summary speaks of descriptors over the limit, with 12 of 16:\n%s", text)
	}
}
