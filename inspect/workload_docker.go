package inspect

import (
	"encoding/json"
	"io"
	"os"
	"strings"
)

// maxDockerConfig bounds the read of a container's config.v2.json: a few
// KiB to some hundreds (its environment and labels); past this it is not
// Docker's.
const maxDockerConfig = 4 << 20

// dockerName returns the name Docker gave the container with this id
// (64 hex digits, as the cgroup gave it), from its config.v2.json under
// the node's /var/lib/docker, read through the proc root's pid 1 as the
// kubelet's files are; "" when it cannot be read or is not a Docker
// name. A container keeps its name across restarts (docker restart, a
// restart policy) and Compose gives a recreated one the same name, so the
// name, not the id, is its key over time. Names are read once per scan
// and id.
func (n *podNames) dockerName(id string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if name, ok := n.docker[id]; ok {
		return name
	}
	if n.docker == nil {
		n.docker = map[string]string{}
	}
	name := ""
	if f, err := os.Open(n.fsys.path("1", "root", "var", "lib", "docker", "containers", id, "config.v2.json")); err == nil {
		data, err := io.ReadAll(io.LimitReader(f, maxDockerConfig+1))
		f.Close()
		if err == nil && len(data) <= maxDockerConfig {
			name, _ = parseDockerConfig(data)
		}
	}
	n.docker[id] = name
	return name
}

// parseDockerConfig returns the container name in a config.v2.json
// ("Name": "/web-1"), without its slash, if it is one Docker allows:
// [a-zA-Z0-9][a-zA-Z0-9_.-]*. Anything else (the file is the host's, but
// whoever can write it can write anything) is no name.
func parseDockerConfig(data []byte) (string, bool) {
	var c struct{ Name string }
	if err := json.Unmarshal(data, &c); err != nil {
		return "", false
	}
	name := strings.TrimPrefix(c.Name, "/")
	if name == "" || len(name) > 255 {
		return "", false
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case i > 0 && (r == '_' || r == '.' || r == '-'):
		default:
			return "", false
		}
	}
	return name, true
}
