package inspect

import (
	"io"
	"os"
	"strconv"
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
// often a process racing its exit, not worth a warning.
func parseCgroup(data []byte) Workload {
	if len(data) > maxCgroupFile {
		data = data[:maxCgroupFile]
	}
	path := cgroupPath(string(data))
	if path == "" {
		return Workload{}
	}
	w := Workload{Kind: KindProcess, Cgroup: path}
	for _, p := range strings.Split(path, "/") {
		systemdPart(&w, p)
		containerPart(&w, p)
		podPart(&w, p)
	}
	return w
}

// systemdPart reads one path element as a systemd slice or unit.
func systemdPart(w *Workload, p string) {
	switch {
	case strings.HasSuffix(p, ".slice"):
		w.Slice = p
	case strings.HasPrefix(p, "user@") && strings.HasSuffix(p, ".service"):
		w.UserManager, w.Unit, w.Kind = p, p, KindUnit
	case strings.HasSuffix(p, ".service") || strings.HasSuffix(p, ".scope"):
		w.Unit, w.Kind = p, KindUnit
		if strings.HasPrefix(p, "session-") {
			w.Kind = KindProcess
		}
	}
}

// scopeRuntimes maps a container scope's prefix to its runtime; the
// conmon scopes are the monitor, not the container.
var scopeRuntimes = []struct{ prefix, runtime string }{
	{"docker-", "docker"},
	{"libpod-", "podman"},
	{"cri-containerd-", "containerd"},
	{"crio-", "cri-o"},
}

// containerPart reads one path element as a container: a runtime's
// scope, or a bare 64-hex id (cgroupfs driver, /docker/ID).
func containerPart(w *Workload, p string) {
	if isContainerID(p) {
		w.ContainerID = p
		if w.Kind != KindPod {
			w.Kind = KindContainer
		}
		return
	}
	id, ok := strings.CutSuffix(p, ".scope")
	if !ok || strings.Contains(id, "conmon-") {
		return
	}
	for _, r := range scopeRuntimes {
		if rest, ok := strings.CutPrefix(id, r.prefix); ok && isContainerID(rest) {
			w.ContainerID, w.Runtime = rest, r.runtime
			if w.PodUID == "" {
				w.Kind = KindContainer
			} else {
				w.Kind = KindPod
			}
			return
		}
	}
}

// podPart reads one path element as a Kubernetes pod or QoS cgroup, of
// the systemd driver (kubepods-burstable-pod<UID_>.slice) or cgroupfs
// (pod<UID>).
func podPart(w *Workload, p string) {
	name := strings.TrimSuffix(p, ".slice")
	for _, q := range []string{"burstable", "besteffort"} {
		if name == q || strings.HasSuffix(name, "kubepods-"+q) {
			w.QoSClass = q
		}
	}
	i := strings.LastIndex(name, "pod")
	if i < 0 || !(i == 0 || strings.HasSuffix(name[:i], "-")) || !strings.Contains(name, "kubepods") && i != 0 {
		return
	}
	uid := strings.ReplaceAll(name[i+3:], "_", "-")
	if len(uid) != 36 || strings.Count(uid, "-") != 4 {
		return
	}
	w.PodUID, w.Kind = uid, KindPod
	if w.QoSClass == "" {
		w.QoSClass = "guaranteed"
	}
}

// isContainerID says whether s is a 64-hex-digit container id.
func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// readWorkload reads PID/cgroup, bounded, into a Workload. A missing,
// unreadable or odd file gives the zero Workload and no warning: identity
// is best-effort, and the usual cause is the process racing its exit (a
// fixture or old tree simply has no cgroup file).
func (fsys FS) readWorkload(pid int) Workload {
	if fsys.native {
		return Workload{} // no cgroups: each process is its own workload
	}
	f, err := os.Open(fsys.path(strconv.Itoa(pid), "cgroup"))
	if err != nil {
		return Workload{}
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCgroupFile))
	if err != nil {
		return Workload{}
	}
	return parseCgroup(b)
}
