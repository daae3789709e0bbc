package symbolize

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMaps(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Mapping
		wantErr string
	}{
		{
			name: "pie, libc, anonymous, vdso, spaces and deleted",
			in: "5581a0a00000-5581a0a01000 r--p 00000000 fd:01 1837 /usr/bin/leaky\n" +
				"5581a0a01000-5581a0a02000 r-xp 00001000 fd:01 1837 /usr/bin/leaky\n" +
				"7f10c0000000-7f10c0021000 rw-p 00000000 00:00 0 \n" +
				"7f10c2428000-7f10c25bd000 r-xp 00028000 fd:01 2283                       /usr/lib/x86_64-linux-gnu/libc.so.6\n" +
				"7ffd3b5f1000-7ffd3b5f3000 r-xp 00000000 00:00 0                          [vdso]\n" +
				"7f10c3000000-7f10c3001000 r-xp 00002000 08:02 99 /tmp/my dir/a.out (deleted)\n",
			want: []Mapping{
				{Start: 0x5581a0a00000, End: 0x5581a0a01000, Perms: "r--p", Dev: "fd:01", Inode: 1837, Path: "/usr/bin/leaky"},
				{Start: 0x5581a0a01000, End: 0x5581a0a02000, Perms: "r-xp", Offset: 0x1000, Dev: "fd:01", Inode: 1837, Path: "/usr/bin/leaky"},
				{Start: 0x7f10c0000000, End: 0x7f10c0021000, Perms: "rw-p", Dev: "00:00"},
				{Start: 0x7f10c2428000, End: 0x7f10c25bd000, Perms: "r-xp", Offset: 0x28000, Dev: "fd:01", Inode: 2283, Path: "/usr/lib/x86_64-linux-gnu/libc.so.6"},
				{Start: 0x7ffd3b5f1000, End: 0x7ffd3b5f3000, Perms: "r-xp", Dev: "00:00", Path: "[vdso]"},
				{Start: 0x7f10c3000000, End: 0x7f10c3001000, Perms: "r-xp", Offset: 0x2000, Dev: "08:02", Inode: 99, Path: "/tmp/my dir/a.out", Deleted: true},
			},
		},
		{name: "anonymous without trailing space", in: "1000-2000 rw-p 00000000 00:00 0\n",
			want: []Mapping{{Start: 0x1000, End: 0x2000, Perms: "rw-p", Dev: "00:00"}}},
		{name: "empty", in: ""},
		{name: "short line", in: "1000-2000 r-xp\n", wantErr: "maps:1: want 5 fields"},
		{name: "range backwards", in: "1000-1000 r-xp 0 00:00 0\n2000-1000 r-xp 0 00:00 0\n", wantErr: "maps:2: bad address range"},
		{name: "no dash", in: "1000 r-xp 0 00:00 0\n", wantErr: "bad address range"},
		{name: "bad perms", in: "1000-2000 rx 0 00:00 0\n", wantErr: "bad permissions"},
		{name: "bad offset", in: "1000-2000 r-xp zz 00:00 0\n", wantErr: "bad offset"},
		{name: "bad inode", in: "1000-2000 r-xp 0 00:00 -1\n", wantErr: "bad inode"},
		{name: "overlong address", in: "10000000000000000-10000000000000001 r-xp 0 00:00 0\n", wantErr: "bad address range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMaps(strings.NewReader(tt.in), "maps")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMappingKinds(t *testing.T) {
	ms, err := parseMaps(strings.NewReader("1000-2000 r-xp 0 fd:01 7 /bin/x\n3000-4000 r--p 0 00:00 0 [vdso]\n"), "maps")
	if err != nil || len(ms) != 2 {
		t.Fatalf("parse: %v %v", ms, err)
	}
	if !ms[0].Exec() || !ms[0].File() || ms[1].Exec() || ms[1].File() {
		t.Errorf("Exec/File wrong: %+v", ms)
	}
	if m, ok := find(ms, 0x1fff); !ok || m.Path != "/bin/x" {
		t.Errorf("find(0x1fff) = %+v, %v", m, ok)
	}
	if _, ok := find(ms, 0x2000); ok {
		t.Error("find(0x2000): End is exclusive")
	}
}

// FuzzParseMaps: no panic; what parses has Start ≤ End, four-letter
// permissions and a path without the " (deleted)" mark.
func FuzzParseMaps(f *testing.F) {
	for _, s := range []string{
		"5581a0a01000-5581a0a02000 r-xp 00001000 fd:01 1837 /usr/bin/leaky\n",   // a PIE's text
		"7f10c0000000-7f10c0021000 rw-p 00000000 00:00 0 \n",                    // anonymous
		"7f10c3000000-7f10c3001000 r-xp 00002000 08:02 99 /tmp/a b (deleted)\n", // spaces, deleted
		"1000-2000 r-xp\n",                      // short
		"ffffffffffffffff-0 r-xp 0 0 0 /x\n",    // backwards
		"1000-2000 r-xp 0 00:00 0 \x1b[31m\r\n", // escape and CR in a path
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := parseMaps(strings.NewReader(s), "maps")
		if err != nil {
			return
		}
		for _, m := range ms {
			if m.Start > m.End || len(m.Perms) != 4 || strings.ContainsRune(m.Path, '\n') {
				t.Errorf("bad mapping %+v from %q", m, s)
			}
		}
	})
}
