package inspect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// limitsText prints a PID/limits file as proc_pid_limits does, with the
// given "Max open files" soft and hard columns.
func limitsText(soft, hard string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units")
	row := func(name, soft, hard, unit string) {
		fmt.Fprintf(&b, "%-25s %-20s %-20s ", name, soft, hard)
		if unit != "" {
			fmt.Fprintf(&b, "%-10s", unit)
		}
		b.WriteString("\n")
	}
	row("Max cpu time", "unlimited", "unlimited", "seconds")
	row("Max file size", "unlimited", "unlimited", "bytes")
	row("Max data size", "unlimited", "unlimited", "bytes")
	row("Max stack size", "8388608", "unlimited", "bytes")
	row("Max core file size", "0", "unlimited", "bytes")
	row("Max resident set", "unlimited", "unlimited", "bytes")
	row("Max processes", "63446", "63446", "processes")
	row("Max open files", soft, hard, "files")
	row("Max locked memory", "8388608", "8388608", "bytes")
	row("Max address space", "unlimited", "unlimited", "bytes")
	row("Max file locks", "unlimited", "unlimited", "locks")
	row("Max pending signals", "63446", "63446", "signals")
	row("Max msgqueue size", "819200", "819200", "bytes")
	row("Max nice priority", "0", "0", "")
	row("Max realtime priority", "0", "0", "")
	row("Max realtime timeout", "unlimited", "unlimited", "us")
	return b.String()
}

