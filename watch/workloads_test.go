package watch

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/metrics"
)

// gathered is one series: its labels and value.
type gathered struct {
	labels map[string]string
	value  float64
}

// gather registers e on a pedantic registry (series consistent with what
// Describe says) and returns its series by family.
func gather(t *testing.T, e *Exporter) map[string][]gathered {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]gathered{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			out[mf.GetName()] = append(out[mf.GetName()], gathered{labelMap(m), m.GetGauge().GetValue() + m.GetCounter().GetValue()})
		}
	}
	return out
}

func labelMap(m *dto.Metric) map[string]string {
	l := map[string]string{}
	for _, lp := range m.GetLabel() {
		l[lp.GetName()] = lp.GetValue()
	}
	return l
}

// find returns the series of family whose workload label is name (and
// state, when given).
func find(series map[string][]gathered, family, name string, state ...string) []gathered {
	var out []gathered
	for _, g := range series[family] {
		if g.labels["workload"] == name && (len(state) == 0 || g.labels["state"] == state[0]) {
			out = append(out, g)
		}
	}
	return out
}

// one returns the value of the only series of family for the workload name.
func one(t *testing.T, series map[string][]gathered, family, name string, state ...string) float64 {
	t.Helper()
	gs := find(series, family, name, state...)
	if len(gs) != 1 {
		t.Fatalf("%s{workload=%q %v}: %d series %v, want 1", family, name, state, len(gs), gs)
	}
	return gs[0].value
}

// unitStatus: master (pid 10) and worker (pid 11) of api.service, whose
// name holds an escape sequence, and cron (pid 12) outside any unit.
func unitStatus(t *testing.T, pids ...int) *Status {
	t.Helper()
	if len(pids) == 0 {
		pids = []int{10, 11}
	}
	const unit = "api\x1b[2J.service"
	m := NewMonitor(Config{Window: time.Minute})
	var st *Status
	for i := range 4 {
		st = m.Observe(sample(time.Duration(i)*10*time.Second,
			procSpec{pid: pids[0], start: 1, name: "master", est: 3, extraFDs: 5, limit: 1000, unit: unit},
			procSpec{pid: pids[1], start: 1, name: "worker", cw: 2, est: 1, extraFDs: 7, limit: 100, unit: unit},
			procSpec{pid: 12, start: 1, name: "cron", est: 1, extraFDs: 1, limit: -1},
		))
	}
	return st
}

// TestExporterUnitSummed: two processes of one unit are one series set,
// summed (sockets, processes, descriptors) or the worst of the two (fd
// usage), with the unit's labels escaped and no pid.
func TestExporterUnitSummed(t *testing.T) {
	e := NewExporter(50, false)
	e.Update(unitStatus(t))
	series := gather(t, e)
	const name = `api\x1b[2J.service`
	for family, want := range map[string]float64{
		metrics.WorkloadProcesses.Name: 2,
		metrics.WorkloadOpenFDs.Name:   (3 + 5) + (2 + 1 + 7),
		metrics.WorkloadFDUsage.Name:   10.0 / 100,
	} {
		if got := one(t, series, family, name); got != want {
			t.Errorf("%s = %v, want %v", family, got, want)
		}
	}
	if got := one(t, series, metrics.WorkloadSockets.Name, name, "established"); got != 4 {
		t.Errorf("established sockets %v, want 4 (3 + 1)", got)
	}
	if got := one(t, series, metrics.WorkloadSockets.Name, name, "close_wait"); got != 2 {
		t.Errorf("close_wait sockets %v, want 2", got)
	}
	l := find(series, metrics.WorkloadOpenFDs.Name, name)[0].labels
	want := map[string]string{"kind": "unit", "workload": name, "unit": name, "namespace": "", "pod": "", "container": ""}
	if !maps.Equal(l, want) {
		t.Errorf("labels %v, want %v", l, want)
	}
	if one(t, series, metrics.WorkloadProcesses.Name, "cron") != 1 || len(find(series, metrics.WorkloadFDUsage.Name, "cron")) != 0 {
		t.Error("cron: want its own series, and no fd usage (unlimited)")
	}
	if got := one(t, series, metrics.WatchWorkloads.Name, ""); got != 2 {
		t.Errorf("%s = %v, want 2", metrics.WatchWorkloads.Name, got)
	}
	if got := one(t, series, metrics.WorkloadsRolledUp.Name, ""); got != 0 {
		t.Errorf("%s = %v, want 0", metrics.WorkloadsRolledUp.Name, got)
	}
	for _, gs := range series {
		for _, g := range gs {
			if strings.ContainsRune(fmt.Sprint(g.labels), 0x1b) {
				t.Errorf("a raw escape in %v", g.labels)
			}
		}
	}
}

