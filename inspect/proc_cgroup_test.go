package inspect

import (
	"strings"
	"testing"
)

var (
	cgID   = strings.Repeat("ab12", 16)
	cgUID  = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	cgUIDu = strings.ReplaceAll(cgUID, "-", "_")
)

func TestParseCgroupUnit(t *testing.T) {
	cases := []struct {
		in   string
		want Workload
	}{
		{"0::/system.slice/leaky.service\n", Workload{Kind: KindUnit, Unit: "leaky.service", Slice: "system.slice", Cgroup: "/system.slice/leaky.service"}},
		{"0::/user.slice/user-1000.slice/session-3.scope\n", Workload{Kind: KindProcess, Unit: "session-3.scope", Slice: "user-1000.slice", Cgroup: "/user.slice/user-1000.slice/session-3.scope"}},
		{"3:cpu:/\n1:name=systemd:/system.slice/a.service\n0::/\n", Workload{Kind: KindUnit, Unit: "a.service", Slice: "system.slice", Cgroup: "/system.slice/a.service"}},
		{"0::/system.slice/docker-" + cgID + ".scope\n", Workload{Kind: KindContainer, Unit: "docker-" + cgID + ".scope", Slice: "system.slice", Runtime: "docker", ContainerID: cgID, Cgroup: "/system.slice/docker-" + cgID + ".scope"}},
		{"0::/docker/" + cgID + "\n", Workload{Kind: KindContainer, ContainerID: cgID, Cgroup: "/docker/" + cgID}},
		{"0::/machine.slice/libpod-conmon-" + cgID + ".scope\n", Workload{Kind: KindUnit, Unit: "libpod-conmon-" + cgID + ".scope", Slice: "machine.slice", Cgroup: "/machine.slice/libpod-conmon-" + cgID + ".scope"}},
		{"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + cgUIDu + ".slice/cri-containerd-" + cgID + ".scope\n",
			Workload{Kind: KindPod, Unit: "cri-containerd-" + cgID + ".scope", Slice: "kubepods-burstable-pod" + cgUIDu + ".slice", Runtime: "containerd", ContainerID: cgID, PodUID: cgUID, QoSClass: "burstable",
				Cgroup: "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + cgUIDu + ".slice/cri-containerd-" + cgID + ".scope"}},
		{"0::/../../kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod" + cgUIDu + ".slice\n",
			Workload{Kind: KindPod, Slice: "kubelet-kubepods-pod" + cgUIDu + ".slice", PodUID: cgUID, QoSClass: "guaranteed", Cgroup: "/../../kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod" + cgUIDu + ".slice"}},
		{"0::/kubepods/besteffort/pod" + cgUID + "/" + cgID + "\n", Workload{Kind: KindPod, ContainerID: cgID, PodUID: cgUID, QoSClass: "besteffort", Cgroup: "/kubepods/besteffort/pod" + cgUID + "/" + cgID}},
		{"0::/weird/place\n", Workload{Kind: KindProcess, Cgroup: "/weird/place"}},
		{"0::/\n", Workload{}},
		{"", Workload{}},
	}
	for _, c := range cases {
		if got := parseCgroup([]byte(c.in)); got != c.want {
			t.Errorf("parseCgroup(%q) = %+v, want %+v", c.in, got, c.want)
		}
	}
}

func FuzzParseCgroup(f *testing.F) {
	f.Add([]byte("0::/system.slice/leaky.service\n"))
	f.Add([]byte("1:name=systemd:/docker/abc\n0::/\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w := parseCgroup(data)
		if w.Cgroup == "/" {
			t.Fatalf("root cgroup chosen: %+v", w)
		}
	})
}
