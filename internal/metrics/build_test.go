package metrics

import (
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestBuildInfoGauge(t *testing.T) {
	g, err := BuildInfoGauge("v1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(g); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || len(mfs[0].Metric) != 1 {
		t.Fatalf("gathered %v", mfs)
	}
	labels := map[string]string{}
	for _, l := range mfs[0].Metric[0].Label {
		labels[l.GetName()] = l.GetValue()
	}
	if labels["version"] != "v1.2.3" || labels["goversion"] != runtime.Version() || labels["revision"] == "" {
		t.Errorf("labels %v", labels)
	}
	if n := testutil.ToFloat64(g); n != 1 {
		t.Errorf("sockleak_build_info = %v, want 1", n)
	}
	if !strings.HasPrefix(mfs[0].GetHelp(), "Always 1") {
		t.Errorf("help %q", mfs[0].GetHelp())
	}
	if _, err := BuildInfoGauge("v1\xff"); err == nil {
		t.Error("a version that is not UTF-8: no error")
	}
}
