package metrics

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// BuildInfo is sockleak's build, as exporters export theirs
// (prometheus_build_info, node_exporter_build_info): always 1, the build
// in the labels.
var BuildInfo = Family{"sockleak_build_info",
	"Always 1: the version, VCS revision and Go version sockleak was built from.",
	[]string{"version", "revision", "goversion"}}

// BuildInfoGauge returns sockleak_build_info for version (what sockleak
// version prints; "" takes the module's version from the build info), the
// revision the build recorded ("unknown" when none) and the Go version.
// Values are not checked by Must: one the registry refuses is an error.
func BuildInfoGauge(version string) (prometheus.Collector, error) {
	revision, goversion := "unknown", runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		if version == "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				revision = s.Value
			}
		}
	}
	if version == "" {
		version = "unknown"
	}
	g := BuildInfo.GaugeVec()
	m, err := g.GetMetricWithLabelValues(version, revision, goversion)
	if err != nil {
		return nil, err
	}
	m.Set(1)
	return g, nil
}
