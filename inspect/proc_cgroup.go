package inspect

import (
	"strings"
)

// maxCgroupFile bounds the read of PID/cgroup: a real one is a few
// hundred bytes even with every v1 controller.
const maxCgroupFile = 64 << 10

// cgroupPath picks the path that identifies the process from the text of
// PID/cgroup: the v2 line when not "/", else v1 name=systemd's, else the
// first controller's path that is not "/". "" when none.
func cgroupPath(data string) string {
	var v2, sd, first string
	for _, line := range strings.Split(data, "\n") {
		id, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		ctl, path, ok := strings.Cut(rest, ":")
		if !ok || path == "" {
			continue
		}
		switch {
		case id == "0" && ctl == "":
			v2 = path
		case ctl == "name=systemd":
			sd = path
		case first == "" && path != "/":
			first = path
		}
	}
	for _, p := range []string{v2, sd, first} {
		if p != "" && p != "/" {
			return p
		}
	}
	return ""
}

// parseCgroup derives a Workload from the text of PID/cgroup. It never
// fails: identity is best-effort, and a file that is short or odd is most
// often a process racing its exit, not worth a warning. Work in progress:
// only the systemd unit and slice are derived yet (see the report).
func parseCgroup(data []byte) Workload {
	if len(data) > maxCgroupFile {
		data = data[:maxCgroupFile]
	}
	path := cgroupPath(string(data))
	if path == "" {
		return Workload{}
	}
	w := Workload{Kind: KindProcess, Cgroup: path}
	parts := strings.Split(path, "/")
	for _, p := range parts {
		switch {
		case strings.HasSuffix(p, ".slice"):
			w.Slice = p
		case strings.HasPrefix(p, "user@") && strings.HasSuffix(p, ".service"):
			w.UserManager = p
			w.Unit = p
			w.Kind = KindUnit
		case strings.HasSuffix(p, ".service") || strings.HasSuffix(p, ".scope"):
			w.Unit = p
			w.Kind = KindUnit
			if strings.HasPrefix(p, "session-") {
				w.Kind = KindProcess
			}
		}
	}
	return w
}
