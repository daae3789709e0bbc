package inspect

import (
	"context"
	"os/user"
	"strconv"
	"sync"

	"github.com/shirou/gopsutil/v4/common"
	"github.com/shirou/gopsutil/v4/process"
)

// metaReader fills process names, users and command lines through
// gopsutil, pointed at the same proc root as everything else so that
// --proc-root and the tests never disagree with it. The walkers share it.
type metaReader struct {
	ctx   context.Context
	mu    sync.Mutex
	users map[uint32]string
}

func newMetaReader(ctx context.Context, fsys FS) *metaReader {
	ctx = context.WithValue(ctx, common.EnvKey, common.EnvMap{common.HostProcEnvKey: fsys.root})
	return &metaReader{ctx: ctx, users: make(map[uint32]string)}
}

// fill sets p's name, user and command line. It returns false when the
// process has gone.
func (m *metaReader) fill(p *Process) bool {
	// A literal Process, not NewProcess: that would also stat the process
	// and read its start time, which the scan reads itself (readStat).
	gp := &process.Process{Pid: int32(p.PID)}
	name, err := gp.NameWithContext(m.ctx)
	if err != nil {
		return false
	}
	p.Name = name
	p.Cmdline, _ = gp.CmdlineWithContext(m.ctx) // empty for kernel threads
	if uids, err := gp.UidsWithContext(m.ctx); err == nil && len(uids) > 1 {
		p.User = m.userName(uids[1]) // effective uid, as ps shows
	}
	return true
}

func (m *metaReader) userName(uid uint32) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n, ok := m.users[uid]; ok {
		return n
	}
	n := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(n); err == nil {
		n = u.Username
	}
	m.users[uid] = n
	return n
}
