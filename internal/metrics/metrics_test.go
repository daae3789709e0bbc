package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

var all = []Family{Sockets, ProcessSockets, ProcessOpenFDs, ProcessFDLimit, ProcessesInspected, ProcessesUninspectable,
	ScanTimestamp, KernelTCPSockets, CheckViolations, CheckWarningThreshold, CheckCriticalThreshold, CheckStatus, ListenQueue, ListenBacklog,
	CloseWaitOldest, ProcessSecondsToFDLimit, SampleDuration, SampleErrors, WatchAlertsFiring}

// TestFamilies registers every family on a pedantic registry: valid and
// distinct names and labels, a help text each.
func TestFamilies(t *testing.T) {
	if len(all) == 0 {
		t.Fatal("no families")
	}
	reg := prometheus.NewPedanticRegistry()
	for _, f := range all {
		if !strings.HasPrefix(f.Name, "sockleak_") || !strings.HasSuffix(f.Help, ".") {
			t.Errorf("%s: want a sockleak_ name and a help sentence, got %q", f.Name, f.Help)
		}
		var c prometheus.Collector = f.GaugeVec()
		if len(f.Labels) == 0 {
			c = f.Gauge()
		}
		if err := reg.Register(c); err != nil {
			t.Errorf("%s: %v", f.Name, err)
		}
	}
}
