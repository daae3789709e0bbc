package main

import (
	"github.com/spf13/pflag"

	"github.com/sockleak/sockleak/inspect"
)

// ScanFlags are the collection and filter flags every command that scans
// shares.
type ScanFlags struct {
	ProcRoot  string   // --proc-root; default /proc
	PIDs      []int    // --pid, repeatable. Optional.
	Name      string   // --name. Optional.
	Workloads []string // --workload, repeatable: patterns Workload.Match takes. Optional.
	States    []string // --state, repeatable, any spelling ParseState takes. Optional.
	Ports     []int    // --port, repeatable. Optional.
	Peers     []string // --peer, repeatable: IP, IP:port or CIDR. Optional.
	Backend   string   // --backend: auto, netlink, proc or gopsutil
	Verbose   bool     // -v: print how the scan went (backend fallbacks) on stderr

	flags *pflag.FlagSet // where they were registered, to tell --state "" from no --state (and --name, --peer)
}

func (f *ScanFlags) register(fs *pflag.FlagSet) {
	f.flags = fs
	fs.StringVar(&f.ProcRoot, "proc-root", inspect.DefaultRoot, "proc filesystem to read (e.g. a host's /proc mounted at /host/proc)")
	fs.IntSliceVar(&f.PIDs, "pid", nil, "only this process (repeatable)")
	fs.StringVar(&f.Name, "name", "", "only processes whose name or command line contains this (case-insensitive)")
	fs.StringArrayVar(&f.Workloads, "workload", nil, "only processes of this workload (repeatable): a glob (* does not cross /) on the workload name (leaky.service, NS/POD/CONTAINER, a container name), its unit, pod, NAMESPACE/POD, container or pod UID, or a container id prefix of 4+ hex digits")
	fs.StringSliceVar(&f.States, "state", nil, "only sockets in this state (repeatable; close-wait, FIN_WAIT2, finwait2... all work)")
	fs.IntSliceVar(&f.Ports, "port", nil, "only sockets with this local or remote port (repeatable)")
	fs.StringSliceVar(&f.Peers, "peer", nil, "only sockets to this peer: IP, IP:port or CIDR (repeatable)")
	fs.StringVar(&f.Backend, "backend", "auto", "how to read sockets: auto (bpf on a host with many open files, else netlink, else /proc; gopsutil off Linux), bpf (netlink and a BPF iterator for the owners), netlink, proc, or gopsutil (any system)")
	fs.BoolVarP(&f.Verbose, "verbose", "v", false, "say how the scan went (backend and fallbacks) on stderr")
}

// changed reports whether the flag name was given.
func (f *ScanFlags) changed(name string) bool { return f.flags != nil && f.flags.Changed(name) }

// options validates the flags into scan options. Mistakes are flag errors.
func (f *ScanFlags) options() (inspect.Options, error) {
	var o inspect.Options
	for _, pid := range f.PIDs {
		if pid <= 0 {
			return o, flagErrorf("invalid --pid %d: want a process ID", pid)
		}
	}
	b, err := inspect.ParseBackend(f.Backend)
	if err != nil {
		return o, flagErrorf("invalid --backend: %v", err)
	}
	o.Backend = b
	o.PIDs = f.PIDs
	o.Name = f.Name
	o.Workloads = f.Workloads
	// An empty $STATE, $NAME or $PEER in a script must not widen the view
	// to everything.
	switch {
	case f.changed("state") && len(f.States) == 0:
		return o, flagErrorf(`invalid --state "": want a state, e.g. close-wait`)
	case f.changed("name") && f.Name == "":
		return o, flagErrorf(`invalid --name "": want a name or part of a command line`)
	case f.changed("workload") && hasEmpty(f.Workloads):
		return o, flagErrorf(`invalid --workload "": want a workload name or pattern, e.g. leaky.service`)
	case f.changed("peer") && len(f.Peers) == 0:
		return o, flagErrorf(`invalid --peer "": want an IP, IP:port or CIDR`)
	}
	for _, s := range f.States {
		st, err := inspect.ParseState(s)
		if err != nil {
			return o, flagErrorf("invalid --state: %v", err)
		}
		o.States = append(o.States, st)
	}
	for _, p := range f.Ports {
		if p <= 0 || p > 65535 {
			return o, flagErrorf("invalid --port %d: want 1-65535", p)
		}
		o.Ports = append(o.Ports, uint16(p))
	}
	for _, s := range f.Peers {
		p, err := inspect.ParsePeer(s)
		if err != nil {
			return o, flagErrorf("invalid --peer: %v", err)
		}
		o.Peers = append(o.Peers, p)
	}
	return o, nil
}

// hasEmpty reports whether any of the values is empty.
func hasEmpty(values []string) bool {
	for _, v := range values {
		if v == "" {
			return true
		}
	}
	return false
}

// fdLimitsUnknown says why fd usage cannot be judged on this system
// (inspect.FDLimitsUnknown); tests replace it.
var fdLimitsUnknown = inspect.FDLimitsUnknown
