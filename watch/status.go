package watch

import (
	"time"

	"github.com/sockleak/sockleak/inspect"
)

// ProcKey identifies a process across samples: a PID the kernel reuses
// comes back with another start time.
type ProcKey struct {
	PID   int
	Start uint64 // clock ticks after boot (PID/stat field 22); 0 when unknown
}

// Status is what one sample showed, with the trends and the alert
// transitions it caused.
type Status struct {
	Seq  int // the sample's number, from 1
	Time time.Time
	// BootTime is the host's (inspect.System.BootTime): with a process's
	// Start, when it started. 0 when unknown.
	BootTime uint64
	Took     time.Duration
	// States counts the view's sockets by state (the host's totals on an
	// unfiltered scan).
	States map[inspect.TCPState]int
	// Processes are the processes that hold a socket of the view or have
	// a firing alert, the worst first: firing alerts, then CLOSE_WAIT
	// sockets, their growth, all sockets, PID.
	Processes []ProcStatus
	// Inspected and Denied count the processes read and those that could
	// not be (permission denied).
	Inspected, Denied int
	// Errors counts the samples that failed so far; Err is this sample's
	// error, if it failed (then only Seq, Time and Errors are set).
	Errors   int
	Err      error
	Warnings []string
	// Workloads are the workloads that hold CLOSE_WAIT sockets, have a
	// firing alert, or had a process end near its fd limit within
	// CrashLoopWindow, the worst first; one gone for now (a service
	// waiting for its restart) is listed with Processes 0.
	Workloads []WorkloadStatus
	// Alerts are the transitions at this sample: rules that fired and
	// rules that resolved.
	Alerts []Alert
}

// ProcStatus is one process at one sample.
type ProcStatus struct {
	ProcKey
	Name, User string
	// Workload is what the process runs as (its unit, container, pod);
	// WorkloadName its key and display name across restarts
	// (inspect.Process.WorkloadName): the exporter's series are keyed by it.
	Workload     inspect.Workload
	WorkloadName string
	// Command is a short, escaped command line (report.ShortCmdline) when
	// another process of the sample shown has the same Name; "" otherwise.
	Command string
	States  map[inspect.TCPState]int // its sockets by state
	Sockets int                      // all its TCP sockets
	FDs     int                      // open descriptors
	// FDLimit is the soft limit on open files: inspect.Unlimited (-1)
	// when unlimited, 0 when unknown.
	FDLimit int64
	// Rates are the growth of each state the process held in the window,
	// in sockets per minute (least squares over the window); FDRate the
	// same for its descriptors. Absent (and 0) until the window holds
	// enough samples.
	Rates  map[inspect.TCPState]float64
	FDRate float64
	// ETA is the time until the descriptors reach the soft limit at FDRate;
	// -1 when they do not grow or the limit is unknown or unlimited.
	ETA time.Duration
	// CloseWaitPeer is the peer most of its CLOSE_WAIT sockets go to.
	CloseWaitPeer string
	// Oldest is how long its oldest socket in each of the HandshakeStates
	// it holds has been seen in the state: a lower bound, counted from the
	// first sample that saw it (a socket already there when watch started
	// may be much older).
	Oldest map[inspect.TCPState]time.Duration
	// History is its CLOSE_WAIT count at each sample of the window, oldest
	// first.
	History []int
	// Firing lists the rules firing for its workload whose alerts name
	// this process, in rule order.
	Firing []string
	track  string // its workload's key in the Monitor (trackName)
	cwOld  int    // its CLOSE_WAIT sockets seen for CarryAge or longer
}

// CloseWaitOldest is the age of its oldest CLOSE_WAIT socket,
// Oldest[CLOSE_WAIT]; 0 when it holds none.
func (p *ProcStatus) CloseWaitOldest() time.Duration { return p.Oldest[inspect.CloseWait] }

// FDUsage is the percentage of the soft limit in use, or -1 when the limit
// is unknown or unlimited.
func (p *ProcStatus) FDUsage() float64 {
	if p.FDLimit <= 0 {
		return -1
	}
	return 100 * float64(p.FDs) / float64(p.FDLimit)
}

// Alert is a rule firing or resolving for a workload. It names the
// workload and its process the rule is about (the most CLOSE_WAIT
// sockets, then the highest fd usage), and the workload's CLOSE_WAIT
// sockets' count, main peer, oldest age and growth across restarts, and
// the descriptors against the limit of its process nearest it.
type Alert struct {
	Time   time.Time
	Rule   string // RuleCloseWait, ...
	Firing bool   // false: resolved
	// Exited is true when the alert resolved because the workload's
	// processes exited (a unit, container or pod: for a whole window).
	Exited bool
	// WorkloadName and Workload are the workload's, as in ProcStatus.
	WorkloadName string
	Workload     inspect.Workload
	ProcKey
	Name string
	// Command is the process's short command line when its name is
	// ambiguous (ProcStatus.Command).
	Command string
	State   inspect.TCPState // the leak state the counts are of: CLOSE_WAIT
	Peer    string
	Count   int
	Age     time.Duration // the oldest socket's
	// Rate is the growth in sockets per minute; RateKnown is false until
	// the window holds enough samples for one.
	Rate      float64
	RateKnown bool
	// FDs, FDLimit and ETA as in ProcStatus.
	FDs     int
	FDLimit int64
	ETA     time.Duration
	// Exits are the workload's processes that ended near their fd limit
	// within CrashLoopWindow (WorkloadStatus.LimitExits).
	Exits []Exit
	// Threshold is the rule's threshold, in the rule's unit: sockets,
	// seconds, percent, processes.
	Threshold float64
	// OpenedBy names the code that opened the sockets counted, as
	// "function (file:line)", where watch --trace knows it. The host's
	// text: escaped when printed. Optional.
	OpenedBy string
}
