#!/usr/bin/env bash
# Builds sockleak's release: a static binary for each platform, stamped
# with the version, the commit and the commit's time, in a tarball with
# the licence, the README and the man pages, and their SHA-256 sums.
#
#   scripts/release.sh v1.2.3            # into dist/
#   DIST=/tmp/out PLATFORMS="linux/amd64" scripts/release.sh v1.2.3
#
# The build is reproducible: -trimpath drops the build machine's paths,
# the date is the commit's (not now), and the tarballs' entries have the
# commit's time and no owner. A work tree with uncommitted changes is
# refused (ALLOW_DIRTY=1 builds it anyway, its commit marked -dirty).
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:?usage: scripts/release.sh VERSION (e.g. v1.2.3)}
case $version in
v[0-9]*) ;;
*)
	echo "release.sh: version $version: want vMAJOR.MINOR.PATCH, as Go modules tag them" >&2
	exit 2
	;;
esac
dist=${DIST:-dist}
platforms=${PLATFORMS:-linux/amd64 linux/arm64}

commit=$(git rev-parse HEAD)
if [ -n "$(git status --porcelain)" ]; then
	if [ "${ALLOW_DIRTY:-}" != 1 ]; then
		echo "release.sh: the work tree has uncommitted changes; commit them (or ALLOW_DIRTY=1)" >&2
		exit 1
	fi
	commit=$commit-dirty
fi
# The commit's time, RFC 3339 in UTC, as sockleak prints times.
date=$(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd)
epoch=$(git log -1 --format=%ct)

pkg=github.com/sockleak/sockleak/internal/buildinfo
ldflags="-s -w -X $pkg.version=$version -X $pkg.commit=$commit -X $pkg.date=$date"

mkdir -p "$dist"
for platform in $platforms; do
	goos=${platform%/*}
	goarch=${platform#*/}
	name=sockleak-$version-$goos-$goarch
	stage=$dist/$name
	rm -rf "$stage"
	mkdir -p "$stage/man"
	echo "building $name"
	CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath -buildvcs=false -ldflags "$ldflags" \
		-o "$stage/sockleak" ./cmd/sockleak
	cp LICENSE README.md "$stage/"
	cp docs/man/*.1 "$stage/man/"
	tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
		-C "$dist" -czf "$dist/$name.tar.gz" "$name"
	rm -rf "$stage"
done
(cd "$dist" && sha256sum sockleak-"$version"-*.tar.gz >"sockleak-$version-SHA256SUMS")
echo "release $version ($commit, $date) in $dist:"
ls -l "$dist"
