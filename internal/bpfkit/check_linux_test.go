package bpfkit

import (
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMissingErrorSaysEverything(t *testing.T) {
	err := &MissingError{Caps: []Cap{CapBPF, CapPerfmon}, Reasons: []string{"no kernel BTF (x)"}}
	want := "BPF unavailable: missing CAP_BPF, CAP_PERFMON (run as root, or grant them: setcap cap_bpf,cap_perfmon+ep); no kernel BTF (x)"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q\nwant      %q", got, want)
	}
	if got := Cap(99).String(); got != "capability 99" {
		t.Errorf("unknown cap: %q", got)
	}
}

func TestMemlockCharged(t *testing.T) {
	for release, want := range map[string]bool{
		"6.18.0":          false,
		"5.11.0":          false,
		"5.10.0-21-amd64": true,
		"4.19.0":          true,
		"garbage":         true,
		"":                true,
	} {
		if got := memlockCharged(release); got != want {
			t.Errorf("memlockCharged(%q) = %v, want %v", release, got, want)
		}
	}
}

// withoutCaps runs f on a thread whose effective set lacks drop;
// capabilities are per thread, and the locked thread is thrown away
// after, so the test process keeps its own.
func withoutCaps(t *testing.T, drop []Cap, f func()) {
	t.Helper()
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			done <- err
			return
		}
		for _, c := range drop {
			data[c/32].Effective &^= 1 << (c % 32)
		}
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			done <- err
			return
		}
		f()
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatalf("dropping capabilities: %v", err)
	}
}

func TestPermittedNamesWhatIsMissing(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: it drops capabilities from a thread that holds them")
	}
	if err := Permitted(TraceCaps...); err != nil {
		t.Fatalf("as root: %v", err)
	}
	var onlyAdmin, none, trace error
	withoutCaps(t, []Cap{CapBPF, CapPerfmon}, func() { onlyAdmin = Permitted(SnapshotCaps...) })
	withoutCaps(t, []Cap{CapBPF, CapPerfmon, CapSysAdmin}, func() { none = Permitted(SnapshotCaps...) })
	withoutCaps(t, []Cap{CapSysPtrace}, func() { trace = Permitted(TraceCaps...) })
	if onlyAdmin != nil {
		t.Errorf("CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON, got %v", onlyAdmin)
	}
	var me *MissingError
	if !errors.As(none, &me) || len(me.Caps) != 2 || me.Caps[0] != CapBPF || me.Caps[1] != CapPerfmon {
		t.Errorf("without CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN: %v, want both named", none)
	}
	if trace == nil || !strings.Contains(trace.Error(), "CAP_SYS_PTRACE") || strings.Contains(trace.Error(), "CAP_BPF") {
		t.Errorf("without CAP_SYS_PTRACE: %v, want it alone named", trace)
	}
	if err := Permitted(TraceCaps...); err != nil {
		t.Errorf("the test's own thread lost its capabilities: %v", err)
	}
}

func TestCheck(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to load BPF")
	}
	err := Check(SnapshotCaps...)
	if _, statErr := os.Stat(BTFPath); statErr != nil {
		if err == nil || !strings.Contains(err.Error(), "BTF") {
			t.Errorf("no %s, yet Check = %v", BTFPath, err)
		}
		return
	}
	if err != nil && strings.Contains(err.Error(), "bpf syscall") {
		t.Skipf("root with BTF, but: %v", err) // seccomp or lockdown: Check said so, which is its job
	}
	if err != nil {
		t.Errorf("Check as root with BTF: %v", err)
	}
	var without error
	withoutCaps(t, []Cap{CapBPF, CapPerfmon, CapSysAdmin}, func() { without = Check(SnapshotCaps...) })
	if without == nil || !strings.Contains(without.Error(), "CAP_BPF") {
		t.Errorf("Check without capabilities = %v", without)
	}
}
