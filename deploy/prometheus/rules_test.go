// Package prometheus holds sockleak's Prometheus alerting rules and their
// promtool unit tests. Its test parses the rules and checks that every
// sockleak metric they use is one sockleak exports, and runs promtool's
// unit tests of them where promtool is installed (.ci/run installs it).
package prometheus

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/sockleak/sockleak/internal/metrics"
	"github.com/sockleak/sockleak/watch"
)

// ruleFile is Prometheus's rule file format
// (https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/),
// decoded strictly: an unknown or misspelt field is an error, as promtool
// makes it.
type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			KeepFiring  string            `yaml:"keep_firing_for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

var (
	// Parts of PromQL that are not metric names: strings, label
	// matchers, ranges and the label lists of by, without, on, ignoring,
	// group_left and group_right.
	quoted      = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	matchers    = regexp.MustCompile(`\{[^}]*\}`)
	ranges      = regexp.MustCompile(`\[[^\]]*\]`)
	labelLists  = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	numbers     = regexp.MustCompile(`\b[0-9][0-9a-zA-Z_.]*`) // 0.5, 1e3, and durations: 5m
	identifiers = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	keywords    = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
		"group_left", "group_right", "inf", "nan"}
	alertName = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)
	// external are the metrics the rules read that others export:
	// Prometheus's own up, and node_exporter's textfile collector's.
	external = []string{"up", "node_textfile_mtime_seconds"}
)

// metricNames returns the metric names a PromQL expression reads.
func metricNames(expr string) []string {
	e := quoted.ReplaceAllString(expr, " ")
	e = matchers.ReplaceAllString(e, " ")
	e = ranges.ReplaceAllString(e, " ")
	e = labelLists.ReplaceAllString(e, " ")
	e = numbers.ReplaceAllString(e, " ")
	var out []string
	for _, m := range identifiers.FindAllStringSubmatch(e, -1) {
		id := strings.TrimSpace(strings.TrimSuffix(m[0], "("))
		switch {
		case m[1] != "": // a function call
		case slices.Contains(keywords, strings.ToLower(id)):
		default:
			out = append(out, id)
		}
	}
	return out
}

func TestMetricNamesOfExpr(t *testing.T) {
	got := metricNames(`sum by (name, pid) (rate(sockleak_a{state="x y"}[5m])) / on (pid) group_left(name) sockleak_b > 0.5 and time() - c_d offset 5m`)
	if want := []string{"sockleak_a", "sockleak_b", "c_d"}; !slices.Equal(got, want) {
		t.Errorf("metricNames = %v, want %v", got, want)
	}
}

func TestRules(t *testing.T) {
	b, err := os.ReadFile("sockleak-rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("sockleak-rules.yml: %v", err)
	}
	if len(f.Groups) == 0 {
		t.Fatal("no rule groups")
	}
	used := map[string]bool{}
	seen := map[string]bool{}
	for _, g := range f.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: want a name and rules", g.Name)
		}
		for _, r := range g.Rules {
			name := r.Alert + r.Record
			switch {
			case (r.Alert == "") == (r.Record == ""):
				t.Errorf("rule %q: want exactly one of alert and record", name)
			case r.Alert != "" && !alertName.MatchString(r.Alert):
				t.Errorf("alert %q: want a CamelCase name", r.Alert)
			case seen[name]:
				t.Errorf("alert %q twice", name)
			}
			seen[name] = true
			for _, d := range []string{r.For, r.KeepFiring} {
				if _, err := model.ParseDuration(d); d != "" && err != nil {
					t.Errorf("alert %s: %v", name, err)
				}
			}
			if r.Alert != "" {
				if s := r.Labels["severity"]; !slices.Contains([]string{"info", "warning", "critical"}, s) {
					t.Errorf("alert %s: severity %q, want info, warning or critical", name, s)
				}
				if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
					t.Errorf("alert %s: want a summary and a description", name)
				}
			}
			if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") || strings.Count(r.Expr, "{") != strings.Count(r.Expr, "}") {
				t.Errorf("alert %s: unbalanced expression %q", name, r.Expr)
			}
			metrics := metricNames(r.Expr)
			if len(metrics) == 0 {
				t.Errorf("alert %s reads no metric: %q", name, r.Expr)
			}
			for _, m := range metrics {
				used[m] = true
				if !slices.Contains(watch.MetricNames, m) && !slices.Contains(external, m) {
					t.Errorf("alert %s uses %s, which sockleak watch does not export", name, m)
				}
			}
		}
	}
	// The metrics an operator most needs are covered.
	for _, m := range append([]string{metrics.WorkloadSockets.Name, metrics.WorkloadCloseWaitOldest.Name,
		metrics.WorkloadSecondsToFDLimit.Name, metrics.WorkloadFDUsage.Name,
		metrics.SampleErrors.Name, metrics.ScanTimestamp.Name}, external...) {
		if !used[m] {
			t.Errorf("no alert uses %s", m)
		}
	}
}

// TestPromtool runs promtool's own checks: the rules load, and their unit
// tests (sockleak-rules_test.yml) pass, among them a leaker that restarts
// every 20 minutes, which must fire.
func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (.ci/run installs Debian's prometheus package for it)")
	}
	for _, args := range [][]string{{"check", "rules", "sockleak-rules.yml"}, {"test", "rules", "sockleak-rules_test.yml"}} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
