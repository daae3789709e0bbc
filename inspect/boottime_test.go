package inspect

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseBootTime(t *testing.T) {
	for _, tt := range []struct {
		name    string
		in      string
		want    uint64
		wantErr string
	}{
		{"the kernel's shape", "cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 12 0 1\nctxt 99\nbtime 1764669600\nprocesses 7\n", 1764669600, ""},
		{"no btime", "cpu  1 2 3\nctxt 99\n", 0, `line 2: no "btime" line`},
		{"not a number", "btime soon\n", 0, "line 1: want the boot time"},
		{"zero", "btime 0\n", 0, "line 1: want the boot time"},
		{"past any date", "btime 18446744073709551615\n", 0, "line 1: want the boot time"},
		{"a line past the bound", "intr " + strings.Repeat("1 ", maxStatLine/2+1) + "\nbtime 5\n", 0, "line 1: bufio.Scanner: token too long"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseBootTime(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseBootTime = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

// TestReadBootTime: the live host's boot time is in the past, and a
// process started now (this one) started after it; a proc root without
// stat has none, and a malformed one is an error naming the file.
func TestReadBootTime(t *testing.T) {
	fsys, err := NewFS(DefaultRoot)
	if err != nil {
		t.Fatal(err)
	}
	bt, err := fsys.readBootTime()
	if err != nil || bt == 0 || time.Unix(int64(bt), 0).After(time.Now()) {
		t.Fatalf("live boot time %d, %v", bt, err)
	}
	st, err := fsys.readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	started := System{BootTime: bt}.ProcessStart(st.StartTime)
	// This test process started within the last minutes, give or take a
	// tick and the boot time's second.
	if age := time.Since(started); age < -2*time.Second || age > 30*time.Minute {
		t.Errorf("this process started %v (%v ago)", started, age)
	}
	if !(System{}).ProcessStart(st.StartTime).IsZero() {
		t.Error("a start time without a boot time is not the zero time")
	}

	dir := t.TempDir()
	fixture, err := NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	if bt, err := fixture.readBootTime(); bt != 0 || err != nil {
		t.Errorf("no stat file: %d, %v; want 0, nil", bt, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stat"), []byte("cpu 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var pe *ParseError
	if _, err := fixture.readBootTime(); !errors.As(err, &pe) || pe.Path != filepath.Join(dir, "stat") {
		t.Errorf("malformed stat: %v, want a ParseError naming the file", err)
	}
}

// FuzzParseBootTime: whatever stat holds, the parser returns a boot time
// from a btime line, or a ParseError, and never panics.
func FuzzParseBootTime(f *testing.F) {
	f.Add("cpu  1 2 3\nbtime 1764669600\n") // the kernel's shape
	f.Add("btime\n")                        // no value
	f.Add("btime -5\n")                     // negative
	f.Add("btime 1 2\n")                    // two values
	f.Add("")                               // empty
	f.Add("btime 1764669600\r\n")           // CRLF
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseBootTime(strings.NewReader(in))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 0 {
				t.Errorf("parseBootTime(%q): error %v is not a ParseError", in, err)
			}
			return
		}
		if got == 0 || got > 1<<40 || !strings.Contains(in, "btime ") {
			t.Errorf("parseBootTime(%q) = %d", in, got)
		}
	})
}
