package report

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/wording"
)

// TableOptions shapes the table output.
type TableOptions struct {
	// Top is how many peers to list per process and state. Optional:
	// 0 means 5.
	Top int
	// Sockets lists every socket, grouped by owner, after the summary.
	Sockets bool
}

// maxTableFindings is how many findings the table shows: one screen, read
// at 3 a.m.
const maxTableFindings = 10

// Table renders a report for a person: the findings (what is wrong and
// whose bug it is), the processes with their sockets by state and fd usage,
// the top peers per process and state, and optionally every socket. The
// scan's warnings are Warnings', for stderr.
func Table(w io.Writer, r *Report, opts TableOptions) error {
	if opts.Top <= 0 {
		opts.Top = 5
	}
	var b bytes.Buffer
	snap := r.Snapshot
	fmt.Fprintf(&b, "sockleak inspect · %s · %s · %s, %s\n\n",
		orDash(wording.Escape(snap.Hostname)), snap.Time.Format("2006-01-02 15:04:05 MST"), wording.Plural(len(snap.Sockets), "TCP socket"), wording.Count(len(r.Processes), "process", "processes"))

	b.WriteString("FINDINGS\n")
	if len(r.Findings) == 0 {
		b.WriteString("none: no CLOSE_WAIT or FIN_WAIT2 build-up, no process near its fd limit\n")
	}
	// One screen: the worst findings, each hint once.
	hinted := make(map[string]bool)
	for i, f := range r.Findings {
		if i == maxTableFindings {
			fmt.Fprintf(&b, "(%s not shown: sockleak inspect -o json lists them all)\n", wording.Plural(len(r.Findings)-i, "more finding"))
			break
		}
		label := fmt.Sprintf("%-8s  ", strings.ToUpper(f.Severity.String()))
		indent := strings.Repeat(" ", len(label))
		wording.WriteWrapped(&b, label, indent, "["+f.Kind+"] "+f.Message)
		if !hinted[f.Hint] {
			hinted[f.Hint] = true
			wording.WriteWrapped(&b, indent+"hint: ", indent+"      ", f.Hint)
		}
	}
	for _, note := range r.Notes {
		wording.WriteWrapped(&b, "note: ", "      ", note)
	}

	multiNS := r.namespaces() > 1
	b.WriteString("\nPROCESSES\n")
	if err := processTable(&b, r, multiNS); err != nil {
		return err
	}
	b.WriteString("\nTOP PEERS (per process and state)\n")
	if err := peerTable(&b, r, opts.Top); err != nil {
		return err
	}
	if opts.Sockets {
		b.WriteString("\nSOCKETS\n")
		if err := socketTable(&b, r, multiNS); err != nil {
			return err
		}
	}
	sys := snap.System
	fmt.Fprintf(&b, "\nSYSTEM  file handles %d/%d · TCP in use %d, orphans %d/%d, timewait %d/%d · tcp_fin_timeout %d s · local ports %d-%d\n",
		sys.FilesAllocated, sys.FileMax, sys.TCPInUse, sys.TCPOrphan, sys.MaxOrphans, sys.TCPTimeWait, sys.MaxTWBuckets,
		sys.FinTimeout, sys.LocalPortRange[0], sys.LocalPortRange[1])
	_, err := w.Write(trimTrailingSpace(b.Bytes()))
	return err
}

// Warnings writes a scan's warnings (Snapshot.Warnings: processes denied,
// a selection that matched nothing) as diagnostics, for stderr: one line
// each, "sockleak: warning: ...", escaped. The documents for stdout
// (Table, CheckText) leave them out; JSON carries them as data.
func Warnings(w io.Writer, warnings []string) error {
	var b strings.Builder
	for _, warn := range warnings {
		fmt.Fprintf(&b, "sockleak: warning: %s\n", wording.Escape(warn))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// newTable returns a borderless table, aligned like ss and ps. Numeric
// columns (by index) are right-aligned.
func newTable(w io.Writer, header []string, numeric ...int) *tablewriter.Table {
	align := make([]tw.Align, len(header))
	for i := range align {
		align[i] = tw.AlignLeft
		if slices.Contains(numeric, i) {
			align[i] = tw.AlignRight
		}
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenColumns: tw.Off, BetweenRows: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignmentConfig(tw.CellAlignment{PerColumn: align}),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "  ", Overwrite: true}),
		tablewriter.WithTrimSpace(tw.Off),
	)
	t.Header(header)
	return t
}

