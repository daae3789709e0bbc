package inspect

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// workloadTree copies the healthy fixture and gives its processes cgroups:
// the nginx master and workers a systemd service, sshd a Kubernetes pod
// (systemd driver), pid 1 none (no cgroup file: a tree from before).
func workloadTree(t *testing.T) FS {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("cp", "-a", filepath.Join("..", "testdata", "healthy", "proc"), dir).CombinedOutput(); err != nil {
		t.Fatalf("copy the fixture: %v\n%s", err, out)
	}
	root := filepath.Join(dir, "proc")
	cgroups := map[string]string{
		"900": "0::/system.slice/nginx.service\n",
		"901": "12:pids:/system.slice/nginx.service\n1:name=systemd:/system.slice/nginx.service\n", // cgroup v1
		"902": "0::/system.slice/nginx.service\n",
		"700": "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f1e2d3c_4b5a_6978_8a9b_0c1d2e3f4a5b.slice/cri-containerd-" +
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.scope\n",
	}
	for pid, text := range cgroups {
		if err := os.WriteFile(filepath.Join(root, pid, "cgroup"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The kubelet's files, on the node's root seen through pid 1: the
	// pod's container by id, and another pod by UID only.
	logs := filepath.Join(root, "1", "root", "var", "log")
	for _, d := range []string{
		"containers/api-7d9f_shop_app-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.log",
		"containers/not_a-log", "containers/x_y-zz.log", // not the kubelet's pattern: passed over
		"pods/shop_api-7d9f_0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
	} {
		if err := os.MkdirAll(filepath.Join(logs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fsys, err := NewFS(root)
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func TestScanWorkloads(t *testing.T) {
	snap := scanFixture(t, workloadTree(t), Options{})
	got := map[int]string{}
	for _, p := range snap.Processes {
		got[p.PID] = string(p.Workload.Kind) + " " + p.WorkloadName()
	}
	want := map[int]string{
		1:   " systemd", // no cgroup file: the zero workload, named by the process
		900: "unit nginx.service", 901: "unit nginx.service", 902: "unit nginx.service",
		700: "pod shop/api-7d9f/app", // the kubelet's names
	}
	for pid, w := range want {
		if _, shown := got[pid]; shown && got[pid] != w {
			t.Errorf("pid %d: workload %q, want %q", pid, got[pid], w)
		}
	}
	for _, p := range snap.Processes {
		if p.PID == 700 && p.Workload.ContainerID != "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
			t.Errorf("sshd's container id = %q", p.Workload.ContainerID)
		}
	}
	if got[900] == "" || got[700] == "" {
		t.Fatalf("processes 900 and 700 not in the snapshot: %v", got)
	}
}

func TestScanSelectsWorkload(t *testing.T) {
	fsys := workloadTree(t)
	for _, tc := range []struct {
		pattern string
		want    []int
	}{
		{"nginx.service", []int{900, 901, 902}},
		{"nginx.*", []int{900, 901, 902}},
		{"0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b", []int{700}}, // the pod UID
		{"aaaaaa", []int{700}},                               // a container id prefix
	} {
		snap := scanFixture(t, fsys, Options{Workloads: []string{tc.pattern}})
		var pids []int
		for _, p := range snap.Processes {
			pids = append(pids, p.PID)
		}
		slices.Sort(pids)
		if !slices.Equal(pids, tc.want) || !snap.Selected {
			t.Errorf("--workload %q: processes %v (selected %v), want %v", tc.pattern, pids, snap.Selected, tc.want)
		}
		for _, s := range snap.Sockets {
			if !slices.ContainsFunc(s.PIDs, func(pid int) bool { return slices.Contains(tc.want, pid) }) {
				t.Errorf("--workload %q: socket %v held by %v, not by the workload", tc.pattern, s.Local, s.PIDs)
			}
		}
	}
	_, err := Scan(t.Context(), fsys, Options{Workloads: []string{"redis.service"}})
	if !errors.Is(err, ErrNoMatch) || err.Error() != `no process matches --workload "redis.service"` {
		t.Errorf("--workload redis.service: error %v, want ErrNoMatch naming the flag", err)
	}
}

func TestParseContainerLog(t *testing.T) {
	id := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	ns, pod, ctr, got, ok := parseContainerLog("web-5d8f-x2x_default_nginx-" + id + ".log")
	if !ok || ns != "default" || pod != "web-5d8f-x2x" || ctr != "nginx" || got != id {
		t.Errorf("parseContainerLog = %q %q %q %q %v", ns, pod, ctr, got, ok)
	}
	for _, bad := range []string{"", ".log", "a_b_c-" + id[1:] + ".log", "a_b-" + id + ".log", "a_b_c_d-" + id + ".log",
		"a_b_c-" + strings.ToUpper(id[:63]) + "g.log", "a_b_c-" + id} {
		if _, _, _, _, ok := parseContainerLog(bad); ok {
			t.Errorf("parseContainerLog(%q) ok, want not", bad)
		}
	}
}

func FuzzParseContainerLog(f *testing.F) {
	f.Add("web-5d8f-x2x_default_nginx-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log")
	f.Add("a_b_c-.log")
	f.Fuzz(func(t *testing.T, name string) {
		ns, pod, ctr, id, ok := parseContainerLog(name)
		if ok && (len(id) != 64 || ns+pod+ctr == "" || pod+"_"+ns+"_"+ctr+"-"+id+".log" != name) {
			t.Errorf("parseContainerLog(%q) = %q %q %q %q: not the name's parts", name, ns, pod, ctr, id)
		}
	})
}
