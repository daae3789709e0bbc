package inspect

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseStatStartTime(t *testing.T) {
	// A real line from a 6.x kernel, comm changed to hold spaces and
	// parentheses: field 22 is 1234567.
	const real = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 1106 0 0 0 3 1 0 0 20 0 1 0 1234567 5488640 330 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	for _, tt := range []struct {
		name    string
		in      string
		want    uint64
		wantErr string
	}{
		{"real line, odd comm", real, 1234567, ""},
		{"no paren", "77 sh S 12", 0, "no ')'"},
		{"truncated", "77 (sh) S 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0", 0, "no start time"},
		{"not a number", "77 (sh) S 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 x 1", 0, `bad start time "x"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatStartTime([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("= %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestStartTime(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "42"), 0o755); err != nil {
		t.Fatal(err)
	}
	line := "42 (sh) S 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 987 1 1\n"
	if err := os.WriteFile(filepath.Join(root, "42", "stat"), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	fsys, err := NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := fsys.StartTime(42); err != nil || got != 987 {
		t.Errorf("StartTime(42) = %d, %v; want 987", got, err)
	}
	if _, err := fsys.StartTime(43); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("StartTime(43) error = %v, want fs.ErrNotExist", err)
	}
	// The live /proc: our own start time is after boot and stable.
	live, err := NewFS(DefaultRoot)
	if err != nil {
		t.Skip(err)
	}
	a, errA := live.StartTime(os.Getpid())
	b, errB := live.StartTime(os.Getpid())
	if errA != nil || errB != nil || a == 0 || a != b {
		t.Errorf("own start time = %d, %d (%v, %v); want the same non-zero value twice", a, b, errA, errB)
	}
}
