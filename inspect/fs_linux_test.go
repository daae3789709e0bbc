package inspect

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// copyTree copies testdata/TREE/proc, symlinks included, into a temporary
// directory that the test may change, and returns the copy's root.
func copyTree(t *testing.T, tree string) string {
	t.Helper()
	src := filepath.Join("..", "testdata", filepath.FromSlash(tree), "proc")
	dst := filepath.Join(t.TempDir(), "proc")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		default:
			in, err := os.Open(path)
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := os.Create(to)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, in); err != nil {
				out.Close()
				return err
			}
			return out.Close()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// linkTree returns a proc root in t.TempDir() whose entries are links to
// those of testdata/TREE/proc, but for the ones left out: a tree without
// them, at the cost of a link per entry rather than a copy of every file.
func linkTree(t *testing.T, tree string, leaveOut ...string) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("..", "testdata", filepath.FromSlash(tree), "proc"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "proc")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if slices.Contains(leaveOut, e.Name()) {
			continue
		}
		if err := os.Symlink(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func writeFixtureFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestNewFS(t *testing.T) {
	fsys, err := NewFS("../testdata/healthy/proc/")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fsys.Root(), filepath.Join("..", "testdata", "healthy", "proc"); got != want {
		t.Errorf("Root() = %q, want %q", got, want)
	}

	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := NewFS(missing); err == nil || !strings.Contains(err.Error(), `could not read proc root "`+missing+`"`) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("NewFS(missing) error = %v, want could not read proc root, ErrNotExist", err)
	}
	file := filepath.Join("..", "testdata", "healthy", "proc", "sys", "kernel", "hostname")
	if _, err := NewFS(file); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Errorf("NewFS(file) error = %v, want is not a directory", err)
	}
}
