package inspect

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/shirou/gopsutil/v4/process"
)

// Where there is no proc root (FS.native: every system but Linux) the
// scan asks the system, through gopsutil, for what it reads from PID
// directories on Linux: the processes, their parents, start times, states
// and open-files limits. Each reader of the proc root that a scan needs
// turns here when fsys.native is set; nothing here reads /proc itself.

// nativePIDs lists the system's processes, or checks those asked for.
func (fsys FS) nativePIDs(want []int, warnings *[]string) ([]int, error) {
	ctx := gopsutilContext(fsys.ctx(), fsys)
	if len(want) > 0 {
		var pids []int
		for _, pid := range slices.Compact(slices.Sorted(slices.Values(want))) {
			if ok, err := process.PidExistsWithContext(ctx, int32(pid)); err != nil || !ok {
				*warnings = append(*warnings, fmt.Sprintf("pid %d: no such process", pid))
				continue
			}
			pids = append(pids, pid)
		}
		return pids, nil
	}
	all, err := process.PidsWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("could not list the processes: %w", err)
	}
	pids := make([]int, 0, len(all))
	for _, p := range all {
		if p > 0 {
			pids = append(pids, int(p))
		}
	}
	slices.Sort(pids)
	return pids, nil
}

// ctx is the context gopsutil's calls take; they are short, and a scan's
// cancellation is checked between them.
func (FS) ctx() context.Context { return context.Background() }

// nativeStat reads what the scan takes from PID/stat: the parent, the
// start time (milliseconds since the epoch here, not clock ticks: it only
// tells a reused PID from the process before it) and the state. It fails
// with fs.ErrNotExist when the process is gone.
func (fsys FS) nativeStat(pid int) (procStat, error) {
	ctx := gopsutilContext(fsys.ctx(), fsys)
	p := &process.Process{Pid: int32(pid)}
	ppid, err := p.PpidWithContext(ctx)
	if err != nil {
		if ok, _ := process.PidExistsWithContext(ctx, int32(pid)); !ok {
			return procStat{}, fmt.Errorf("process %d: %w", pid, fs.ErrNotExist)
		}
		return procStat{}, err
	}
	st := procStat{PPID: int(ppid)}
	if t, err := p.CreateTimeWithContext(ctx); err == nil && t > 0 {
		st.StartTime = uint64(t)
	}
	// On macOS gopsutil runs ps(1) for a process's status: a command per
	// process would cost more than the rest of the scan, so the state
	// stays unknown there.
	if runtime.GOOS != "darwin" {
		if s, err := p.StatusWithContext(ctx); err == nil && len(s) > 0 {
			st.State = stateLetter(s[0])
		}
	}
	return st, nil
}

// stateLetter turns gopsutil's process status into proc(5)'s letter, for
// the states the report names (stopped, zombie, uninterruptible).
func stateLetter(s string) byte {
	switch s {
	case process.Running:
		return 'R'
	case process.Sleep:
		return 'S'
	case process.Stop:
		return 'T'
	case process.Zombie:
		return 'Z'
	case process.Wait, process.Lock:
		return 'D'
	case process.Idle:
		return 'I'
	}
	return 0
}

// nativeLimits fills a process's open-files limits where gopsutil reads
// them (Linux only, today); elsewhere they stay 0, unknown, and the
// report gives no fd-pressure verdict (gopsutilGaps says so once).
func (fsys FS) nativeLimits(ps *procScan) {
	ctx := gopsutilContext(fsys.ctx(), fsys)
	lims, err := (&process.Process{Pid: int32(ps.p.PID)}).RlimitWithContext(ctx)
	if err != nil {
		return
	}
	for _, l := range lims {
		if l.Resource == process.RLIMIT_NOFILE {
			ps.p.FDSoftLimit, ps.p.FDHardLimit = nativeLimit(l.Soft), nativeLimit(l.Hard)
		}
	}
}

// nativeLimit is gopsutil's limit value as ProcLimits keeps it:
// RLIM_INFINITY is Unlimited.
func nativeLimit(v uint64) int64 {
	if v >= 1<<63-1 {
		return Unlimited
	}
	return int64(v)
}

// nativeExited reports whether process pid has gone.
func (fsys FS) nativeExited(pid int) bool {
	ok, err := process.PidExistsWithContext(gopsutilContext(fsys.ctx(), fsys), int32(pid))
	return err == nil && !ok
}

// nativeHostname is the system's host name.
func nativeHostname() string {
	h, _ := os.Hostname()
	return h
}

// gopsutilGaps says, once per scan, what the gopsutil backend cannot give
// on this system and what the report leaves out for it.
func (fsys FS) gopsutilGaps() string {
	gaps := []string{
		"no accept-queue lengths (no accept_queue finding)",
		"no socket ages (--min-age counts every CLOSE_WAIT and FIN_WAIT2 socket)",
		"one owner per socket (a socket shared after fork is listed under one of them)",
		"only TCP sockets counted as sockets in each process's descriptors",
	}
	if !fsys.native {
		gaps = append(gaps, "only this network namespace's sockets")
		return "the gopsutil backend gives " + strings.Join(gaps, "; ")
	}
	gaps = append(gaps, "no network namespaces, no system counters (no time_wait, orphans or file_nr findings)")
	if !slices.Contains(limitSystems, runtime.GOOS) {
		gaps = append(gaps, "no open-files limits on "+runtime.GOOS+" (no fd_pressure finding, no time to EMFILE)")
	}
	switch runtime.GOOS {
	case "darwin":
		gaps = append(gaps, "descriptors and sockets of other users' processes only as root (lsof)", "no TIME_WAIT or orphaned sockets (lsof lists only sockets a process holds)")
	case "windows":
		gaps = append(gaps, "handles, not file descriptors, as each process's descriptor count")
	case "freebsd":
		gaps = append(gaps, "no descriptor counts (gopsutil has none on freebsd)", "sockets only with lsof installed (pkg install lsof), and no TIME_WAIT or orphaned sockets")
	}
	return "the gopsutil backend gives " + strings.Join(gaps, "; ")
}

// limitSystems are the systems where gopsutil reads other processes'
// open-files limits.
var limitSystems = []string{"linux"}

// FDLimitsUnknown says why the open-files limits of other processes
// cannot be read on this system, or is nil where they can (Linux): a
// threshold on fd usage asked for there could never be crossed.
func FDLimitsUnknown() error {
	if slices.Contains(limitSystems, runtime.GOOS) {
		return nil
	}
	return fmt.Errorf("sockleak cannot read other processes' open-files limits on %s, so fd usage cannot be judged there", runtime.GOOS)
}

// isNotImplemented reports whether err is gopsutil's "not implemented
// yet" for this system: its sentinel is in an internal package, so the
// text is what tells.
func isNotImplemented(err error) bool {
	return err != nil && strings.Contains(err.Error(), "not implemented")
}
