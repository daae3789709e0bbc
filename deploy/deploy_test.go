// Package deploy holds the files that install sockleak: a systemd unit and
// timer for sockleak check, and a Kubernetes DaemonSet for sockleak watch.
// Its tests hold them to least privilege.
package deploy

import (
	"os"
	"os/exec"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestSystemdUnitExposure: systemd's own rating of the check unit's
// sandbox stays at 3.0 ("OK") or lower. The threshold is in tenths.
func TestSystemdUnitExposure(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	out, err := exec.Command("systemd-analyze", "security", "--offline=true", "--threshold=30",
		"systemd/sockleak-check.service").CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security rates the unit over 3.0 (%v):\n%s", err, out)
	}
}

// TestDaemonSetPrivileges: the DaemonSet adds the two capabilities that
// reading other processes' descriptors needs and nothing more, runs under
// the runtime's seccomp profile, and carries no service account token.
func TestDaemonSetPrivileges(t *testing.T) {
	b, err := os.ReadFile("kubernetes/sockleak-daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ds struct {
		Spec struct {
			Template struct {
				Spec struct {
					AutomountServiceAccountToken *bool `yaml:"automountServiceAccountToken"`
					SecurityContext              struct {
						SeccompProfile struct {
							Type string `yaml:"type"`
						} `yaml:"seccompProfile"`
					} `yaml:"securityContext"`
					Containers []struct {
						Name            string `yaml:"name"`
						SecurityContext struct {
							AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
							ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
							Privileged               bool  `yaml:"privileged"`
							Capabilities             struct {
								Drop []string `yaml:"drop"`
								Add  []string `yaml:"add"`
							} `yaml:"capabilities"`
						} `yaml:"securityContext"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &ds); err != nil {
		t.Fatal(err)
	}
	pod := ds.Spec.Template.Spec
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken is not false: sockleak needs no API token")
	}
	if pod.SecurityContext.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("seccompProfile %q, want RuntimeDefault", pod.SecurityContext.SeccompProfile.Type)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want sockleak alone", len(pod.Containers))
	}
	sc := pod.Containers[0].SecurityContext
	add := slices.Sorted(slices.Values(sc.Capabilities.Add))
	if !slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) || !slices.Equal(add, []string{"DAC_READ_SEARCH", "SYS_PTRACE"}) {
		t.Errorf("capabilities drop %v add %v; want ALL dropped, DAC_READ_SEARCH and SYS_PTRACE added", sc.Capabilities.Drop, add)
	}
	if sc.Privileged || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || !sc.ReadOnlyRootFilesystem {
		t.Errorf("container security context %+v: want unprivileged, no privilege escalation, a read-only root", sc)
	}
}
