package trace

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/sockleak/sockleak/inspect"
)

// DefaultMaxSockets is the default size of the table of recorded sockets:
// sockets open at once that the trace can follow (about 80 bytes each).
const DefaultMaxSockets = 65536

// stackDepth is bpf/trace.c's STACK_DEPTH.
const stackDepth = 64

// Options configures a recording.
type Options struct {
	// PID records only this process's sockets, filtered in the kernel.
	// Optional: 0 records every process's.
	PID int
	// MaxSockets sizes the table of sockets open at once. Optional:
	// DefaultMaxSockets.
	MaxSockets int
}

// Recorder is a recording under way: the programs loaded and attached.
type Recorder struct {
	objs    tracerObjects
	links   []link.Link
	clock   monoClock
	started time.Time
	max     int
}

// Start checks that this process may load BPF programs, loads trace's and
// attaches them. From then on every TCP socket given a descriptor is
// recorded, until Stop.
func Start(opts Options) (*Recorder, error) {
	if runtime.GOARCH != "amd64" {
		// The programs read x86-64's user registers (orig_ax, sp, bp,
		// ip) and symbolize checks x86-64 call instructions.
		return nil, fmt.Errorf("sockleak trace runs on x86-64 only, not %s", runtime.GOARCH)
	}
	if err := preflight(); err != nil {
		return nil, err
	}
	if opts.MaxSockets <= 0 {
		opts.MaxSockets = DefaultMaxSockets
	}
	spec, err := loadTracer()
	if err != nil {
		return nil, err
	}
	spec.Maps[tracerMapSocks].MaxEntries = uint32(opts.MaxSockets)
	if err := setVariables(spec, opts); err != nil {
		return nil, err
	}
	r := &Recorder{max: opts.MaxSockets}
	if err := spec.LoadAndAssign(&r.objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("loading trace's BPF programs: %+v", ve)
		}
		return nil, fmt.Errorf("loading trace's BPF programs: %w", err)
	}
	for _, p := range []*ebpf.Program{r.objs.OnSetState, r.objs.OnDestroy, r.objs.OnSysExit} {
		l, err := link.AttachTracing(link.TracingOptions{Program: p})
		if err != nil {
			r.close()
			return nil, fmt.Errorf("attaching %s: %w", p, err)
		}
		r.links = append(r.links, l)
	}
	r.clock = newMonoClock()
	r.started = r.clock.wall(r.clock.now())
	return r, nil
}

// setVariables sets the programs' constants: the target process and the
// syscall numbers of this architecture.
func setVariables(spec *ebpf.CollectionSpec, opts Options) error {
	vars := map[string]any{
		tracerVarTargetTgid: uint32(max(opts.PID, 0)),
		tracerVarNrSocket:   int64(unix.SYS_SOCKET),
		tracerVarNrAccept4:  int64(unix.SYS_ACCEPT4),
		tracerVarNrAccept:   int64(sysAccept),
	}
	for name, v := range vars {
		if err := spec.Variables[name].Set(v); err != nil {
			return fmt.Errorf("setting %s: %w", name, err)
		}
	}
	return nil
}

func (r *Recorder) close() {
	for _, l := range r.links {
		_ = l.Close()
	}
	r.links = nil
	_ = r.objs.Close()
}

// Stop detaches the programs, reads what they recorded and unloads them.
func (r *Recorder) Stop() (*Recording, error) {
	ended := r.clock.wall(r.clock.now())
	for _, l := range r.links {
		_ = l.Close()
	}
	r.links = nil
	defer r.close()
	rec := &Recording{Started: r.started, Ended: ended, Capacity: r.max}
	var err error
	if rec.Counters, err = r.counters(); err != nil {
		return nil, err
	}
	if rec.Sockets, err = r.read(true); err != nil {
		return nil, err
	}
	return rec, nil
}

// Peek reads what is recorded so far, by inode, without stopping: the
// sockets open now that were opened since Start, each with the time it
// entered its state. Stacks are left out (Stop reads them).
func (r *Recorder) Peek() (map[uint64]Socket, error) {
	socks, err := r.read(false)
	if err != nil {
		return nil, err
	}
	out := make(map[uint64]Socket, len(socks))
	for _, s := range socks {
		out[s.Inode] = s
	}
	return out, nil
}

// read reads the table of sockets, with their stacks if withStacks.
func (r *Recorder) read(withStacks bool) ([]Socket, error) {
	var out []Socket
	stacks := map[uint64][]uint64{}
	var key uint64
	var o tracerOpened
	it := r.objs.Socks.Iterate()
	for it.Next(&key, &o) {
		s := Socket{
			Inode: o.Inode, TGID: int(o.Tgid), Opened: r.clock.wall(o.OpenNs),
			State: inspect.TCPState(o.State), Since: r.clock.wall(o.StateNs), Exact: o.Changed != 0,
			Caller: o.Caller, StackErr: stackError(o.StackErr), StackKey: o.Stack,
		}
		if o.Stack != 0 && withStacks {
			st, ok := stacks[o.Stack]
			if !ok {
				st = r.stack(o.Stack)
				stacks[o.Stack] = st
			}
			s.Stack = st
		}
		out = append(out, s)
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("reading the recorded sockets: %w", err)
	}
	return out, nil
}

// Stack reads the stack a Socket's StackKey names; nil when it is gone.
func (r *Recorder) Stack(key uint64) []uint64 { return r.stack(key) }

// stack reads one user stack: addresses up to the first zero.
func (r *Recorder) stack(key uint64) []uint64 {
	var buf [stackDepth]uint64
	if err := r.objs.Stacks.Lookup(key, &buf); err != nil {
		return nil
	}
	n := 0
	for n < len(buf) && buf[n] != 0 {
		n++
	}
	return append([]uint64(nil), buf[:n]...)
}

// stackError says why a socket has no stack.
func stackError(errno int32) string {
	switch unix.Errno(-errno) {
	case 0:
		return ""
	case unix.E2BIG, unix.ENOMEM:
		return "stack table full"
	case unix.EFAULT, unix.ENODATA:
		return "no user stack (a kernel thread, or io_uring)"
	default:
		return fmt.Sprintf("no stack (%v)", unix.Errno(-errno))
	}
}

// counters sums the per-CPU counters.
func (r *Recorder) counters() (Counters, error) {
	var c Counters
	fields := []*uint64{&c.Opened, &c.Changes, &c.Closed, &c.DroppedFull, &c.DroppedStack}
	for i, f := range fields {
		var per []uint64
		if err := r.objs.Counters.Lookup(uint32(i), &per); err != nil {
			return c, fmt.Errorf("reading the counters: %w", err)
		}
		for _, v := range per {
			*f += v
		}
	}
	return c, nil
}

// monoClock turns CLOCK_MONOTONIC (bpf_ktime_get_ns) into wall time.
type monoClock struct{ offset time.Duration }

func newMonoClock() monoClock {
	var ts unix.Timespec
	before := time.Now()
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	after := time.Now()
	mid := before.Add(after.Sub(before) / 2)
	return monoClock{offset: time.Duration(mid.UnixNano() - ts.Nano())}
}

func (c monoClock) now() uint64 {
	var ts unix.Timespec
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return uint64(ts.Nano())
}

func (c monoClock) wall(ns uint64) time.Time { return time.Unix(0, int64(ns)+int64(c.offset)) }