func TestParseLimits(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    ProcLimits
		wantErr string
	}{
		{name: "numbers", in: limitsText("1024", "524288"), want: ProcLimits{1024, 524288}},
		{name: "the incident's limit", in: limitsText("2048", "4096"), want: ProcLimits{2048, 4096}},
		{name: "unlimited", in: limitsText("unlimited", "unlimited"), want: ProcLimits{Unlimited, Unlimited}},
		{name: "soft set, hard unlimited", in: limitsText("1024", "unlimited"), want: ProcLimits{1024, Unlimited}},
		{name: "zero", in: limitsText("0", "0"), want: ProcLimits{0, 0}},
		{name: "largest finite", in: limitsText("9223372036854775807", "9223372036854775807"), want: ProcLimits{1<<63 - 1, 1<<63 - 1}},
		{
			name: "only the header and the row",
			in:   "Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 4096                 files     \n",
			want: ProcLimits{1024, 4096},
		},
		{
			name: "no trailing newline",
			in:   "Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 4096                 files",
			want: ProcLimits{1024, 4096},
		},
		{name: "empty", in: "", wantErr: `no "Max open files" row`},
		{name: "missing header", in: strings.SplitN(limitsText("1024", "4096"), "\n", 2)[1], wantErr: `line 1: missing header line (want "Limit ...")`},
		{
			name:    "missing row",
			in:      strings.Replace(limitsText("1024", "4096"), fmt.Sprintf("%-25s %-20s %-20s %-10s\n", "Max open files", "1024", "4096", "files"), "", 1),
			wantErr: `line 16: no "Max open files" row`,
		},
		{name: "garbage soft", in: limitsText("lots", "4096"), wantErr: `line 9: soft limit: strconv.ParseUint: parsing "lots": invalid syntax`},
		{name: "garbage hard", in: limitsText("1024", "4k"), wantErr: `line 9: hard limit:`},
		{name: "too large", in: limitsText("9223372036854775808", "unlimited"), wantErr: "line 9: soft limit:"},
		{name: "negative", in: limitsText("-2", "4096"), wantErr: `line 9: soft limit: strconv.ParseUint: parsing "-2": invalid syntax`},
		{name: "minus one is not unlimited", in: limitsText("1024", "-1"), wantErr: `line 9: hard limit: strconv.ParseUint: parsing "-1": invalid syntax`},
		{name: "plus sign", in: limitsText("+1024", "4096"), wantErr: `line 9: soft limit: strconv.ParseUint: parsing "+1024": invalid syntax`},
		{
			name:    "hard column missing",
			in:      "Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024\n",
			wantErr: "line 2: hard limit: missing",
		},
		{
			// The name column is fixed-width: a row that is not aligned is
			// not the row.
			name:    "misaligned row",
			in:      "Limit                     Soft Limit           Hard Limit           Units     \nMax open files 1024 4096 files\n",
			wantErr: `no "Max open files" row`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLimits(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseLimits() = %+v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseLimits() = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestParseLimitsNoRowIsErrNoOpenFiles(t *testing.T) {
	_, err := ParseLimits(strings.NewReader("Limit                     Soft Limit           Hard Limit           Units     \n"))
	if !errors.Is(err, errNoOpenFiles) {
		t.Errorf("ParseLimits() error = %v, want errNoOpenFiles", err)
	}
}

// TestReadLimits reads the fixture files: errors name the file and line.
func TestReadLimits(t *testing.T) {
	broken := filepath.Join("..", "testdata", "broken", "limits")
	tests := []struct {
		name    string
		path    string
		want    ProcLimits
		wantErr string // after "PATH:"
	}{
		{name: "openser", path: filepath.Join("..", "testdata", "incident", "client", "proc", "4242", "limits"), want: ProcLimits{2048, 4096}},
		{name: "systemd", path: filepath.Join("..", "testdata", "incident", "client", "proc", "1", "limits"), want: ProcLimits{1073741816, 1073741816}},
		{name: "no header", path: filepath.Join(broken, "no_header"), wantErr: "1: missing header line"},
		{name: "garbage", path: filepath.Join(broken, "garbage"), wantErr: `9: soft limit: strconv.ParseUint: parsing "lots": invalid syntax`},
		{name: "no open files row", path: filepath.Join(broken, "no_open_files"), wantErr: `16: no "Max open files" row`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readLimits(tt.path)
			if tt.wantErr != "" {
				want := tt.path + ":" + tt.wantErr
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("readLimits() = %+v, %v; want error containing %q", got, err, want)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("readLimits() = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	if _, err := readLimits(filepath.Join(t.TempDir(), "limits")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("readLimits(missing) error = %v, want ErrNotExist", err)
	}
}

func FuzzParseLimits(f *testing.F) {
	// Systemd's default.
	f.Add(limitsText("1024", "524288"))
	// Unlimited.
	f.Add(limitsText("unlimited", "unlimited"))
	// The incident.
	f.Add(limitsText("2048", "4096"))
	// Garbage soft limit.
	f.Add(limitsText("lots", "4096"))
	// Negative: the kernel prints %lu, so a sign is never its output.
	f.Add(limitsText("-2", "4096"))
	// -1 is Unlimited's value, but the kernel prints "unlimited".
	f.Add(limitsText("-1", "4096"))
	// Explicit sign.
	f.Add(limitsText("+5", "4096"))
	// Over int64.
	f.Add(limitsText("99999999999999999999", "1"))
	// Hard column missing.
	f.Add("Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024\n")
	// CRLF.
	f.Add("Limit                     Soft Limit           Hard Limit           Units     \r\nMax open files            1024                 4096                 files     \r\n")
	// Tabs in place of padding.
	f.Add("Limit\nMax open files\tx\ty\n")
	// Empty.
	f.Add("")
	// Header only.
	f.Add("Limit ")
	for _, name := range []string{"incident/client/proc/4242/limits", "broken/limits/garbage", "broken/limits/no_open_files"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", filepath.FromSlash(name)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, in string) {
		l, err := ParseLimits(strings.NewReader(in))
		if err != nil {
			if l != (ProcLimits{}) {
				t.Errorf("ParseLimits() = %+v with error %v, want zero", l, err)
			}
			return
		}
		if l.OpenFilesSoft < Unlimited || l.OpenFilesHard < Unlimited {
			t.Errorf("ParseLimits() = %+v; limits must be >= -1 (Unlimited)", l)
		}
	})
}
