package buildinfo

import (
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFromBuild(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "7ee12c4aaaabbbbccccddddeeeeffff000011112"},
		{Key: "vcs.time", Value: "2026-12-02T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	installed := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.4.0"}}
	tests := []struct {
		name                  string
		bi                    *debug.BuildInfo
		version, commit, date string
		want                  Info
		wantString            string
	}{
		{"git checkout", vcs, "", "", "",
			Info{"dev", "7ee12c4aaaabbbbccccddddeeeeffff000011112", "2026-12-02T10:00:00Z", true, "go1.26.1"},
			"sockleak dev (commit 7ee12c4aaaabbbbccccddddeeeeffff000011112, modified, 2026-12-02T10:00:00Z, go1.26.1)"},
		{"go install", installed, "", "", "",
			Info{Version: "v1.4.0", GoVersion: "go1.26.0"}, "sockleak v1.4.0 (go1.26.0)"},
		{"release stamps win", vcs, "v2.0.0", "abc", "2027-01-01T00:00:00Z",
			Info{"v2.0.0", "abc", "2027-01-01T00:00:00Z", true, "go1.26.1"},
			"sockleak v2.0.0 (commit abc, modified, 2027-01-01T00:00:00Z, go1.26.1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fromBuild(tt.bi, tt.version, tt.commit, tt.date)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if s := got.String(); s != tt.wantString {
				t.Errorf("String() = %q, want %q", s, tt.wantString)
			}
		})
	}
	if got := fromBuild(nil, "", "", ""); got.Version != "dev" || got.GoVersion == "" {
		t.Errorf("no build info: %+v", got)
	}
}
