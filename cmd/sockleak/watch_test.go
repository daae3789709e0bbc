package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestDaemonSetArgs: the Kubernetes example runs flags sockleak watch
// takes, with the host's /proc mounted where --proc-root points.
func TestDaemonSetArgs(t *testing.T) {
	b, err := os.ReadFile("../../deploy/kubernetes/sockleak-daemonset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var ds struct {
		Kind string
		Spec struct {
			Template struct {
				Spec struct {
					HostPID    bool `yaml:"hostPID"`
					Containers []struct {
						Args         []string
						VolumeMounts []struct {
							Name      string
							MountPath string `yaml:"mountPath"`
							ReadOnly  bool   `yaml:"readOnly"`
						} `yaml:"volumeMounts"`
					}
				}
			}
		}
	}
	if err := yaml.Unmarshal(b, &ds); err != nil {
		t.Fatal(err)
	}
	if ds.Kind != "DaemonSet" || !ds.Spec.Template.Spec.HostPID || len(ds.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("want a DaemonSet with hostPID and one container: %+v", ds)
	}
	ctr := ds.Spec.Template.Spec.Containers[0]
	if len(ctr.Args) == 0 || ctr.Args[0] != "watch" {
		t.Fatalf("args = %v, want sockleak watch", ctr.Args)
	}
	var got *WatchOptions
	c := newWatchCmd(func(_ context.Context, o *WatchOptions) error { got = o; return nil })
	args := strings.Join(ctr.Args[1:], "\x00")
	c.SetArgs(strings.Split(strings.ReplaceAll(args, "$(NODE_IP)", "10.0.0.1"), "\x00"))
	if err := c.Execute(); err != nil {
		t.Fatalf("sockleak %v: %v", ctr.Args, err)
	}
	if got.Listen != "10.0.0.1:9816" || got.Interval != 15*time.Second {
		t.Errorf("listen %q, interval %v", got.Listen, got.Interval)
	}
	mounted := false
	for _, m := range ctr.VolumeMounts {
		mounted = mounted || (m.MountPath == got.Scan.ProcRoot && m.ReadOnly)
	}
	if got.Scan.ProcRoot == "/proc" || !mounted {
		t.Errorf("--proc-root %q is not the host's /proc mounted read-only: %+v", got.Scan.ProcRoot, ctr.VolumeMounts)
	}
}
