package inspect

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScanDockerNames: a Docker container is named from its
// config.v2.json (through pid 1's root, as on a node), so its name, which
// outlives its restarts, is its workload; a name Docker would not allow
// (hostile bytes, a bad first character) or a file that is not Docker's
// leaves it RUNTIME:ID12.
func TestScanDockerNames(t *testing.T) {
	const (
		web  = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		evil = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	)
	for _, tt := range []struct {
		id, config, want string
	}{
		{web, `{"ID":"` + web + `","Name":"/web-1","Config":{"Env":["A=1"]}}`, "container web-1 docker"},
		{evil, `{"Name":"/\u001b[31mred"}`, "container docker:cccccccccccc "},
		{evil, `{"Name":"/-x"}`, "container docker:cccccccccccc "},
		{evil, `{"Name":`, "container docker:cccccccccccc "},
		{evil, "", "container docker:cccccccccccc "}, // no file
	} {
		fsys := workloadTree(t)
		root := fsys.root
		if err := os.WriteFile(filepath.Join(root, "902", "cgroup"), []byte("0::/system.slice/docker-"+tt.id+".scope\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if tt.config != "" {
			dir := filepath.Join(root, "1", "root", "var", "lib", "docker", "containers", tt.id)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "config.v2.json"), []byte(tt.config), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		snap := scanFixture(t, fsys, Options{})
		got := ""
		for _, p := range snap.Processes {
			if p.PID == 902 {
				got = strings.Join([]string{string(p.Workload.Kind), p.WorkloadName(), p.Workload.NamesFrom}, " ")
			}
		}
		if got != tt.want {
			t.Errorf("config %q: pid 902 is %q, want %q", tt.config, got, tt.want)
		}
	}
}

func FuzzParseDockerConfig(f *testing.F) {
	f.Add([]byte(`{"Name":"/web-1"}`))
	f.Add([]byte(`{"Name":"/a\u0000b"}`))
	f.Add([]byte(`{"Name":5}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		name, ok := parseDockerConfig(data)
		if !ok {
			return
		}
		if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r < '-' || r > 'z' }) {
			t.Errorf("parseDockerConfig(%q) = %q: not a Docker name", data, name)
		}
	})
}
