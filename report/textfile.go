package report

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// syncFile flushes f to its disk: (*os.File).Sync, unless a test fails it.
var syncFile = (*os.File).Sync

// writeTextfile writes g's metrics to path atomically, as the client
// library's WriteToTextfile does (a temporary file beside it, renamed over
// it; mode 0644), and durably, which that does not do: the temporary file
// is synced before the rename, so that a crash after the rename cannot
// leave an empty or partial file under the name, and the directory after
// it, so that the rename itself survives one.
func writeTextfile(path string, g prometheus.Gatherer) error {
	mfs, err := g.Gather()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // gone by then once renamed
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(tmp, mf); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := syncFile(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir syncs the directory dir, where a rename happened. A file system
// that cannot sync a directory (EINVAL) has nothing more to flush.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := syncFile(d); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}
