package inspect

import (
	"fmt"
	"strings"
)

// Backend is how socket tables are read.
type Backend string

// The backends. Auto uses netlink on the live /proc and falls back to the
// proc tables when netlink is unavailable.
const (
	BackendAuto    Backend = "auto"
	BackendNetlink Backend = "netlink"
	BackendProc    Backend = "proc"
)

// ParseBackend parses a --backend value.
func ParseBackend(s string) (Backend, error) {
	switch b := Backend(strings.ToLower(s)); b {
	case BackendAuto, BackendNetlink, BackendProc:
		return b, nil
	case "":
		return BackendAuto, nil
	}
	return "", fmt.Errorf("unknown backend %q (want auto, netlink or proc)", s)
}

// backend resolves the backend to use. A proc root other than this host's
// /proc implies proc: a mounted host /proc cannot be reached over this
// host's netlink.
func (fsys FS) backend(b Backend) (Backend, string, error) {
	switch b {
	case BackendProc:
		return BackendProc, "", nil
	case BackendNetlink:
		if !fsys.live {
			return "", "", fmt.Errorf("the netlink backend reads this host's kernel: it needs --proc-root %s, not %s", DefaultRoot, fsys.root)
		}
		return BackendNetlink, "", nil
	}
	if !fsys.live {
		return BackendProc, "", nil
	}
	if err := netlinkAvailable(); err != nil {
		return BackendProc, fmt.Sprintf("netlink sock_diag unavailable (%v); reading %s/net/tcp instead", err, fsys.root), nil
	}
	return BackendNetlink, "", nil
}
