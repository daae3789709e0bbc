package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/inspect"
)

// JSON streams the sockets; the bytes must be those of encoding the whole
// Document at once.
func TestJSONStreamsTheDocument(t *testing.T) {
	idle := sock(inspect.Established, "10.0.0.5:80", "10.0.0.3:51000", 31, 900)
	idle.IdleMs, idle.HasIdle = 1500, true
	for _, snap := range []*inspect.Snapshot{
		snapshot([]inspect.Process{proc(900, `nginx "<&>"`, 20, 1024)},
			[]inspect.Socket{sock(inspect.Listen, "0.0.0.0:80", "0.0.0.0:0", 30, 900), idle},
			many(3, inspect.TimeWait, fixed("10.0.0.5:80"), ephemeral("10.0.0.9"))),
		snapshot(nil), // no sockets: "sockets": []
	} {
		r := Analyze(snap, DefaultThresholds)
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(NewDocument(r)); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := JSON(&got, r); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.String(), got.String()); diff != "" {
			t.Errorf("streamed JSON differs (-want +got):\n%s", diff)
		}
		var d Document
		if err := json.Unmarshal(got.Bytes(), &d); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		if len(d.Sockets) != len(snap.Sockets) {
			t.Errorf("%d sockets in the document, want %d", len(d.Sockets), len(snap.Sockets))
		}
	}
}
