package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/internal/hostiletest"
	"github.com/sockleak/sockleak/internal/metrics"
	"github.com/sockleak/sockleak/internal/wording"
)

// What a local user can make a process's name and command line: invalid
// UTF-8 and an escape sequence (prctl(PR_SET_NAME)), and a newline that
// would forge a line of its own (argv[0], and the name gopsutil extends
// from it when the kernel's is 15 bytes long).
const (
	hostileName = "\xff\xfebad\x1b[31m"
	forged      = "\nSOCKLEAK OK - all fine"
	longName    = "aaaaaaaaaaaaaaa" + forged
)

// hostileSnapshot: two processes of the hostile name (told apart by
// their command lines) and one of the long name, all leaking, one
// listening with a queue; a hostile host name, user and warning.
func hostileSnapshot() *inspect.Snapshot {
	a, b, c := proc(66, hostileName, 1990, 2048), proc(67, hostileName, 40, 1024), proc(68, longName, 40, 1024)
	a.Cmdline, a.User = "/tmp/bad"+forged, "nobody\x1b[2J"
	// A unit is named by whoever started it: systemd-run --unit takes
	// most bytes.
	a.Workload = inspect.Workload{Kind: inspect.KindUnit, Unit: "bad\x1b[31m" + forged + ".service", Slice: "system.slice"}
	b.Cmdline = hostileName + " \x1b]0;pwned\x07" + forged
	c.Cmdline = "/tmp/" + longName + " --x" + forged
	snap := snapshot([]inspect.Process{a, b, c}, shiftInodes(cwTo(3, "10.0.0.5:80", 66), 100),
		shiftInodes(cwTo(3, "10.0.0.6:80", 67), 200), shiftInodes(cwTo(4, "10.0.0.6:80", 68), 300),
		[]inspect.Socket{listener("10.0.0.7:8080", 5, 128, 66)})
	snap.Hostname = "host\x1b[31m" + forged
	snap.Warnings = []string{"1 process could not be inspected: pid 69 (" + hostileName + forged + ")"}
	return snap
}

// TestHostileText: the hostile names, command lines, user, host name and
// warning go through every text renderer of report escaped (issue 12):
// nothing drives the terminal, forges a line or is invalid UTF-8, and
// JSON keeps the raw values, valid.
func TestHostileText(t *testing.T) {
	r := Analyze(hostileSnapshot(), DefaultThresholds)
	l := CheckThresholds{States: cwThreshold(0, 0), FDUsage: &Level{AtMost(80), AtMost(90)}, AcceptQueue: true}
	vs := Check(r, l)
	if len(vs) < 3 {
		t.Fatalf("%d violations, want one per process at least", len(vs))
	}
	for _, tt := range []struct {
		name  string
		lines int // 0: any
		out   func(w *bytes.Buffer) error
	}{
		{"table", 0, func(w *bytes.Buffer) error { return Table(w, r, TableOptions{Sockets: true}) }},
		{"warnings", 1, func(w *bytes.Buffer) error { return Warnings(w, r.Snapshot.Warnings) }},
		{"check text", 0, func(w *bytes.Buffer) error { return CheckText(w, r, l, vs) }},
		{"nagios", 1 + len(vs), func(w *bytes.Buffer) error { _, err := Nagios(w, r, l, vs); return err }},
		{"nagios error", 1, func(w *bytes.Buffer) error {
			NagiosError(w, errors.New("pid 66 ("+hostileName+forged+") | x"))
			return nil
		}},
		{"prometheus", 0, func(w *bytes.Buffer) error { return Prometheus(w, r, l, vs) }},
		{"textfile", 0, func(w *bytes.Buffer) error {
			path := filepath.Join(t.TempDir(), "sockleak.prom")
			if err := WriteTextfile(path, r, l, vs); err != nil {
				return err
			}
			b, err := os.ReadFile(path)
			w.Write(b)
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.out(&b); err != nil {
				t.Fatal(err)
			}
			hostiletest.AssertPrintable(t, b.Bytes(), tt.lines)
			if tt.name == "table" && !strings.Contains(b.String(), wording.Escape(hostileName)) {
				t.Errorf("the table does not show the name escaped:\n%s", b.String())
			}
		})
	}
	for name, out := range map[string]func(w *bytes.Buffer) error{
		"json":       func(w *bytes.Buffer) error { return JSON(w, r) },
		"check json": func(w *bytes.Buffer) error { return CheckJSON(w, r, l, vs) },
	} {
		var b bytes.Buffer
		if err := out(&b); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b.Bytes()) || !strings.Contains(b.String(), `\u001b[31m`) {
			t.Errorf("%s: invalid, or the raw name is not there:\n%s", name, b.String())
		}
	}
}

// TestHostileLabels: check -o prometheus and --textfile survive the
// hostile names (issue 12: a panic, and exit 2 with no file): the
// exposition parses, the process label is the name escaped and never
// command-line text, even where the table tells processes apart by it.
func TestHostileLabels(t *testing.T) {
	r := Analyze(hostileSnapshot(), DefaultThresholds)
	l := CheckThresholds{States: cwThreshold(0, 0), FDUsage: &Level{AtMost(80), AtMost(90)}}
	vs := Check(r, l)
	var b bytes.Buffer
	if err := Prometheus(&b, r, l, vs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sockleak.prom")
	if err := WriteTextfile(path, r, l, vs); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, b.Bytes()) {
		t.Errorf("the textfile differs from -o prometheus:\n%s\n%s", file, b.String())
	}
	series := parseExposition(t, &b)
	unit := `bad\x1b[31m\nSOCKLEAK OK - all fine.service`
	want := map[string]bool{
		`sockleak_workload_open_fds{kind="unit",unit="` + unit + `",workload="` + unit + `"}`:                                       true,
		`sockleak_workload_open_fds{kind="process",workload="\xff\xfebad\x1b[31m"}`:                                                 true,
		`sockleak_workload_open_fds{kind="process",workload="aaaaaaaaaaaaaaa\nSOCKLEAK OK - all fine"}`:                             true,
		`sockleak_workload_listen_queue_connections{kind="unit",local="10.0.0.7:8080",unit="` + unit + `",workload="` + unit + `"}`: true,
		`sockleak_metric_errors`: true,
	}
	for k := range series {
		if strings.Contains(k, "/tmp") || strings.Contains(k, "pwned") {
			t.Errorf("command-line text in a label: %s", k)
		}
		delete(want, k)
	}
	if len(want) > 0 {
		t.Errorf("missing %v in\n%v", want, series)
	}
	if series["sockleak_metric_errors"] != 0 {
		t.Errorf("sockleak_metric_errors %v, want 0", series["sockleak_metric_errors"])
	}
}

// TestSeriesNotBuilt: a series that cannot be built is counted, not
// fatal (no Must* on values from the host).
func TestSeriesNotBuilt(t *testing.T) {
	m := checkMetrics{wlFDs: metrics.WorkloadOpenFDs.GaugeVec()}
	m.set(m.wlFDs, 1, "42") // one label value of six
	m.set(m.wlFDs, 1, MetricLabels(&inspect.Workload{}, hostileName, 0, "")...)
	if m.failed != 1 {
		t.Errorf("failed = %d, want 1", m.failed)
	}
}
