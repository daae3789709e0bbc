package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sockleak/sockleak/inspect"
)

// workloadSnapshot: a leaking service of two processes (a parent and its
// forked worker, sharing one socket), a pod's container and a plain
// process.
func workloadSnapshot() *inspect.Snapshot {
	unit := inspect.Workload{Kind: inspect.KindUnit, Unit: "leaky.service", Slice: "system.slice"}
	pod := inspect.Workload{Kind: inspect.KindPod, PodUID: "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b", Namespace: "shop", Pod: "api-7d9f", Container: "app"}
	a, b := proc(4242, "python3", 1990, 2048), proc(4243, "python3", 30, 2048)
	a.Cmdline, b.Cmdline = "python3 client.py", "python3 client.py --worker"
	a.Workload, b.Workload = unit, unit
	c := proc(5000, "java", 500, 1000)
	c.Workload = pod
	d := proc(6000, "sshd", 5, 1024)
	shared := cwTo(1, "10.0.0.9:80", 4242)
	shared[0].PIDs = []int{4242, 4243}
	return snapshot([]inspect.Process{a, b, c, d}, shiftInodes(cwTo(3, "10.0.0.5:7000", 4242), 100),
		shiftInodes(shared, 200), shiftInodes(cwTo(2, "10.0.0.6:80", 5000), 300))
}

func TestWorkloadsGroup(t *testing.T) {
	groups := Workloads(workloadSnapshot())
	byName := map[string]WorkloadGroup{}
	for _, g := range groups {
		byName[g.Name] = g
	}
	u, ok := byName["leaky.service"]
	if !ok || len(u.Processes) != 2 {
		t.Fatalf("groups %v: want leaky.service with its two processes", groups)
	}
	// The socket both processes hold counts once.
	if u.States[inspect.CloseWait] != 4 || u.Sockets != 4 || u.FDs != 1990+30 {
		t.Errorf("leaky.service: %v, %d sockets, %d fds; want 4 CLOSE_WAIT, 4 sockets, 2020 fds", u.States, u.Sockets, u.FDs)
	}
	if u.Worst < 0 || u.Processes[u.Worst].PID != 4242 || int(u.FDUsage) != 97 {
		t.Errorf("leaky.service: worst %d at %.1f%%, want pid 4242 at 97%%", u.Worst, u.FDUsage)
	}
	if _, ok := byName["shop/api-7d9f/app"]; !ok {
		t.Errorf("no group for the pod's container: %v", groups)
	}
	if _, ok := byName["sshd"]; !ok {
		t.Errorf("a plain process is its own workload, by name: %v", groups)
	}
}

// TestWorkloadShown: findings and check lead with the workload, the table
// has a WORKLOAD column, and a plain process reads as before.
func TestWorkloadShown(t *testing.T) {
	r := Analyze(workloadSnapshot(), DefaultThresholds)
	f := findingOf(t, r, "close_wait")
	if !strings.HasPrefix(f.Message, "leaky.service (pid 4242, python3 client.py) is not closing") {
		t.Errorf("finding %q: want it to name the service, then the pid and process", f.Message)
	}
	vs := Check(r, CheckThresholds{States: cwThreshold(0, 0)})
	var text bytes.Buffer
	for _, v := range vs {
		text.WriteString(v.Message() + "\n")
	}
	for _, want := range []string{"leaky.service (pid 4242, python3 client.py) 4 CLOSE_WAIT", "shop/api-7d9f/app (pid 5000, java) 2 CLOSE_WAIT"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("check's lines do not say %q:\n%s", want, &text)
		}
	}
	var table bytes.Buffer
	if err := Table(&table, r, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"WORKLOAD", "leaky.service", "shop/api-7d9f/app"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, &table)
		}
	}
}
