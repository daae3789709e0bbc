package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sockleak/sockleak/internal/buildinfo"
)

// BuildInfo is sockleak's build, as exporters export theirs
// (prometheus_build_info, node_exporter_build_info): always 1, the build
// in the labels.
var BuildInfo = Family{"sockleak_build_info",
	"Always 1: the version, VCS revision and Go version sockleak was built from.",
	[]string{"version", "revision", "goversion"}}

// BuildInfoGauge returns sockleak_build_info for version ("" takes
// buildinfo's, what sockleak --version prints), the revision the build
// recorded or was stamped with ("unknown" when none) and the Go version.
// check's -o prometheus and --textfile and watch's /metrics export it.
// Values are not checked by Must: one the registry refuses is an error.
func BuildInfoGauge(version string) (prometheus.Collector, error) {
	bi := buildinfo.Read()
	revision, goversion := bi.Revision, bi.GoVersion
	if version == "" {
		version = bi.Version
	}
	if revision == "" {
		revision = "unknown"
	}
	g := BuildInfo.GaugeVec()
	m, err := g.GetMetricWithLabelValues(version, revision, goversion)
	if err != nil {
		return nil, err
	}
	m.Set(1)
	return g, nil
}
