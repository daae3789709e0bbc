package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sockleak/sockleak/bench/internal/truth"
)

// checkTruth is a landscape of one worker, pid 100, listening on
// 127.0.0.1:7000: one ESTABLISHED pair, a LISTEN socket and two TIME_WAIT
// sockets, owned by no process.
var checkTruth = truth.Truth{
	States:      map[string]int{"ESTABLISHED": 2, "LISTEN": 1, "TIME_WAIT": 2},
	TimeWait:    truth.TimeWait{Created: 2, AtReady: 2, ExpiresAfterS: 60},
	Static:      []string{"ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT2", "LISTEN"},
	ListenAddr:  "127.0.0.1",
	ListenPorts: []int{7000},
	Pids:        []truth.Pid{{Pid: 100, States: map[string]int{"ESTABLISHED": 2, "LISTEN": 1}}},
}

// checkDoc is sockleak's view of checkTruth, plus a socket that is not
// loadgen's.
const checkDoc = `{"schema_version": 1,
 "sockets": [
  {"state": "LISTEN", "local": "127.0.0.1:7000", "remote": "0.0.0.0:0", "pids": [100]},
  {"state": "ESTABLISHED", "local": "127.0.0.1:7000", "remote": "127.2.0.1:40000", "pids": [100]},
  {"state": "ESTABLISHED", "local": "127.2.0.1:40000", "remote": "127.0.0.1:7000", "pids": [100]},
  {"state": "TIME_WAIT", "local": "127.2.0.1:40001", "remote": "127.0.0.1:7000", "pids": []},
  {"state": "TIME_WAIT", "local": "127.2.0.1:40002", "remote": "127.0.0.1:7000", "pids": []},
  {"state": "CLOSE_WAIT", "local": "10.0.0.1:5000", "remote": "10.0.0.2:80", "pids": [200]}
 ],
 "processes": [{"pid": 100, "states": {"ESTABLISHED": 2, "LISTEN": 1}}]}`

var checkTests = []struct {
	name   string
	edit   func(*inspectDoc)
	wantOK bool
	want   []string // substrings of the output
}{
	{"agrees", func(*inspectDoc) {}, true,
		[]string{"ESTABLISHED         2        2  ok", "per pid: all 1 workers match"}},
	{"schema", func(d *inspectDoc) { d.SchemaVersion = 2 }, false,
		[]string{"mismatch: schema_version 2, want 1"}},
	{"state count", func(d *inspectDoc) { d.Sockets = d.Sockets[:2] }, false,
		[]string{"ESTABLISHED         2        1  MISMATCH", "pid 100 ESTABLISHED: truth 2, sockleak sockets 1"}},
	{"other owner", func(d *inspectDoc) { d.Sockets[0].Pids = []int{300} }, false,
		[]string{"pid 300 is not a loadgen worker but holds loadgen sockets"}},
	{"a TIME_WAIT expired", func(d *inspectDoc) { d.Sockets = append(d.Sockets[:3], d.Sockets[4:]...) }, true,
		[]string{"TIME_WAIT           2        1  ok (at most 2; 2 at ready; they expire after 60 s)"}},
	{"more TIME_WAIT than created", func(d *inspectDoc) { d.Sockets = append(d.Sockets, d.Sockets[3]) }, false,
		[]string{"TIME_WAIT           2        3  more than created"}},
	{"processes", func(d *inspectDoc) { d.Processes[0].States = map[string]int{"LISTEN": 1} }, false,
		[]string{"pid 100 ESTABLISHED: truth 2, sockleak processes[].states 0"}},
}

func TestCheck(t *testing.T) {
	for _, tt := range checkTests {
		t.Run(tt.name, func(t *testing.T) {
			var doc inspectDoc
			if err := json.Unmarshal([]byte(checkDoc), &doc); err != nil {
				t.Fatal(err)
			}
			tt.edit(&doc)
			var out strings.Builder
			tr := checkTruth
			if ok := check(&out, &tr, &doc); ok != tt.wantOK {
				t.Errorf("check = %v, want %v; output:\n%s", ok, tt.wantOK, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
