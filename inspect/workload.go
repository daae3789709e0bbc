package inspect

import (
	"path"
	"strings"
)

// WorkloadKind says what a process belongs to, as its cgroup tells.
type WorkloadKind string

// The kinds of workload, the most specific first.
const (
	// KindPod is a container of a Kubernetes pod: the pod UID is in the
	// cgroup path (systemd and cgroupfs drivers both), the container id
	// too; the namespace, pod and container names where the node's own
	// files tell (see workload_names.go).
	KindPod WorkloadKind = "pod"
	// KindContainer is a container outside Kubernetes: Docker, Podman,
	// containerd, CRI-O; the id from its scope or cgroup directory.
	KindContainer WorkloadKind = "container"
	// KindUnit is a systemd service, or a scope that is not a login
	// session: system units and a user manager's units.
	KindUnit WorkloadKind = "unit"
	// KindProcess is anything else: the process's name identifies it (a
	// command in a login session's scope, a host without systemd, a
	// fixture tree without cgroup files).
	KindProcess WorkloadKind = "process"
)

// Workload is what a process belongs to beyond its PID: a systemd unit,
// a container, a Kubernetes pod. It outlives the process: a service that
// crashes and restarts, or a container the kubelet restarts, comes back
// as the same workload under a new PID. Every field but Kind is optional;
// all of them are the host's text (a unit or pod name is chosen by
// whoever started it) and must be escaped before they reach a terminal.
type Workload struct {
	Kind WorkloadKind `json:"kind"`
	// Unit is the innermost systemd unit: "leaky.service",
	// "docker-<id>.scope", "session-3.scope".
	Unit string `json:"unit,omitempty"`
	// Slice is the innermost slice that holds the unit: "system.slice",
	// "user-1000.slice", "kubepods-burstable-pod<UID>.slice".
	Slice string `json:"slice,omitempty"`
	// UserManager is the user's systemd manager for a user unit,
	// "user@1000.service"; "" for a system unit.
	UserManager string `json:"user_manager,omitempty"`
	// Runtime is the container runtime where the cgroup names it:
	// "docker", "containerd", "cri-o", "podman"; "" when unknown.
	Runtime string `json:"runtime,omitempty"`
	// ContainerID is the container's id (64 hex digits, as the runtime
	// shows it).
	ContainerID string `json:"container_id,omitempty"`
	// PodUID is the Kubernetes pod's UID (with dashes, as the API shows
	// it).
	PodUID string `json:"pod_uid,omitempty"`
	// QoSClass is the pod's QoS class from its cgroup: "guaranteed",
	// "burstable" or "besteffort".
	QoSClass string `json:"qos_class,omitempty"`
	// Namespace, Pod and Container name a Kubernetes pod's container; for
	// a container outside Kubernetes, Container is the runtime's name for
	// it. Empty when the node's files do not tell (NamesFrom says where
	// they came from).
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	Container string `json:"container,omitempty"`
	// NamesFrom says which file gave Namespace, Pod and Container:
	// "kubelet" (/var/log/containers, /var/log/pods), "docker"
	// (config.v2.json); "" when none did.
	NamesFrom string `json:"names_from,omitempty"`
	// Cgroup is the process's cgroup path: the cgroup v2 path, else the
	// v1 name=systemd hierarchy's, else the first controller's.
	Cgroup string `json:"cgroup,omitempty"`
}

// Name is how the workload is shown and keyed, for a process named comm:
// it stays the same when the process restarts. A pod's container is
// "NAMESPACE/POD/CONTAINER", or "pod/UID" when the names are unknown (a
// container restart changes its id, not its pod); a container its name,
// or "RUNTIME:ID12"; a unit its name ("USER_MANAGER/UNIT" for a user
// unit); a process its name.
// Named reports whether the workload has a name of its own, a unit's,
// a container's or a pod's, which outlives its processes: what sockleak
// leads with when it names a process, and follows across restarts.
func (w *Workload) Named() bool {
	return w.Kind == KindUnit || w.Kind == KindContainer || w.Kind == KindPod
}

func (w *Workload) Name(comm string) string {
	switch w.Kind {
	case KindPod:
		if w.Namespace != "" && w.Pod != "" && w.Container != "" {
			return w.Namespace + "/" + w.Pod + "/" + w.Container
		}
		return "pod/" + w.PodUID
	case KindContainer:
		if w.Container != "" {
			return w.Container
		}
		rt := w.Runtime
		if rt == "" {
			rt = "container"
		}
		return rt + ":" + ShortID(w.ContainerID)
	case KindUnit:
		if w.UserManager != "" && w.UserManager != w.Unit { // the manager itself is named once
			return w.UserManager + "/" + w.Unit
		}
		return w.Unit
	}
	return comm
}

// ShortID is a container id cut to the 12 digits that docker ps shows.
func ShortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// Match reports whether the pattern selects the workload of a process
// named comm (--workload). The pattern matches, as a glob (path.Match,
// where * does not cross a /), the workload's Name, its unit, its pod
// name, "NAMESPACE/POD", its container name or its pod UID; or it is a
// prefix of at least 4 hex digits of its container id.
func (w *Workload) Match(pattern, comm string) bool {
	if pattern == "" {
		return false
	}
	candidates := [...]string{w.Name(comm), w.Unit, w.Pod, w.Container, w.PodUID, w.Namespace + "/" + w.Pod}
	for _, c := range candidates {
		if c == "" || c == "/" {
			continue
		}
		if ok, err := path.Match(pattern, c); ok && err == nil {
			return true
		}
	}
	return len(pattern) >= 4 && isHex(pattern) && strings.HasPrefix(w.ContainerID, strings.ToLower(pattern))
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
