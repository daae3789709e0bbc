package inspect

import (
	"os"
	"strings"
	"sync"
)

// maxLogEntries bounds the directory entries read from the kubelet's log
// directories: a node runs at most a few hundred pods.
const maxLogEntries = 1 << 16

// podNames tells a Kubernetes pod's namespace and name, and its
// containers' names, from the kubelet's own files, read through the proc
// root's pid 1 (the node's root: on the host, a host's /proc mounted
// elsewhere, or a fixture tree's proc/1/root). They need what reading pid
// 1's root needs: root, or CAP_SYS_PTRACE over it. The kubelet writes them
// for every runtime:
//   - /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log, a link per
//     container (its current and last terminated one): the container id to
//     all three names;
//   - /var/log/pods/NAMESPACE_POD_UID/, a directory per pod: the pod UID to
//     its namespace and name.
//
// Kubernetes names hold no "_", so the parts split cleanly. What is not
// used, and why (docs/workloads.md): the container's hostname (spec.hostname
// and host-network pods differ from the pod name, and the container writes
// its own /etc/hostname), the service account's namespace file (absent
// when the token is not mounted; the container can write it too).
type podNames struct {
	fsys       FS
	once       sync.Once
	containers map[string][3]string // container id -> namespace, pod, container
	pods       map[string][2]string // pod UID -> namespace, pod
	mu         sync.Mutex
	docker     map[string]string // container id -> its Docker name, "" for none
}

// fill sets w's Namespace, Pod and Container where the kubelet's files
// tell, for a pod's container, and a Docker container's Container from
// Docker's (dockerName); safe for concurrent use.
func (n *podNames) fill(w *Workload) {
	if n == nil {
		return
	}
	if w.Kind == KindContainer && w.Runtime == "docker" && w.Container == "" && len(w.ContainerID) == 64 && isHex(w.ContainerID) {
		if name := n.dockerName(w.ContainerID); name != "" {
			w.Container, w.NamesFrom = name, "docker"
		}
		return
	}
	if w.Kind != KindPod {
		return
	}
	n.once.Do(n.load)
	if c, ok := n.containers[w.ContainerID]; ok && w.ContainerID != "" {
		w.Namespace, w.Pod, w.Container, w.NamesFrom = c[0], c[1], c[2], "kubelet"
		return
	}
	if p, ok := n.pods[w.PodUID]; ok {
		w.Namespace, w.Pod, w.NamesFrom = p[0], p[1], "kubelet"
	}
}

func (n *podNames) load() {
	n.containers, n.pods = map[string][3]string{}, map[string][2]string{}
	for _, name := range n.list("containers") {
		if ns, pod, ctr, id, ok := parseContainerLog(name); ok {
			n.containers[id] = [3]string{ns, pod, ctr}
		}
	}
	for _, name := range n.list("pods") {
		if parts := strings.Split(name, "_"); len(parts) == 3 && len(parts[2]) == 36 {
			n.pods[parts[2]] = [2]string{parts[0], parts[1]}
		}
	}
}

// list names the entries of the node's /var/log/DIR, at most
// maxLogEntries; none when it cannot be read.
func (n *podNames) list(dir string) []string {
	f, err := os.Open(n.fsys.path("1", "root", "var", "log", dir))
	if err != nil {
		return nil
	}
	defer f.Close()
	names, _ := f.Readdirnames(maxLogEntries)
	return names
}

// parseContainerLog parses a /var/log/containers entry,
// "POD_NAMESPACE_CONTAINER-ID.log" with a 64-hex-digit ID.
func parseContainerLog(name string) (ns, pod, container, id string, ok bool) {
	base, found := strings.CutSuffix(name, ".log")
	if !found || len(base) < 66 || base[len(base)-65] != '-' {
		return "", "", "", "", false
	}
	id = base[len(base)-64:]
	parts := strings.Split(base[:len(base)-65], "_")
	if !isHex(id) || len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", "", false
	}
	return parts[1], parts[0], parts[2], id, true
}
