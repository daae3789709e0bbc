package inspect

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/sockleak/sockleak/internal/livetest"
)

// Where this machine mounts cgroup2 and cgroup v1's name=systemd
// hierarchy; the test skips when neither is writable.
var (
	cgroup2Mount = "/sys/fs/cgroup/unified"
	systemdMount = "/sys/fs/cgroup/systemd"
)

// inCgroup starts a sleeping child in the cgroup rel (made, with its
// parents, under mount) and returns its pid; cleanup kills it and removes
// the directories, the deepest first.
func inCgroup(t *testing.T, mount, rel string) int {
	t.Helper()
	dir := filepath.Join(mount, rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup under %s: %v", mount, err)
	}
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		for d := dir; d != mount && d != filepath.Dir(mount); d = filepath.Dir(d) {
			if err := os.Remove(d); err != nil && !os.IsNotExist(err) {
				// A sibling's cleanup removes a shared parent later.
				return
			}
		}
	})
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		t.Fatalf("move pid %d into %s: %v", cmd.Process.Pid, dir, err)
	}
	return cmd.Process.Pid
}

// TestWorkloadLiveCgroups: processes in real cgroups named like a systemd
// service (cgroup2, and v1's name=systemd hierarchy) and like Kubernetes
// pods of both cgroup drivers are scanned with their unit, pod UID and
// container id.
func TestWorkloadLiveCgroups(t *testing.T) {
	livetest.Skip(t)
	if os.Geteuid() != 0 {
		t.Skip("making cgroups needs root")
	}
	if _, err := os.Stat(filepath.Join(cgroup2Mount, "cgroup.procs")); err != nil {
		t.Skipf("no cgroup2 at %s: %v", cgroup2Mount, err)
	}
	top := fmt.Sprintf("sockleak-test-%d", os.Getpid())
	const (
		uid = "5b2c1d0e-8f7a-4c3b-9d2e-1f0a9b8c7d6e"
		cid = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	)
	uidU := "5b2c1d0e_8f7a_4c3b_9d2e_1f0a9b8c7d6e"
	cases := []struct {
		mount, rel string
		want       Workload // the fields compared
	}{
		{cgroup2Mount, top + "/system.slice/sockleak-live.service",
			Workload{Kind: KindUnit, Unit: "sockleak-live.service", Slice: "system.slice"}},
		{cgroup2Mount, top + "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + uidU + ".slice/cri-containerd-" + cid + ".scope",
			Workload{Kind: KindPod, PodUID: uid, ContainerID: cid, QoSClass: "burstable"}},
		{cgroup2Mount, top + "/kubepods/besteffort/pod" + uid + "/" + cid,
			Workload{Kind: KindPod, PodUID: uid, ContainerID: cid, QoSClass: "besteffort"}},
		{systemdMount, top + "/system.slice/sockleak-v1.service",
			Workload{Kind: KindUnit, Unit: "sockleak-v1.service", Slice: "system.slice"}},
	}
	for _, tc := range cases {
		t.Run(filepath.Base(tc.rel), func(t *testing.T) {
			if _, err := os.Stat(filepath.Join(tc.mount, "cgroup.procs")); err != nil {
				t.Skipf("no cgroup hierarchy at %s: %v", tc.mount, err)
			}
			pid := inCgroup(t, tc.mount, tc.rel)
			fsys, err := NewFS("/proc")
			if err != nil {
				t.Fatal(err)
			}
			snap, err := Scan(t.Context(), fsys, Options{PIDs: []int{pid}})
			if err != nil || len(snap.Processes) != 1 {
				t.Fatalf("Scan --pid %d: %v, %d processes", pid, err, len(snap.Processes))
			}
			w := snap.Processes[0].Workload
			got := Workload{Kind: w.Kind, Unit: w.Unit, Slice: w.Slice, PodUID: w.PodUID, ContainerID: w.ContainerID, QoSClass: w.QoSClass}
			if tc.want.Kind == KindPod {
				got.Unit, got.Slice = "", "" // the scope and pod slice: not compared
			}
			if got != tc.want {
				t.Errorf("workload of pid %d in %s:\n got %+v\nwant %+v (cgroup %q)", pid, tc.rel, got, tc.want, w.Cgroup)
			}
			if !w.Match(tc.want.Unit+tc.want.PodUID, "sleep") {
				t.Errorf("--workload %q does not select it", tc.want.Unit+tc.want.PodUID)
			}
		})
	}
}
