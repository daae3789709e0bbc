package inspect

import "testing"

func TestParseCgroupUnit(t *testing.T) {
	cases := []struct {
		in   string
		want Workload
	}{
		{"0::/system.slice/leaky.service\n", Workload{Kind: KindUnit, Unit: "leaky.service", Slice: "system.slice", Cgroup: "/system.slice/leaky.service"}},
		{"0::/user.slice/user-1000.slice/session-3.scope\n", Workload{Kind: KindProcess, Unit: "session-3.scope", Slice: "user-1000.slice", Cgroup: "/user.slice/user-1000.slice/session-3.scope"}},
		{"3:cpu:/\n1:name=systemd:/system.slice/a.service\n0::/\n", Workload{Kind: KindUnit, Unit: "a.service", Slice: "system.slice", Cgroup: "/system.slice/a.service"}},
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
