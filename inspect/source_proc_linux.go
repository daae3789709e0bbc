package inspect

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strconv"
)

// BackendProc reads the socket tables from the proc root's net/tcp and
// net/tcp6 (and PID/net/ for other namespaces), and owners by walking
// every PID/fd. It reads any proc root: a fixture tree, a host's /proc
// mounted elsewhere.
const BackendProc Backend = "proc"

func init() {
	registerBackend(backendDef{
		name:  BackendProc,
		rank:  100,
		reads: func(fsys FS) string { return fsys.root + "/net/tcp" },
		open: func(fsys FS, _ Options) (tableSource, ownerSource) {
			return procTables{}, fdWalkOwners{}
		},
	})
}

// procTables is the table source of the proc root's text tables.
type procTables struct{}

func (procTables) readTables(req tableRequest) (tableSet, error) {
	fsys := req.fsys
	return readEachNamespace(req, func(ts *tableSet, pid int, ns uint64) error {
		return fsys.readNetDir(fsys.netDir(pid), ns, &ts.sockets)
	})
}

// recheck reads the tables of the namespaces of socks again.
func (procTables) recheck(req tableRequest, socks []Socket) (map[uint64]bool, error) {
	fsys := req.fsys
	return recheckEachNamespace(req, socks, func(pid int, ns uint64, these []Socket, present map[uint64]bool) error {
		return fsys.recheckTables(fsys.netDir(pid), ns, these, present)
	})
}

// netDir is the net/ directory of process pid's namespace, or the
// reader's own when pid is 0.
func (fsys FS) netDir(pid int) string {
	if pid == 0 {
		return fsys.path("net")
	}
	return fsys.path(strconv.Itoa(pid), "net")
}

// readNetDir appends the sockets of dir/tcp and dir/tcp6 to dst, marked
// with ns. A missing tcp6 means IPv6 is disabled, not an error.
func (fsys FS) readNetDir(dir string, ns uint64, dst *[]Socket) error {
	start := len(*dst)
	socks, err := appendNetTCP(*dst, filepath.Join(dir, "tcp"), TCP)
	if err == nil {
		socks, err = appendNetTCP(socks, filepath.Join(dir, "tcp6"), TCP6)
		if errors.Is(err, fs.ErrNotExist) {
			err = nil
		}
	}
	if err != nil {
		return err
	}
	for i := start; i < len(socks); i++ {
		socks[i].NetNS = ns
	}
	*dst = socks
	return nil
}

// recheckTables reads dir/tcp and dir/tcp6 again for the sockets of
// these: the proc source's recheck, and netlink's fallback.
func (fsys FS) recheckTables(dir string, ns uint64, these []Socket, present map[uint64]bool) error {
	var again []Socket
	if err := fsys.readNetDir(dir, ns, &again); err != nil {
		return err
	}
	markPresent(these, again, present)
	return nil
}
