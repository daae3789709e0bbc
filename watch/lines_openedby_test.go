package watch

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/hostiletest"
)

// TestAlertOpenedBy: watch --trace's opener reaches the text line escaped
// and the JSON line as it is; without it both read as before.
func TestAlertOpenedBy(t *testing.T) {
	a := Alert{Time: time.Unix(0, 0).UTC(), Rule: RuleCloseWait, Firing: true, ProcKey: ProcKey{PID: 42}, Name: "leaky",
		State: inspect.CloseWait, Count: 3, FDs: 10, FDLimit: 1024, Threshold: 2,
		OpenedBy: "main.send\x1b[2J (/src/main.go:12)"}
	if m := a.Message(); !strings.Contains(m, `, opened by main.send\x1b[2J (/src/main.go:12); `) {
		t.Errorf("message: %q", m)
	}
	st := &Status{Seq: 1, Time: a.Time, Alerts: []Alert{a}, States: map[inspect.TCPState]int{}}
	var text, js bytes.Buffer
	if err := TextLines(&text, st); err != nil {
		t.Fatal(err)
	}
	hostiletest.AssertPrintable(t, text.Bytes(), 2)
	if err := JSONLines(&js, st); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(js.String()), "\n")
	var al AlertLine
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &al); err != nil || al.OpenedBy != a.OpenedBy {
		t.Errorf("JSON opened_by %q (%v), want %q", al.OpenedBy, err, a.OpenedBy)
	}
	a.OpenedBy = ""
	if m := a.Message(); strings.Contains(m, "opened by") {
		t.Errorf("message without an opener: %q", m)
	}
}