// statesShown lists, in kernel order, the states any shown owner holds.
func (r *Report) statesShown() []inspect.TCPState {
	seen := make(map[inspect.TCPState]bool)
	for _, p := range r.Processes {
		for s, n := range p.States {
			seen[s] = seen[s] || n > 0
		}
	}
	for _, m := range []map[inspect.TCPState]int{r.Kernel, r.Unknown} {
		for s, n := range m {
			seen[s] = seen[s] || n > 0
		}
	}
	var out []inspect.TCPState
	for s := range seen {
		if seen[s] {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func (r *Report) namespaces() int {
	ns := make(map[uint64]bool)
	for _, p := range r.Processes {
		ns[p.NetNS] = true
	}
	for _, s := range r.Snapshot.Sockets {
		ns[s.NetNS] = true
	}
	return len(ns)
}

func processTable(w io.Writer, r *Report, multiNS bool) error {
	states := r.statesShown()
	queued := slices.ContainsFunc(r.Processes, func(p ProcessRow) bool { return total(p.Queued) > 0 })
	// A workload column only when a process shown belongs to a unit, a
	// container or a pod: a host without them reads as before.
	workloads := slices.ContainsFunc(r.Processes, func(p ProcessRow) bool { return workloadPhrase(&p.Process) != "" })
	header := []string{"PID", "PROCESS", "USER", "FDS", "SOCKETS"}
	if workloads {
		header = slices.Insert(header, 2, "WORKLOAD")
	}
	numeric := []int{0, len(header) - 2, len(header) - 1}
	for _, s := range states {
		header = append(header, s.String())
		numeric = append(numeric, len(header)-1)
	}
	if queued { // connections in its accept queues, counted in their states
		header = append(header, "QUEUED")
		numeric = append(numeric, len(header)-1)
	}
	if multiNS {
		header = append(header, "NETNS")
	}
	t := newTable(w, header, numeric...)
	row := func(pid, name, workload, user, fds string, sockets int, counts map[inspect.TCPState]int, nq int, ns string) error {
		cells := []string{pid, name, user, fds, strconv.Itoa(sockets)}
		if workloads {
			cells = slices.Insert(cells, 2, orDash(workload))
		}
		for _, s := range states {
			cells = append(cells, countCell(counts[s]))
		}
		if queued {
			cells = append(cells, countCell(nq))
		}
		if multiNS {
			cells = append(cells, ns)
		}
		return t.Append(cells)
	}
	for _, p := range r.Processes {
		if err := row(strconv.Itoa(p.PID), r.label(p.PID, p.Name), workloadPhrase(&p.Process), wording.Escape(p.User), fdUsage(p.FDs, p.FDSoftLimit), p.Sockets,
			p.States, total(p.Queued), nsCell(p.NetNS)); err != nil {
			return err
		}
	}
	// The sockets no process holds, one row per namespace when there are
	// several: the kernel's of a container are not the host's.
	for _, o := range []struct {
		pid  int
		cell string
		name string
	}{{KernelPID, "-", "(kernel)"}, {UnknownPID, "?", "(unknown owner)"}} {
		byNS := r.poolStates(o.pid, multiNS)
		for _, ns := range slices.Sorted(maps.Keys(byNS)) {
			if err := row(o.cell, o.name, "", "", "", total(byNS[ns]), byNS[ns], 0, nsCell(ns)); err != nil {
				return err
			}
		}
	}
	return t.Render()
}

// poolStates counts the sockets of the kernel or unknown owners by
// namespace and state, from the groups; all under namespace 0 unless
// perNS.
func (r *Report) poolStates(pid int, perNS bool) map[uint64]map[inspect.TCPState]int {
	out := map[uint64]map[inspect.TCPState]int{}
	for _, g := range r.Groups {
		if g.PID != pid {
			continue
		}
		ns := uint64(0)
		if perNS {
			ns = g.NetNS
		}
		if out[ns] == nil {
			out[ns] = map[inspect.TCPState]int{}
		}
		out[ns][g.State] += g.Count
	}
	return out
}

func total(m map[inspect.TCPState]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

func countCell(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

func nsCell(ns uint64) string {
	if ns == 0 {
		return "?"
	}
	return strconv.FormatUint(ns, 10)
}

// ownerCells names an owner for the peer and socket tables.
func (r *Report) ownerCells(pid int) (string, string) {
	switch pid {
	case KernelPID:
		return "-", "(kernel)"
	case UnknownPID:
		return "?", "(unknown owner)"
	}
	for _, p := range r.Processes {
		if p.PID == pid {
			return strconv.Itoa(pid), r.label(pid, p.Name)
		}
	}
	return strconv.Itoa(pid), ""
}

func peerTable(w io.Writer, r *Report, top int) error {
	if !slices.ContainsFunc(r.Groups, func(g Group) bool { return g.State != inspect.Listen }) {
		_, err := io.WriteString(w, "none\n")
		return err
	}
	t := newTable(w, []string{"PID", "PROCESS", "STATE", "PEER", "COUNT"}, 0, 4)
	// Groups are sorted by owner and state, biggest first: each run of one
	// owner and state shows its top peers, then a line for the rest.
	groups := r.Groups
	for len(groups) > 0 {
		run := 1
		for run < len(groups) && groups[run].PID == groups[0].PID && groups[run].State == groups[0].State {
			run++
		}
		if groups[0].State != inspect.Listen { // no peer to speak of
			pid, name := r.ownerCells(groups[0].PID)
			for i, g := range groups[:run] {
				if i == top {
					more := 0
					for _, g := range groups[top:run] {
						more += g.Count
					}
					if err := t.Append([]string{"", "", "", "(" + wording.Plural(run-top, "more peer") + ")", strconv.Itoa(more)}); err != nil {
						return err
					}
					break
				}
				if err := t.Append([]string{pid, name, g.State.String(), g.Peer, strconv.Itoa(g.Count)}); err != nil {
					return err
				}
			}
		}
		groups = groups[run:]
	}
	return t.Render()
}

func socketTable(w io.Writer, r *Report, multiNS bool) error {
	idle := slices.ContainsFunc(r.Snapshot.Sockets, func(s inspect.Socket) bool { return s.HasIdle })
	age := slices.ContainsFunc(r.Snapshot.Sockets, func(s inspect.Socket) bool { return s.HasAge })
	header := []string{"PID", "PROCESS", "STATE", "RECV-Q", "SEND-Q", "LOCAL", "REMOTE"}
	numeric := []int{3, 4}
	if idle {
		header = append(header, "IDLE")
		numeric = append(numeric, len(header)-1)
	}
	if age { // a lower bound of the time in its state
		header = append(header, "AGE")
		numeric = append(numeric, len(header)-1)
	}
	if multiNS {
		header = append(header, "NETNS")
	}
	t := newTable(w, header, numeric...)
	socks := slices.Clone(r.Snapshot.Sockets)
	slices.SortFunc(socks, func(a, b inspect.Socket) int {
		return cmp.Or(ownerOrder(socketOwner(&a), socketOwner(&b)), cmp.Compare(a.State, b.State), a.Remote.Compare(b.Remote),
			inspect.CompareSockets(&a, &b))
	})
	for _, s := range socks {
		pid, name := r.ownerCells(socketOwner(&s))
		if len(s.PIDs) > 1 {
			ids := make([]string, len(s.PIDs))
			for i, p := range s.PIDs {
				ids[i] = strconv.Itoa(p)
			}
			pid = strings.Join(ids, ",")
		}
		state := s.State.String()
		if s.Queued { // held by no descriptor yet: in the accept queue of the owner's listener
			state += " (queued)"
		}
		cells := []string{pid, name, state, strconv.FormatUint(s.RxQueue, 10), strconv.FormatUint(s.TxQueue, 10),
			s.Local.String(), s.Remote.String()}
		if idle {
			cells = append(cells, idleCell(s))
		}
		if age {
			cells = append(cells, ageCell(s))
		}
		if multiNS {
			cells = append(cells, nsCell(s.NetNS))
		}
		if err := t.Append(cells); err != nil {
			return err
		}
	}
	return t.Render()
}

// idleCell renders the time since a socket last moved data, like "3m12s".
func idleCell(s inspect.Socket) string {
	if !s.HasIdle {
		return "-"
	}
	return shortDuration(time.Duration(s.IdleMs) * time.Millisecond)
}

func trimTrailingSpace(b []byte) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out.Write(bytes.TrimRight(sc.Bytes(), " "))
		out.WriteByte('\n')
	}
	return out.Bytes()
}
