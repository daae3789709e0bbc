package report

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteTextfileSyncs: the new file is synced before it is renamed over
// the old one, and the directory after; a sync that fails leaves the old
// file whole and no temporary file behind.
func TestWriteTextfileSyncs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sockleak.prom")
	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	type synced struct {
		name    string
		dir     bool
		renamed bool // path held the new file when it was synced
	}
	var syncs []synced
	failing := errors.New("disk gone")
	var fail bool
	defer func(orig func(*os.File) error) { syncFile = orig }(syncFile)
	syncFile = func(f *os.File) error {
		fi, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		syncs = append(syncs, synced{f.Name(), fi.IsDir(), string(b) != "old\n"})
		if fail {
			return failing
		}
		return f.Sync()
	}
	r, l, vs := promFixture()
	if err := WriteTextfile(path, r, l, vs); err != nil {
		t.Fatal(err)
	}
	if len(syncs) != 2 || syncs[0].dir || syncs[0].renamed || filepath.Dir(syncs[0].name) != dir ||
		!syncs[1].dir || syncs[1].name != dir || !syncs[1].renamed {
		t.Errorf("syncs = %+v; want the temporary file beside the target before the rename, then the directory", syncs)
	}

	if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fail = true
	if err := WriteTextfile(path, r, l, vs); !errors.Is(err, failing) {
		t.Errorf("WriteTextfile with a failing sync = %v, want its error", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old\n" {
		t.Errorf("a failed sync replaced the file: %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}
