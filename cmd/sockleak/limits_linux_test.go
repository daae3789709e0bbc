package main

import (
	"errors"
	"strings"
	"testing"
)

// TestFDThresholdsWithoutLimits: where other processes' open-files limits
// cannot be read (macOS, Windows, FreeBSD: fdLimitsUnknown stands in for
// them here), an fd-usage threshold or alert asked for could never fail,
// so check and watch refuse it (exit 2) and say why; the defaults, and the
// thresholds turned off, still run.
func TestFDThresholdsWithoutLimits(t *testing.T) {
	saved := fdLimitsUnknown
	t.Cleanup(func() { fdLimitsUnknown = saved })
	const why = "sockleak cannot read other processes' open-files limits on plan9"
	fdLimitsUnknown = func() error { return errors.New(why) }
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"check", "--proc-root", healthyRoot, "--max-fd-usage", "70"}, 2},
		{[]string{"check", "--proc-root", healthyRoot, "-w", "fd-usage=60"}, 2},
		{[]string{"check", "--proc-root", healthyRoot, "-c", "close-wait=5,FDS=90"}, 2},
		{[]string{"check", "--proc-root", healthyRoot, "--crit", "fd=90"}, 2}, // the old name
		{[]string{"watch", "--proc-root", healthyRoot, "--count", "1", "-o", "json", "--max-fd-usage", "90"}, 2},
		{[]string{"watch", "--proc-root", healthyRoot, "--count", "1", "-o", "json", "--fd-usage", "90"}, 2}, // the old name
		{[]string{"watch", "--proc-root", healthyRoot, "--count", "1", "-o", "json", "--eta", "5m"}, 2},
		{[]string{"check", "--proc-root", healthyRoot}, 0},
		{[]string{"check", "--proc-root", healthyRoot, "--max-fd-usage", "-1", "-c", "close-wait=5"}, 0},
		{[]string{"watch", "--proc-root", healthyRoot, "--count", "1", "-o", "json", "--max-fd-usage", "-1", "--eta", "0"}, 0},
	} {
		code, _, stderr := runMain(tt.args...)
		if code != tt.code || (tt.code == 2) != strings.Contains(stderr, why) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d, the reason only with 2", strings.Join(tt.args, " "), code, stderr, tt.code)
		}
	}
}
