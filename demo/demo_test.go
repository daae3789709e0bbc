//go:build linux

package demo

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/livetest"
	"github.com/sockleak/sockleak/report"
)

func TestRunSmall(t *testing.T) {
	livetest.Skip(t)
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, Options{
		Transactions: 24, FDLimit: 16, Timeout: 30 * time.Millisecond, Delay: 100 * time.Millisecond,
		Command: testChild, Out: &out,
	})
	t.Logf("demo output:\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	l, r := res.Leaky, res.Reference
	if l.States[inspect.CloseWait] == 0 || !l.EMFILE || l.Done >= 24 || l.FDLimit != 16 {
		t.Errorf("leaky run = %+v, want CLOSE_WAIT sockets and EMFILE before 24 transactions at limit 16", l)
	}
	// Each leaked CLOSE_WAIT here is a FIN_WAIT2 there: the peer's end.
	if l.PeerFinWait2 != l.States[inspect.CloseWait] {
		t.Errorf("leaky run: %d FIN_WAIT2 at the peer, %d CLOSE_WAIT at the client; want one for one",
			l.PeerFinWait2, l.States[inspect.CloseWait])
	}
	if !slices.ContainsFunc(l.Findings, func(f report.Finding) bool { return f.Kind == report.KindCloseWait && f.PID == l.PID }) {
		t.Errorf("leaky run findings = %+v, want a close_wait finding", l.Findings)
	}
	if r.Sockets != 0 || len(r.States) != 0 || r.Done != 24 || r.Stopped != "" || len(r.Findings) != 0 {
		t.Errorf("reference run = %+v, want all 24 transactions done and no socket left", r)
	}
	// The table, as printed: leaky > 0, reference = 0.
	var row []string
	for _, line := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "CLOSE_WAIT" {
			row = f
		}
	}
	if row == nil || row[1] == "0" || row[2] != "0" {
		t.Errorf("CLOSE_WAIT row = %q, want leaky > 0 and reference 0", row)
	}
	// Nothing left running.
	for _, pid := range []int{l.PID, r.PID} {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("client pid %d still exists after the demo (kill 0: %v)", pid, err)
		}
	}
}
