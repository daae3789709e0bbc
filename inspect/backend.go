package inspect

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
)

// Backend names where a scan reads socket tables and owners from.
type Backend string

// BackendAuto picks the first registered backend that can read the proc
// root, in the order of their rank: netlink on the live /proc, and the proc
// tables elsewhere or when netlink is unavailable.
const BackendAuto Backend = "auto"

// backendDef is a backend: a table source and an owner source (see
// sources.go), and when it serves. Each backend's file registers one.
type backendDef struct {
	name Backend
	// rank orders auto's choice: the lowest that serves wins.
	rank int
	// reads names what it reads, for auto's notes ("/proc/net/tcp").
	reads func(fsys FS) string
	// check says why the backend cannot read fsys at all, as an error
	// for a user who asked for it; nil when it can. Auto passes over it
	// in silence. Optional.
	check func(fsys FS) error
	// probe says why the backend cannot serve on this host now; auto
	// passes over it with a note, and one that is asked for fails in the
	// scan instead. Optional.
	probe func() error
	// require says why the backend cannot serve when it is asked for by
	// name (its probe's part that is not about whether it pays); the scan
	// fails with it. Optional.
	require func() error
	// chosen says why auto chose it, for -v. Optional.
	chosen func() string
	// preload readies what its scans share (bpf: loads its program), and
	// reports whether it did any work. Optional.
	preload func() bool
	// open returns the backend's sources for one scan.
	open func(fsys FS, opts Options) (tableSource, ownerSource)
}

// linuxOnly names the backends that read the Linux kernel or /proc, and
// are built on Linux only: elsewhere asking for one says why it is
// missing rather than that it is unknown.
var linuxOnly = []Backend{"netlink", "proc", "bpf"}

// backends are the registered backends, by rank.
var backends []backendDef

// registerBackend adds a backend; its file calls it from init.
func registerBackend(d backendDef) {
	backends = append(backends, d)
	slices.SortStableFunc(backends, func(a, b backendDef) int { return a.rank - b.rank })
}

// lookupBackend returns the registered backend named b.
func lookupBackend(b Backend) (backendDef, bool) {
	i := slices.IndexFunc(backends, func(d backendDef) bool { return d.name == b })
	if i < 0 {
		return backendDef{}, false
	}
	return backends[i], true
}

// Backends lists the --backend values: auto, then the registered backends
// in auto's order.
func Backends() []Backend {
	names := []Backend{BackendAuto}
	for _, d := range backends {
		names = append(names, d.name)
	}
	return names
}

// ParseBackend parses a --backend value.
func ParseBackend(s string) (Backend, error) {
	b := Backend(strings.ToLower(s))
	if _, ok := lookupBackend(b); ok || b == BackendAuto {
		return b, nil
	}
	if b == "" {
		return BackendAuto, nil
	}
	if runtime.GOOS != "linux" && slices.Contains(linuxOnly, b) {
		return "", fmt.Errorf("the %s backend reads Linux's socket tables and runs on Linux only; on %s sockets are read with gopsutil (--backend auto or gopsutil)", b, runtime.GOOS)
	}
	var names []string
	for _, b := range Backends() {
		names = append(names, string(b))
	}
	list := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	return "", fmt.Errorf("unknown backend %q (want %s)", s, list)
}

// backend resolves the backend to use: the one asked for, or auto's
// choice with a note for each backend it passed over for a reason the user
// may want to know (-v).
func (fsys FS) backend(b Backend) (backendDef, string, error) {
	if b != BackendAuto && b != "" {
		d, ok := lookupBackend(b)
		if !ok {
			return backendDef{}, "", fmt.Errorf("unknown backend %q", b)
		}
		if d.check != nil {
			if err := d.check(fsys); err != nil {
				return backendDef{}, "", err
			}
		}
		if d.require != nil {
			if err := d.require(); err != nil {
				return backendDef{}, "", fmt.Errorf("the %s backend cannot serve: %w", d.name, err)
			}
		}
		return d, "", nil
	}
	var passed []string
	for _, d := range backends {
		if d.check != nil && d.check(fsys) != nil {
			continue
		}
		if d.probe != nil {
			if err := d.probe(); err != nil {
				passed = append(passed, err.Error())
				continue
			}
		}
		if len(passed) == 0 {
			if d.chosen != nil {
				return d, d.chosen(), nil
			}
			return d, "", nil
		}
		return d, fmt.Sprintf("%v; reading %s instead", strings.Join(passed, "; "), d.reads(fsys)), nil
	}
	return backendDef{}, "", errors.New("no backend can read " + fsys.root)
}

// Preload readies the backend that a scan of fsys with b would use, for a
// caller that scans again and again (watch): the bpf backend loads its
// program now, once, instead of beside the first scan, so that the load's
// garbage (the kernel's BTF, parsed) can be freed before any scan holds its
// tables. It reports whether there was anything to ready; one that fails
// is left to the scan, which falls back and says why.
func Preload(fsys FS, b Backend) bool {
	d, _, err := fsys.backend(b)
	return err == nil && d.preload != nil && d.preload()
}
