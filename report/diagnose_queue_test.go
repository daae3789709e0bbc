package report

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/inspect"
)

// listener is a LISTEN socket of pid with waiting connections and a
// backlog (0: unknown).
func listener(local string, waiting, backlog uint64, pid int) inspect.Socket {
	l := sock(inspect.Listen, local, "0.0.0.0:0", 7, pid)
	l.RxQueue, l.TxQueue = waiting, backlog
	return l
}

// queued is n connections in state waiting in pid's accept queue on
// local, as inspect attributes them: inode 0, the listener's owners.
func queued(n int, state inspect.TCPState, local string, ageMs uint32, pid int) []inspect.Socket {
	out := many(n, state, fixed(local), ephemeral("127.0.0.1"))
	for i := range out {
		out[i].Queued, out[i].PIDs = true, []int{pid}
		if ageMs > 0 {
			out[i].AgeMs, out[i].HasAge = ageMs, true
		}
	}
	return out
}

func TestAcceptQueueFinding(t *testing.T) {
	server := func(state byte) []inspect.Process {
		p := proc(77, "redis-server", 30, 10032)
		p.State = state
		return []inspect.Process{p}
	}
	for _, tt := range []struct {
		name    string
		procs   []inspect.Process
		socks   [][]inspect.Socket
		want    []findingKey
		message []string // substrings of the accept_queue finding's message
	}{
		{"a queue well under its backlog: nothing", server('S'),
			[][]inspect.Socket{{listener("0.0.0.0:6379", 5, 511, 77)}, queued(5, inspect.Established, "127.0.0.1:6379", 0, 77)},
			[]findingKey{}, nil},
		{"at 90% of the backlog: a warning", server('S'),
			[][]inspect.Socket{{listener("0.0.0.0:6379", 116, 128, 77)}},
			[]findingKey{{Warning, KindAcceptQueue, 77, "", 116}},
			[]string{"pid 77 (redis-server) is not accepting connections on 0.0.0.0:6379: 116 connections wait in its accept queue (backlog 128)"}},
		{"past the backlog: critical, connections dropped", server('S'),
			[][]inspect.Socket{{listener("0.0.0.0:6379", 129, 128, 77)}},
			[]findingKey{{Critical, KindAcceptQueue, 77, "", 129}},
			[]string{"past its backlog of 128: new connections are dropped"}},
		{"CLOSE_WAIT in the queue: critical, and no close_wait finding", server('T'),
			[][]inspect.Socket{{listener("0.0.0.0:6379", 200, 511, 77)}, queued(200, inspect.CloseWait, "127.0.0.1:6379", 9000, 77)},
			[]findingKey{{Critical, KindAcceptQueue, 77, "", 200}},
			[]string{"200 connections wait in its accept queue (backlog 511); 200 of them in CLOSE_WAIT: their clients gave up waiting",
				"it is stopped: SIGSTOP or a debugger"}},
		{"young CLOSE_WAIT in the queue: nothing", server('S'),
			[][]inspect.Socket{{listener("0.0.0.0:6379", 2, 511, 77)}, queued(2, inspect.CloseWait, "127.0.0.1:6379", 20, 77)},
			[]findingKey{}, nil},
		{"unknown backlog (proc): CLOSE_WAIT still tells", server('S'),
			[][]inspect.Socket{{listener("[::]:6379", 3, 0, 77)}, queued(3, inspect.CloseWait, "127.0.0.1:6379", 0, 77)},
			[]findingKey{{Critical, KindAcceptQueue, 77, "", 3}},
			[]string{"on [::]:6379: 3 connections wait in its accept queue (backlog unknown)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(snapshot(tt.procs, tt.socks...), DefaultThresholds)
			if diff := cmp.Diff(tt.want, keys(r.Findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			for _, f := range r.Findings {
				for _, w := range tt.message {
					if !strings.Contains(f.Message, w) {
						t.Errorf("message %q lacks %q", f.Message, w)
					}
				}
				if strings.Contains(f.Hint, "error and timeout paths") || strings.Contains(f.Hint, "error path that") {
					t.Errorf("queued connections blamed on error paths: %q", f.Hint)
				}
			}
		})
	}
}

// TestAcceptQueueCounts: queued connections count for the listener's
// owner in its row, its groups, the JSON and the check, and an
// accept_queue finding fails the check.
func TestAcceptQueueCounts(t *testing.T) {
	snap := snapshot([]inspect.Process{proc(77, "redis-server", 30, 10032)},
		[]inspect.Socket{listener("0.0.0.0:6379", 12, 511, 77)},
		queued(10, inspect.CloseWait, "127.0.0.1:6379", 5000, 77), queued(2, inspect.Established, "127.0.0.1:6379", 0, 77))
	r := Analyze(snap, DefaultThresholds)
	p := r.Processes[0]
	if p.States[inspect.CloseWait] != 10 || p.Queued[inspect.CloseWait] != 10 || p.Queued[inspect.Established] != 2 || p.Sockets != 13 {
		t.Errorf("row states %v, queued %v, sockets %d", p.States, p.Queued, p.Sockets)
	}
	vs := Check(r, CheckThresholds{States: cwThreshold(0, 0), AcceptQueue: true})
	want := []violationKey{{Critical, MetricAcceptQueue, 77, "", 12, 0}, {Critical, "close_wait", 77, "127.0.0.1", 10, 0}}
	if diff := cmp.Diff(want, violationKeys(vs)); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
	if m := vs[0].Message(); !strings.HasPrefix(m, "pid 77 (redis-server) is not accepting connections on 0.0.0.0:6379") {
		t.Errorf("accept_queue violation message %q", m)
	}
	if s := vs[0].Summary(); s != "pid 77 (redis-server) not accepting on 0.0.0.0:6379: 12 waiting in its accept queue" {
		t.Errorf("summary %q", s)
	}
	if vs := Check(r, CheckThresholds{States: cwThreshold(100, 100)}); len(vs) != 0 {
		t.Errorf("accept queue not checked, yet violations %+v", vs)
	}
	raw, err := json.Marshal(NewDocument(r))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"queued":true`, `"queued":{"CLOSE_WAIT":10,"ESTABLISHED":2}`, `"local":"0.0.0.0:6379"`, `"kind":"accept_queue"`} {
		if !strings.Contains(string(raw), w) {
			t.Errorf("JSON lacks %s", w)
		}
	}
	var b strings.Builder
	if err := Table(&b, r, TableOptions{Sockets: true}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"QUEUED", "CLOSE_WAIT (queued)"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("table lacks %q:\n%s", w, b.String())
		}
	}
}
