// Package buildinfo says which build of sockleak is running: its version,
// the VCS revision and commit time it was built from, and the Go version.
// They come from the build information the Go toolchain records
// (runtime/debug: the module's version for go install, vcs.revision,
// vcs.time and vcs.modified for a build in a git checkout), and a release
// build stamps them with -ldflags -X (scripts/release.sh, the Dockerfile),
// which wins: a build from a tarball or a Docker context without .git has
// no VCS information of its own.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Set at build time, each optional:
//
//	go build -ldflags "-X github.com/sockleak/sockleak/internal/buildinfo.version=v1.2.3
//	  -X github.com/sockleak/sockleak/internal/buildinfo.commit=$(git rev-parse HEAD)
//	  -X github.com/sockleak/sockleak/internal/buildinfo.date=2026-12-02T10:00:00Z"
var version, commit, date string

// Info is one build of sockleak.
type Info struct {
	Version   string // v1.2.3, the module version go install recorded, or "dev"
	Revision  string // the VCS commit; "" when unknown
	Time      string // the commit's time, RFC 3339; "" when unknown
	Modified  bool   // built from a work tree with uncommitted changes
	GoVersion string // the Go toolchain that built it
}

// Read returns this build's Info.
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuild(bi, version, commit, date)
}

// fromBuild is Read on given build information (nil when the binary has
// none) and -X values ("" when not stamped).
func fromBuild(bi *debug.BuildInfo, version, commit, date string) Info {
	info := Info{GoVersion: runtime.Version()}
	if bi != nil {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			info.Version = v
		}
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.time":
				info.Time = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	for _, o := range []struct {
		dst *string
		v   string
	}{{&info.Version, version}, {&info.Revision, commit}, {&info.Time, date}} {
		if o.v != "" {
			*o.dst = o.v
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	return info
}

// String is what sockleak --version prints: "sockleak v1.2.3 (commit
// 0123456789ab, 2026-12-02T10:00:00Z, go1.26.8)", the commit marked
// "modified" when the work tree was, and what is unknown left out.
func (i Info) String() string {
	var parts []string
	if i.Revision != "" {
		c := "commit " + i.Revision
		if i.Modified {
			c += ", modified"
		}
		parts = append(parts, c)
	}
	if i.Time != "" {
		parts = append(parts, i.Time)
	}
	parts = append(parts, i.GoVersion)
	return fmt.Sprintf("sockleak %s (%s)", i.Version, strings.Join(parts, ", "))
}
