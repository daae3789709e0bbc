package report

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/metrics"
)

// WorkloadGroup is the processes of one workload (inspect.Workload) in a
// snapshot: what the metrics and watch key by, so that a service keeps
// its series and its trend when it restarts under a new PID.
type WorkloadGroup struct {
	// Name is the workload's name (inspect.Process.WorkloadName): its key.
	Name string
	// Workload is that of its process with the lowest PID.
	Workload inspect.Workload
	// Processes are its processes, by PID.
	Processes []inspect.Process
	// States counts its sockets by state, each socket once (a socket
	// shared after fork by two of its processes counts once).
	States map[inspect.TCPState]int
	// Sockets counts its sockets; FDs sums its processes' descriptors.
	Sockets, FDs int
	// Worst is the index in Processes of the process with the highest fd
	// usage (percent of its soft limit), -1 when no process has a known,
	// finite limit; FDUsage is that usage.
	Worst   int
	FDUsage float64
}

// Workloads groups the snapshot's processes by workload, in the order of
// their names. Sockets no process holds belong to none.
func Workloads(snap *inspect.Snapshot) []WorkloadGroup {
	index := map[string]int{}
	var groups []WorkloadGroup
	byPID := make(map[int]int, len(snap.Processes)) // pid -> group
	for _, p := range snap.Processes {
		name := p.WorkloadName()
		g, ok := index[name]
		if !ok {
			g = len(groups)
			index[name] = g
			groups = append(groups, WorkloadGroup{Name: name, Workload: p.Workload, States: map[inspect.TCPState]int{}, Worst: -1})
		}
		wg := &groups[g]
		wg.Processes = append(wg.Processes, p)
		wg.FDs += p.FDs
		byPID[p.PID] = g
	}
	for i := range snap.Sockets {
		s := &snap.Sockets[i]
		var counted []int // the groups this socket counted for: few
		for _, pid := range s.PIDs {
			g, ok := byPID[pid]
			if !ok || slices.Contains(counted, g) {
				continue
			}
			groups[g].States[s.State]++
			groups[g].Sockets++
			counted = append(counted, g)
		}
	}
	slices.SortFunc(groups, func(a, b WorkloadGroup) int { return cmp.Compare(a.Name, b.Name) })
	for i := range groups {
		slices.SortFunc(groups[i].Processes, func(a, b inspect.Process) int { return cmp.Compare(a.PID, b.PID) })
		g := &groups[i]
		g.Workload = g.Processes[0].Workload
		if g.Worst = worstIndex(g.Processes); g.Worst >= 0 {
			g.FDUsage = usagePercent(g.Processes[g.Worst].FDs, g.Processes[g.Worst].FDSoftLimit)
		}
	}
	return groups
}

// worstIndex is the index of the process with the highest fd usage among
// those with a known, finite limit.
func worstIndex(procs []inspect.Process) int {
	best, usage := -1, 0.0
	for i, p := range procs {
		if u := usagePercent(p.FDs, p.FDSoftLimit); p.FDSoftLimit > 0 && (best < 0 || u > usage) {
			best, usage = i, u
		}
	}
	return best
}

// MetricLabels are the values of metrics.WorkloadLabels for a workload
// named name; with a pid > 0, those of metrics.PIDLabels follow (series
// per process, --pid-label). They are the host's text: the caller escapes
// them (wording.Escape), as every label value.
func MetricLabels(w *inspect.Workload, name string, pid int, process string) []string {
	kind := w.Kind
	if kind == "" {
		kind = inspect.KindProcess // no cgroup read: a plain process
	}
	labels := []string{string(kind), name, w.Unit, w.Namespace, w.Pod, w.Container}
	if pid > 0 {
		labels = append(labels, strconv.Itoa(pid), process)
	}
	return labels
}

// OtherLabels are the label values of the roll-up beyond the series cap
// (kind="other", workload="other"); with byPID, empty pid and process
// labels follow.
func OtherLabels(byPID bool) []string {
	labels := []string{metrics.OtherKind, metrics.OtherKind, "", "", "", ""}
	if byPID {
		labels = append(labels, "", "")
	}
	return labels
}