// labelSets are the label sets of the workload families' series.
func labelSets(series map[string][]gathered) []string {
	var out []string
	for family, gs := range series {
		if !strings.HasPrefix(family, "sockleak_workload_") {
			continue
		}
		for _, g := range gs {
			out = append(out, family+fmt.Sprint(g.labels))
		}
	}
	slices.Sort(out)
	return out
}

// TestExporterRestart: a workload whose processes restart (new PIDs at
// the next sample) keeps its label set: no pid in it.
func TestExporterRestart(t *testing.T) {
	e := NewExporter(50, false)
	e.Update(unitStatus(t))
	before := labelSets(gather(t, e))
	e.Update(unitStatus(t, 20, 21))
	after := labelSets(gather(t, e))
	if len(before) == 0 || !slices.Equal(before, after) {
		t.Errorf("label sets before the restart:\n%v\nafter:\n%v", before, after)
	}
	for _, s := range after {
		if strings.Contains(s, "pid:") {
			t.Errorf("a pid label: %s", s)
		}
	}
}

// TestExporterPIDLabel: with --pid-label the series are per process, the
// pid and process labels added, and the roll-up's empty.
func TestExporterPIDLabel(t *testing.T) {
	e := NewExporter(2, true)
	e.Update(unitStatus(t))
	series := gather(t, e)
	const name = `api\x1b[2J.service`
	fds := map[string]float64{}
	for _, g := range find(series, metrics.WorkloadOpenFDs.Name, name) {
		fds[g.labels["pid"]+" "+g.labels["process"]] = g.value
	}
	if want := map[string]float64{"10 master": 8, "11 worker": 10}; !maps.Equal(fds, want) {
		t.Errorf("open fds by process %v, want %v", fds, want)
	}
	other := find(series, metrics.WorkloadProcesses.Name, metrics.OtherKind)
	if len(other) != 1 || other[0].value != 1 || other[0].labels["pid"] != "" || other[0].labels["process"] != "" ||
		other[0].labels["kind"] != metrics.OtherKind {
		t.Errorf("roll-up %v, want cron alone under kind=other, empty pid and process", other)
	}
	if got := one(t, series, metrics.WorkloadsRolledUp.Name, ""); got != 1 {
		t.Errorf("%s = %v, want 1 process", metrics.WorkloadsRolledUp.Name, got)
	}
	if got := one(t, series, metrics.WatchWorkloads.Name, ""); got != 3 {
		t.Errorf("%s = %v, want 3 (processes, with --pid-label)", metrics.WatchWorkloads.Name, got)
	}
}

// TestExporterOtherETA: the roll-up keeps the soonest time to the limit
// and the oldest CLOSE_WAIT of the workloads it sums; the one kept is the
// worst (a firing alert first).
func TestExporterOtherETA(t *testing.T) {
	m := NewMonitor(Config{Window: time.Minute, Thresholds: Thresholds{CloseWait: 4}})
	var st *Status
	for i := range 4 {
		st = m.Observe(sample(time.Duration(i)*10*time.Second,
			procSpec{pid: 7, start: 1, name: "big", cw: 5, est: 20, extraFDs: 3, limit: 1024},
			procSpec{pid: 42, start: 1, name: "leaky", cw: i, extraFDs: 4 + 2*i, limit: 64},
			procSpec{pid: 43, start: 1, name: "old", cw: 1, cwBase: 5000, extraFDs: 4, limit: 64},
		))
	}
	byPID := map[int]*ProcStatus{}
	for i := range st.Processes {
		byPID[st.Processes[i].PID] = &st.Processes[i]
	}
	if len(byPID[7].Firing) == 0 || byPID[42].ETA <= 0 || byPID[43].ETA >= 0 {
		t.Fatalf("want big firing, leaky growing and old steady: %+v", st.Processes)
	}
	e := NewExporter(1, false)
	e.Update(st)
	series := gather(t, e)
	if got := one(t, series, metrics.WorkloadSockets.Name, "big", "established"); got != 20 {
		t.Errorf("big's established sockets %v, want 20", got)
	}
	if got, want := one(t, series, metrics.WorkloadSecondsToFDLimit.Name, metrics.OtherKind), byPID[42].ETA.Seconds(); got != want {
		t.Errorf("other's seconds to the limit %v, want leaky's %v", got, want)
	}
	want := max(byPID[42].CloseWaitOldest(), byPID[43].CloseWaitOldest()).Seconds()
	if got := one(t, series, metrics.WorkloadCloseWaitOldest.Name, metrics.OtherKind); got != want || want != 30 {
		t.Errorf("other's oldest CLOSE_WAIT %vs, want %vs (old's)", got, want)
	}
	if got := one(t, series, metrics.WorkloadSockets.Name, metrics.OtherKind, "close_wait"); got != 3+1 {
		t.Errorf("other's CLOSE_WAIT sockets %v, want 4", got)
	}
	if got := one(t, series, metrics.WorkloadsRolledUp.Name, ""); got != 2 {
		t.Errorf("%s = %v, want 2", metrics.WorkloadsRolledUp.Name, got)
	}
}

