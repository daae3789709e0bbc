//go:build linux

package inspect

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestBackendChoice(t *testing.T) {
	live, err := NewFS("/proc")
	if err != nil {
		t.Fatal(err)
	}
	fixture, err := NewFS("../testdata/healthy/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		fsys    FS
		in      Backend
		want    Backend
		wantErr string
	}{
		{live, BackendAuto, BackendNetlink, ""},
		{live, BackendProc, BackendProc, ""},
		{live, BackendNetlink, BackendNetlink, ""},
		{fixture, BackendAuto, BackendProc, ""}, // another proc root implies proc
		{fixture, BackendNetlink, "", "needs --proc-root /proc"},
	} {
		def, _, err := tt.fsys.backend(tt.in)
		got := def.name
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("backend(%s) on %s: error %v, want %q", tt.in, tt.fsys.root, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("backend(%s) on %s = %s, %v; want %s", tt.in, tt.fsys.root, got, err, tt.want)
		}
	}
}

func TestParseBackend(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    Backend
		wantErr string
	}{
		{"", BackendAuto, ""},
		{"auto", BackendAuto, ""},
		{"NetLink", BackendNetlink, ""},
		{"proc", BackendProc, ""},
		{"BPF", BackendBPF, ""},
		{"GoPsUtil", BackendGopsutil, ""},
		{"ebpf", "", `unknown backend "ebpf" (want auto, bpf, netlink, proc or gopsutil)`},
	} {
		got, err := ParseBackend(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseBackend(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseBackend(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestBackendsRegistered: every backend registers itself once, in the
// order auto tries them.
func TestBackendsRegistered(t *testing.T) {
	var names []Backend
	for _, d := range backends {
		names = append(names, d.name)
	}
	if want := []Backend{BackendBPF, BackendNetlink, BackendProc, BackendGopsutil}; !slices.Equal(names, want) {
		t.Errorf("registered backends %v, want %v", names, want)
	}
}

// TestBackendAutoNote: auto passes over a backend whose probe fails, and
// says so for -v; over one that cannot read the root at all, in silence.
func TestBackendAutoNote(t *testing.T) {
	saved := backends
	t.Cleanup(func() { backends = saved })
	nl, _ := lookupBackend(BackendNetlink)
	nl.probe = func() error { return errors.New("netlink sock_diag unavailable (socket: EPERM)") }
	proc, _ := lookupBackend(BackendProc)
	backends = []backendDef{nl, proc}

	live, err := NewFS("/proc")
	if err != nil {
		t.Fatal(err)
	}
	d, note, err := live.backend(BackendAuto)
	const want = "netlink sock_diag unavailable (socket: EPERM); reading /proc/net/tcp instead"
	if err != nil || d.name != BackendProc || note != want {
		t.Errorf("auto on /proc = %s, %q, %v; want proc, %q", d.name, note, err, want)
	}
	d, note, err = fixtureFS(t, "healthy").backend(BackendAuto)
	if err != nil || d.name != BackendProc || note != "" {
		t.Errorf("auto on a fixture = %s, %q, %v; want proc and no note", d.name, note, err)
	}
	// Asked for, the backend is not probed: the scan fails instead.
	if d, _, err := live.backend(BackendNetlink); err != nil || d.name != BackendNetlink {
		t.Errorf("netlink on /proc = %s, %v; want netlink", d.name, err)
	}
}
