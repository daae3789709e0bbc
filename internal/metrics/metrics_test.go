package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

var all = []Family{Sockets, WorkloadSockets, WorkloadProcesses, WorkloadOpenFDs, WorkloadFDUsage, WorkloadCloseWaitOldest,
	WorkloadListenQueue, WorkloadListenBacklog, WorkloadsRolledUp, WorkloadSecondsToFDLimit, WatchWorkloads,
	ProcessesInspected, ProcessesUninspectable, ScanTimestamp, MetricErrors, KernelTCPSockets, CheckViolations,
	CheckWarningThreshold, CheckCriticalThreshold, CheckStatus, SampleDuration, SampleErrors, WatchAlertsFiring}

// TestByPID: series per process add pid and process after the workload
// labels, and leave the family's own labels last; a family without
// workload labels is unchanged.
func TestByPID(t *testing.T) {
	got := strings.Join(WorkloadSockets.ByPID().Labels, ",")
	if want := "kind,workload,unit,namespace,pod,container,pid,process,state"; got != want {
		t.Errorf("WorkloadSockets.ByPID().Labels = %s, want %s", got, want)
	}
	if strings.Join(WorkloadSockets.Labels, ",") != "kind,workload,unit,namespace,pod,container,state" {
		t.Errorf("ByPID changed the family it was called on: %v", WorkloadSockets.Labels)
	}
	if got := CheckViolations.ByPID().Labels; strings.Join(got, ",") != "metric,severity" {
		t.Errorf("CheckViolations.ByPID().Labels = %v", got)
	}
}

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