// boundStatus is n processes, each its own unit, each holding every
// state, near its fd limit and growing toward it, with CLOSE_WAIT: every
// series a workload can have.
func boundStatus(n int) *Status {
	st := &Status{Time: t0, States: map[inspect.TCPState]int{}}
	for i := range n {
		w := inspect.Workload{Kind: inspect.KindUnit, Unit: fmt.Sprintf("u%03d.service", i)}
		p := ProcStatus{ProcKey: ProcKey{PID: 1000 + i}, Name: "svc", Workload: w, WorkloadName: w.Name("svc"),
			States: map[inspect.TCPState]int{}, FDs: 100, FDLimit: 128, ETA: time.Duration(i+1) * time.Minute,
			Oldest: map[inspect.TCPState]time.Duration{inspect.CloseWait: time.Minute}}
		for _, s := range inspect.States {
			p.States[s] = 1
			p.Sockets++
			st.States[s]++
		}
		st.Processes = append(st.Processes, p)
		st.Workloads = append(st.Workloads, WorkloadStatus{Name: p.WorkloadName, Workload: w, Processes: 1,
			Exits: []Exit{{ProcKey: ProcKey{PID: 100 + i}, At: t0, FDs: 128, FDLimit: 128}}})
	}
	return st
}

// TestExporterBound: 200 workloads export at most MaxSeries(cap) series,
// every one of a workload's families filled: the documented cap is exact.
func TestExporterBound(t *testing.T) {
	for _, tt := range []struct {
		max   int
		byPID bool
	}{{DefaultMaxWorkloads, false}, {1, false}, {10, true}, {500, false}} {
		e := NewExporter(tt.max, tt.byPID)
		e.Update(boundStatus(200))
		series := gather(t, e)
		n := 0
		for _, gs := range series {
			n += len(gs)
		}
		groups := min(tt.max, 200)
		if tt.max < 200 {
			groups++ // the roll-up
		}
		want := MaxSeries(groups - 1) // groups of full series, counting the roll-up as MaxSeries does
		if n != want || n > MaxSeries(tt.max) {
			t.Errorf("--max-workloads %d (pid label %v): %d series, want %d, at most MaxSeries %d", tt.max, tt.byPID, n, want, MaxSeries(tt.max))
		}
		if got, want := one(t, series, metrics.WorkloadsRolledUp.Name, ""), float64(max(0, 200-tt.max)); got != want {
			t.Errorf("--max-workloads %d: rolled up %v, want %v", tt.max, got, want)
		}
		// The soonest limits are the worst: u000 first.
		if tt.max < 200 && len(find(series, metrics.WorkloadProcesses.Name, "u000.service")) != 1 {
			t.Errorf("--max-workloads %d: u000.service, the soonest to its limit, has no series of its own", tt.max)
		}
	}
	if got := MaxSeries(DefaultMaxWorkloads); got != 943 {
		t.Errorf("MaxSeries(%d) = %d, want 943 (51 × 18 + 25) as the README and --max-workloads say", DefaultMaxWorkloads, got)
	}
}
