package report

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/inspect"
)

// TestHungServer judges the hung tree (testdata/README.md): a stopped
// redis-server whose accept queue holds its clients' connections, some
// in CLOSE_WAIT. Selected by --pid or by --name, it fails sockleak check's
// defaults for its queue first, its CLOSE_WAIT after; the finding says it
// is stopped and puts nothing down to error paths.
func TestHungServer(t *testing.T) {
	fsys, err := inspect.NewFS(filepath.Join("..", "testdata", "hung", "proc"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := CheckSettings{MaxCloseWait: 0, MaxFinWait2: -1, MaxFDUsage: 80}.Thresholds()
	if err != nil {
		t.Fatal(err)
	}
	for _, opts := range []inspect.Options{{PIDs: []int{2100}}, {Name: "redis-server"}} {
		snap, err := inspect.Scan(context.Background(), fsys, opts)
		if err != nil {
			t.Fatal(err)
		}
		r := Analyze(snap, DefaultThresholds)
		want := []violationKey{
			{Critical, MetricAcceptQueue, 2100, "", 55, 0},
			{Warning, "close_wait", 2100, "127.0.0.1", 63, 0}, // 63: over the default warning 0, not its critical 100,
		}
		if diff := cmp.Diff(want, violationKeys(Check(r, l))); diff != "" {
			t.Errorf("%+v: violations (-want +got):\n%s", opts, diff)
		}
		f := findingOf(t, r, KindAcceptQueue)
		for _, w := range []string{"on 0.0.0.0:6379", "55 connections wait in its accept queue", "43 of them in CLOSE_WAIT", "it is stopped"} {
			if !strings.Contains(f.Message, w) {
				t.Errorf("accept_queue message %q lacks %q", f.Message, w)
			}
		}
		if cw := findingOf(t, r, KindCloseWait); cw.Count != 20 || strings.Contains(cw.Hint, "error path that") {
			t.Errorf("close_wait finding %+v: want the 20 accepted, not put down to error paths", cw)
		}
	}
}
