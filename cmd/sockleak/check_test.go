package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sockleak/sockleak/inspect"
	"github.com/sockleak/sockleak/report"
)

// checkThresholds parses check's flags and returns the thresholds they
// make.
func checkThresholds(t *testing.T, args ...string) (report.CheckThresholds, *CheckOptions, error) {
	t.Helper()
	var got *CheckOptions
	c := newCheckCmd(func(_ context.Context, o *CheckOptions) error { got = o; return nil })
	c.SetArgs(args)
	c.SetOut(&bytes.Buffer{})
	c.SetErr(&bytes.Buffer{})
	if err := c.Execute(); err != nil {
		return report.CheckThresholds{}, nil, err
	}
	l, err := got.thresholds()
	return l, got, err
}

func TestCheckFlags(t *testing.T) {
	l, o, err := checkThresholds(t)
	if err != nil {
		t.Fatal(err)
	}
	want := report.CheckThresholds{
		States:       map[inspect.TCPState]report.Level{inspect.CloseWait: lv(0, report.DefaultCritCloseWait)},
		FDUsage:      lvp(80, 95),
		AcceptQueue:  true,
		MaxWorkloads: report.DefaultMaxWorkloads,
	}
	if diff := cmp.Diff(want, l); diff != "" {
		t.Errorf("default limits (-want +got):\n%s", diff)
	}
	if o.Output != "text" || o.MinAge != report.DefaultMinAge || o.set["min-age"] || o.Total || o.AllowMissing || o.Quiet || o.Scan.ProcRoot != "/proc" {
		t.Errorf("defaults = %+v", o)
	}

	_, o, err = checkThresholds(t, "--pid", "42", "--name", "java", "--state", "close-wait", "--port", "7000", "--peer", "10.0.0.5",
		"--proc-root", "/host/proc", "--min-age", "2s", "--allow-missing", "--total", "-o", "json", "--textfile", "/tmp/x.prom", "-q")
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(o.Scan.PIDs, []int{42}) || o.Scan.Name != "java" || o.Scan.ProcRoot != "/host/proc" || o.MinAge != 2*time.Second ||
		!o.set["min-age"] || o.NoAcceptQueue || !o.AllowMissing || !o.Total || o.Output != "json" || o.Textfile != "/tmp/x.prom" || !o.Quiet {
		t.Errorf("options = %+v", o)
	}

	// -t takes seconds, as plugins do, or a duration.
	for arg, want := range map[string]time.Duration{"": defaultCheckTimeout, "-t=5": 5 * time.Second, "--timeout=1.5": 1500 * time.Millisecond,
		"-t=500ms": 500 * time.Millisecond, "-t=0": 0} {
		_, o, err := checkThresholds(t, strings.Fields(strings.ReplaceAll(arg, "=", " "))...)
		if err != nil || o.Timeout != want || o.timeout() != want {
			t.Errorf("%q: timeout %v, %v; want %v", arg, o.Timeout, err, want)
		}
	}
	// Without -t, a --min-age given adds its wait; with it, it does not.
	if _, o, _ := checkThresholds(t, "--min-age", "30s"); o.timeout() != defaultCheckTimeout+30*time.Second {
		t.Errorf("--min-age 30s: timeout %v", o.timeout())
	}
	if _, o, _ := checkThresholds(t, "--min-age", "3s", "-t", "5"); o.timeout() != 5*time.Second {
		t.Errorf("--min-age 3s -t 5: timeout %v", o.timeout())
	}

	// The deprecated names set the same thresholds as the new ones.
	oldL, _, err := checkThresholds(t, "--warn", "close-wait=5", "--crit", "close-wait=20", "--max-state", "last-ack=3", "--warn", "fd=70")
	if err != nil {
		t.Fatal(err)
	}
	newL, _, err := checkThresholds(t, "-w", "close-wait=5,last-ack=3", "-c", "close-wait=20", "-w", "fd-usage=70")
	if err != nil || !cmp.Equal(oldL, newL) || oldL.States[inspect.LastAck] != lv(3, 3) || *oldL.FDUsage != lv(70, 95) {
		t.Errorf("old flags %+v, new flags %+v, %v", oldL, newL, err)
	}

	for _, flag := range []string{"--max-workloads", "--max-processes"} { // the old name, deprecated
		l, _, err = checkThresholds(t, flag, "7", "--pid-label")
		if err != nil || l.MaxWorkloads != 7 || !l.PIDLabel {
			t.Errorf("%s 7 --pid-label: MaxWorkloads %d, PIDLabel %v, %v", flag, l.MaxWorkloads, l.PIDLabel, err)
		}
	}
}

func lv(warn, crit int) report.Level {
	return report.Level{Warn: report.AtMost(warn), Crit: report.AtMost(crit)}
}

func lvp(warn, crit int) *report.Level { l := lv(warn, crit); return &l }

// TestCheckThresholds: the flags reach report.CheckSettings, which has
// the full table; flags cobra parses, which were given, and --min-age are
// cmd's.
func TestCheckThresholds(t *testing.T) {
	cw := inspect.CloseWait
	for _, tt := range []struct {
		name    string
		args    []string
		states  map[inspect.TCPState]report.Level
		fd      *report.Level
		wantErr string
	}{
		{
			name:   "every flag",
			args:   []string{"--max-close-wait", "5", "--max-fin-wait2", "100", "--max-state", "last-ack=7", "--max-state", "SYN_RECV=1000", "--max-fd-usage", "70"},
			states: map[inspect.TCPState]report.Level{cw: lv(5, report.DefaultCritCloseWait), inspect.FinWait2: lv(100, 100), inspect.LastAck: lv(7, 7), inspect.SynRecv: lv(1000, 1000)},
			fd:     lvp(70, 95),
		},
		{
			name:   "--max-state overrides a default",
			args:   []string{"--max-state", "close-wait=9"},
			states: map[inspect.TCPState]report.Level{cw: lv(9, report.DefaultCritCloseWait)},
			fd:     lvp(80, 95),
		},
		{
			name:   "nagios levels",
			args:   []string{"--warn", "close-wait=10", "--crit", "close-wait=100", "--warn", "fd-usage=70", "--crit", "fd_usage=90"},
			states: map[inspect.TCPState]report.Level{cw: lv(10, 100)},
			fd:     lvp(70, 90),
		},
		{
			name:   "-w and -c",
			args:   []string{"-w", "close-wait=10", "-c", "close-wait=100", "--warning", "fd-usage=70", "--critical=fd_usage=90"},
			states: map[inspect.TCPState]report.Level{cw: lv(10, 100)},
			fd:     lvp(70, 90),
		},
		{
			name: "ranges, comma-separated",
			args: []string{"-w", "close-wait=~:20,fin-wait-2=@5:10", "-c", "close-wait=30,fin-wait-2=10:"},
			states: map[inspect.TCPState]report.Level{
				cw:               {Warn: report.Range{Start: math.Inf(-1), End: 20}, Crit: report.AtMost(30)},
				inspect.FinWait2: {Warn: report.Range{Start: 5, End: 10, Inside: true}, Crit: report.Range{Start: 10, End: math.Inf(1)}},
			},
			fd: lvp(80, 95),
		},
		{
			name:   "limits off",
			args:   []string{"--max-close-wait", "-1", "--max-fd-usage", "-1", "--max-state", "last-ack=1"},
			states: map[inspect.TCPState]report.Level{inspect.LastAck: lv(1, 1)},
		},
		{name: "unknown state", args: []string{"--max-state", "half-open=3"}, wantErr: `invalid --max-state "half-open=3": unknown TCP state "half-open"`},
		{name: "not a number", args: []string{"--max-close-wait", "lots"}, wantErr: `invalid argument "lots" for "--max-close-wait"`},
		{name: "conflict", args: []string{"--max-close-wait", "1", "--max-state", "closewait=2"}, wantErr: "CLOSE_WAIT given twice: 1 (--max-close-wait) and 2 (--max-state closewait=2)"},
		{name: "fd conflict", args: []string{"--max-fd-usage", "70", "--warn", "fd=60"}, wantErr: "fd usage given twice: 70 (--max-fd-usage) and 60 (--warning fd=60)"},
		{name: "a range that is none", args: []string{"-c", "close-wait=20:10"}, wantErr: `invalid --critical "close-wait=20:10": start 20 is above end 10`},
		{name: "negative timeout", args: []string{"-t", "-1s"}, wantErr: "invalid --timeout -1s"},
		{name: "a timeout that is no duration", args: []string{"-t", "soon"}, wantErr: `invalid argument "soon" for "-t, --timeout" flag: want seconds (5) or a duration`},
		{name: "a min-age as long as the timeout", args: []string{"-t", "5s", "--min-age", "5s"}, wantErr: "--min-age 5s waits as long as --timeout 5s"},
		{name: "max-fin-wait2 given", args: []string{"--max-fin-wait2", "3", "--max-state", "fin-wait-2=4"}, wantErr: "FIN_WAIT2 given twice"},
		{name: "everything off", args: []string{"--max-close-wait", "-1", "--max-fd-usage", "-1"}, wantErr: "no thresholds to check"},
		{name: "negative min age", args: []string{"--min-age", "-1s"}, wantErr: "invalid --min-age"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, _, err := checkThresholds(t, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.states, l.States); diff != "" {
				t.Errorf("states (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.fd, l.FDUsage); diff != "" {
				t.Errorf("fd usage (-want +got):\n%s", diff)
			}
		})
	}
}

func runMain(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return code, o.String(), e.String()
}

const (
	incidentClient = "../../testdata/incident/client/proc"
	incidentPeer   = "../../testdata/incident/peer/proc"
	healthyRoot    = "../../testdata/healthy/proc"
	hungRoot       = "../../testdata/hung/proc"
)

// checkExitTests run check through Main on the fixture trees: exit code,
// output and usage hint.
var checkExitTests = []struct {
	name      string
	args      []string
	code      int
	stdout    []string // substrings, in order
	stderr    string
	wantUsage bool
}{
	{
		name: "incident: the client fails", args: []string{"check", "--proc-root", incidentClient}, code: 1,
		stdout: []string{
			"CRITICAL  pid 4242 (openser) 1987 CLOSE_WAIT to 10.0.0.5:7000, over the maximum 100; 1997/2048 fds (98%)\n",
			"CRITICAL  pid 4242 (openser) uses 1997/2048 fds (98%), over the maximum 95%; 1991 are sockets\n",
			"FAIL: 2 thresholds exceeded by 1 owner",
		},
	},
	{
		name: "a loose enough limit passes", args: []string{"check", "--proc-root", incidentClient, "--max-close-wait", "2000", "--max-fd-usage", "99"}, code: 0,
		stdout: []string{"OK: no threshold exceeded (max CLOSE_WAIT 2000, fd usage 99%); 3 processes inspected\n"},
	},
	{
		name: "total: the host as a whole", args: []string{"check", "--proc-root", incidentClient, "--total", "--max-close-wait", "1000", "--max-fd-usage", "-1"}, code: 1,
		stdout: []string{"CRITICAL  the host 1987 CLOSE_WAIT to 10.0.0.5:7000, over the maximum 1000\n", "(max CLOSE_WAIT 1000 on the host)"},
	},
	{
		name: "incident: the peer passes by default", args: []string{"check", "--proc-root", incidentPeer}, code: 0,
		stdout: []string{"OK: no threshold exceeded"},
	},
	{
		name: "incident: the peer's orphaned FIN_WAIT2 fail --max-fin-wait2", args: []string{"check", "--proc-root", incidentPeer, "--max-fin-wait2", "10"}, code: 1,
		stdout: []string{"the kernel", "FIN_WAIT2", "over the maximum 10"},
	},
	{
		// The fixtures carry no age bound: every socket counts, with the
		// default min age as with 0.
		name: "min-age 0 counts every socket", args: []string{"check", "--proc-root", incidentClient, "--min-age", "0"}, code: 1,
		stdout: []string{"CRITICAL  pid 4242 (openser) 1987 CLOSE_WAIT", "FAIL: 2 thresholds exceeded"},
	},
	{
		name: "negative min-age", args: []string{"check", "--min-age", "-1s"}, code: 2,
		stderr: "invalid --min-age -1s: want a duration from 0 to 1h", wantUsage: true,
	},
	{
		// A check is a probe: it does not wait for hours.
		name: "min-age over an hour", args: []string{"check", "--proc-root", healthyRoot, "--min-age", "61m"}, code: 2,
		stderr: "invalid --min-age 1h1m0s: want a duration from 0 to 1h", wantUsage: true,
	},
	{
		name: "nagios: unknown for a min-age over an hour", args: []string{"check", "-o", "nagios", "--proc-root", healthyRoot, "--min-age", "2h"}, code: 3,
		stdout: []string{"SOCKLEAK UNKNOWN - invalid --min-age 2h0m0s: want a duration from 0 to 1h\n"},
	},
	{
		// A stopped server whose accept queue holds clients that gave up:
		// check fails for it by --pid and by --name, the queue first.
		name: "hung server", args: []string{"check", "--proc-root", hungRoot, "--pid", "2100"}, code: 1,
		stdout: []string{"CRITICAL  pid 2100 (redis-server) is not accepting connections on 0.0.0.0:6379: 55 connections wait",
			"it is stopped: SIGSTOP or a debugger\n", "WARNING   pid 2100 (redis-server) 63 CLOSE_WAIT", "FAIL: 2 thresholds exceeded by 1 owner"},
	},
	{
		name: "hung server by name", args: []string{"check", "--proc-root", hungRoot, "--name", "redis-server"}, code: 1,
		stdout: []string{"CRITICAL  pid 2100 (redis-server) is not accepting connections on 0.0.0.0:6379"},
	},
	{
		name: "hung server, accept queue not checked", code: 0,
		args:   []string{"check", "--proc-root", hungRoot, "--name", "redis-server", "--no-accept-queue", "--max-close-wait", "-1"},
		stdout: []string{"OK: no threshold exceeded (max fd usage 80%); 1 process inspected\n"},
	},
	{
		name: "healthy", args: []string{"check", "--proc-root", healthyRoot}, code: 0,
		stdout: []string{"OK: no threshold exceeded (max CLOSE_WAIT 0, fd usage 80%); 5 processes inspected\n"},
	},
	{name: "quiet when healthy prints nothing", args: []string{"check", "-q", "--proc-root", healthyRoot}, code: 0},
	{
		name: "quiet still prints a failure", args: []string{"check", "-q", "--proc-root", incidentClient}, code: 1,
		stdout: []string{"pid 4242 (openser) 1987 CLOSE_WAIT"},
	},
	{
		name: "missing pid", args: []string{"check", "--proc-root", healthyRoot, "--pid", "4242"}, code: 2,
		stderr: "sockleak: no process matches --pid 4242\n",
	},
	{
		name: "missing pid allowed", args: []string{"check", "--proc-root", healthyRoot, "--pid", "4242", "--allow-missing"}, code: 0,
		stdout: []string{"OK: no threshold exceeded"},
		// A diagnostic: on stderr (issue 17), not in the result.
		stderr: "sockleak: warning: no process matches --pid 4242 (--allow-missing)\n",
	},
	{
		name: "missing pid allowed, quietly", args: []string{"check", "-q", "--proc-root", healthyRoot, "--pid", "4242", "--allow-missing"}, code: 0,
	},
	{
		name: "textfile not writable: the result is still printed", code: 2,
		args:   []string{"check", "--proc-root", incidentClient, "--textfile", "/nonexistent/dir/sockleak.prom"},
		stdout: []string{"CRITICAL  pid 4242 (openser) 1987 CLOSE_WAIT", "FAIL: 2 thresholds exceeded"},
		// The target, not the temporary file beside it.
		stderr: "sockleak: could not write --textfile /nonexistent/dir/sockleak.prom: no such file or directory (the check ran",
	},
	{
		// -q printed nothing, so there is no result above to point at.
		name: "quiet, textfile not writable: no result to point at", code: 2,
		args:   []string{"check", "-q", "--proc-root", healthyRoot, "--textfile", "/nonexistent/dir/sockleak.prom"},
		stderr: "sockleak: could not write --textfile /nonexistent/dir/sockleak.prom: no such file or directory (the check ran and passed)\n",
	},
	{
		name: "quiet, textfile not writable, a failure: its result is above", code: 2,
		args:   []string{"check", "-q", "--proc-root", incidentClient, "--textfile", "/nonexistent/dir/sockleak.prom"},
		stdout: []string{"CRITICAL  pid 4242 (openser) 1987 CLOSE_WAIT"},
		stderr: "(the check ran: its result is above)\n",
	},
	{
		name: "nagios: textfile not writable is unknown", code: 3,
		args:   []string{"check", "-o", "nagios", "--proc-root", incidentClient, "--textfile", "/nonexistent/dir/sockleak.prom"},
		stdout: []string{"SOCKLEAK UNKNOWN - could not write --textfile /nonexistent/dir/sockleak.prom: no such file or directory\n"},
	},
	{
		name: "nagios: unknown for a flag cobra rejects", args: []string{"check", "--max-close-wait", "abc", "-o", "nagios"}, code: 3,
		stdout: []string{`SOCKLEAK UNKNOWN - invalid argument "abc" for "--max-close-wait" flag`},
	},
	{
		name: "nagios: unknown for an unknown flag", args: []string{"check", "--output=nagios", "--bogus"}, code: 3,
		stdout: []string{`SOCKLEAK UNKNOWN - unknown flag: --bogus`},
	},
	{
		name: "a --state that hides the checked state: a warning", code: 0,
		args:   []string{"check", "--proc-root", healthyRoot, "--state", "established"},
		stdout: []string{"OK: no threshold exceeded"},
		stderr: "sockleak: warning: --state hides every socket in CLOSE_WAIT, so its threshold cannot be crossed\n",
	},
	{
		name: "an empty --state is a mistake, not every state", args: []string{"check", "--state", ""}, code: 2,
		stderr: `invalid --state ""`, wantUsage: true,
	},
	{
		name: "an empty --name is a mistake, not every process", args: []string{"check", "--proc-root", healthyRoot, "--name", ""}, code: 2,
		stderr: `invalid --name ""`, wantUsage: true,
	},
	{
		name: "an empty --workload is a mistake, not every workload", args: []string{"check", "--proc-root", healthyRoot, "--workload", ""}, code: 2,
		stderr: `invalid --workload ""`, wantUsage: true,
	},
	{
		name: "an empty --workload after a real one is still a mistake", args: []string{"check", "--proc-root", healthyRoot, "--workload", "leaky.service", "--workload", ""}, code: 2,
		stderr: `invalid --workload ""`, wantUsage: true,
	},
	{
		name: "an empty --peer is a mistake, not every peer", args: []string{"check", "--proc-root", healthyRoot, "--peer", ""}, code: 2,
		stderr: `invalid --peer ""`, wantUsage: true,
	},
	{
		name: "nagios: unknown for an empty --name", args: []string{"check", "-o", "nagios", "--proc-root", healthyRoot, "--name", ""}, code: 3,
		stdout: []string{`SOCKLEAK UNKNOWN - invalid --name ""`},
	},
	{
		name: "max-fin-wait2 -1 is off", args: []string{"check", "--proc-root", incidentPeer, "--max-fin-wait2", "-1"}, code: 0,
		stdout: []string{"OK: no threshold exceeded (max CLOSE_WAIT 0, fd usage 80%)"},
	},
	{
		name: "missing name", args: []string{"check", "--proc-root", healthyRoot, "--name", "openser"}, code: 2,
		stderr: `no process matches --name "openser"`,
	},
	{
		name: "bad threshold", args: []string{"check", "--max-state", "close-wiat=3"}, code: 2,
		stderr: "Flag --max-state has been deprecated, use -w/--warning STATE=N\n" +
			`sockleak: invalid --max-state "close-wiat=3": unknown TCP state "close-wiat"`, wantUsage: true,
	},
	{
		name: "unreadable proc root", args: []string{"check", "--proc-root", "/nonexistent/proc"}, code: 2,
		stderr: `sockleak: could not read proc root "/nonexistent/proc"`,
	},
	{
		name: "malformed socket table", args: []string{"check", "--proc-root", "../../testdata/broken/malformed_tcp/proc"}, code: 2,
		stderr: "net/tcp",
	},
	{name: "bad output", args: []string{"check", "-o", "yaml"}, code: 2, stderr: `invalid -o "yaml"`, wantUsage: true},
	{
		name: "nagios: critical", args: []string{"check", "-o", "nagios", "--proc-root", incidentClient, "-c", "fd-usage=90"}, code: 2,
		stdout: []string{"SOCKLEAK CRITICAL - pid 4242 (openser) 1987 CLOSE_WAIT to 10.0.0.5:7000 (and 1 more) | close_wait=1987;0;100;0; fd_usage=98%;80;90;0;100\n"},
	},
	{
		// The old names still work, and say so on stderr, not before
		// the plugin's line.
		name: "nagios: deprecated --crit", args: []string{"check", "-o", "nagios", "--proc-root", incidentClient, "--crit", "fd-usage=90"}, code: 2,
		stdout: []string{"SOCKLEAK CRITICAL - pid 4242 (openser) 1987 CLOSE_WAIT to 10.0.0.5:7000 (and 1 more) | close_wait=1987;0;100;0; fd_usage=98%;80;90;0;100\n"},
		stderr: "Flag --crit has been deprecated, use -c/--critical\n",
	},
	{
		name: "nagios: warning", args: []string{"check", "-o", "nagios", "--proc-root", incidentClient, "-w", "close-wait=100", "-c", "close-wait=5000", "--max-fd-usage", "99"}, code: 1,
		stdout: []string{"SOCKLEAK WARNING - pid 4242 (openser) 1987 CLOSE_WAIT to 10.0.0.5:7000 | close_wait=1987;100;5000;0; fd_usage=98%;99;99;0;100\n"},
	},
	{
		name: "nagios: ok", args: []string{"check", "-o", "nagios", "--proc-root", healthyRoot}, code: 0,
		stdout: []string{"SOCKLEAK OK - no threshold exceeded; 5 processes inspected | close_wait=0;0;100;0; fd_usage="},
	},
	{
		name: "nagios: unknown when the proc root is unreadable", args: []string{"check", "-o", "nagios", "--proc-root", "/nonexistent/proc"}, code: 3,
		stdout: []string{`SOCKLEAK UNKNOWN - could not read proc root "/nonexistent/proc"`},
	},
	{
		name: "nagios: unknown for a bad threshold", args: []string{"check", "-o", "nagios", "-c", "close-wait=x"}, code: 3,
		stdout: []string{`SOCKLEAK UNKNOWN - invalid --critical "close-wait=x": "x" is not a number` + "\n"},
	},
}

func TestCheckExitCodes(t *testing.T) {
	for _, tt := range checkExitTests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runMain(tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			rest := stdout
			for _, want := range tt.stdout {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Errorf("stdout lacks %q (in order):\n%s", want, stdout)
					break
				}
				rest = rest[i+len(want):]
			}
			if len(tt.stdout) == 0 && stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if tt.stderr == "" && stderr != "" {
				t.Errorf("stderr = %q, want nothing", stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr = %q, want %q", stderr, tt.stderr)
			}
			if usage := strings.Contains(stderr, "Run 'sockleak check --help' for usage."); usage != tt.wantUsage {
				t.Errorf("usage hint shown = %v, want %v: %q", usage, tt.wantUsage, stderr)
			}
		})
	}
}

func TestCheckJSON(t *testing.T) {
	code, stdout, stderr := runMain("check", "-o", "json", "--proc-root", incidentClient)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var d report.CheckDocument
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if d.Status != "critical" || len(d.Violations) != 2 || d.Violations[0].PID != 4242 || d.Violations[0].Value != 1987 ||
		d.Violations[0].Peer != "10.0.0.5:7000" || len(d.Findings) == 0 || d.Hostname != "sip-edge-1" {
		t.Errorf("check document: %+v", d)
	}
	// JSON is the inspect document: every state, and the findings on
	// states no threshold names.
	states := map[string]int{}
	for _, s := range d.Sockets {
		states[s.State]++
	}
	if want := map[string]int{"CLOSE_WAIT": 1987, "TIME_WAIT": 5, "ESTABLISHED": 4, "LISTEN": 3}; !maps.Equal(states, want) {
		t.Errorf("check -o json sockets by state = %v, want %v (as inspect)", states, want)
	}
	if !slices.ContainsFunc(d.Findings, func(f report.FindingDoc) bool { return f.Kind == "time_wait" }) {
		t.Errorf("check -o json findings lack the time_wait one inspect has: %+v", d.Findings)
	}
}

func TestCheckPrometheus(t *testing.T) {
	textfile := filepath.Join(t.TempDir(), "sockleak.prom")
	code, stdout, stderr := runMain("check", "-o", "prometheus", "--proc-root", incidentClient, "--textfile", textfile)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	fromFile, err := os.ReadFile(textfile)
	if err != nil {
		t.Fatal(err)
	}
	if stdout != string(fromFile) {
		t.Errorf("-o prometheus and --textfile differ:\n%s\n---\n%s", stdout, fromFile)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(fromFile))
	if err != nil {
		t.Fatal(err)
	}
	var cw float64 = -1
	for _, m := range mfs["sockleak_workload_sockets"].GetMetric() {
		labels := map[string]string{}
		for _, lp := range m.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		if labels["workload"] == "openser" && labels["kind"] == "process" && labels["state"] == "close_wait" {
			cw = m.GetGauge().GetValue()
		}
		if _, ok := labels["pid"]; ok {
			t.Errorf("a pid label without --pid-label: %v", labels)
		}
	}
	if cw != 1987 {
		t.Errorf(`sockleak_workload_sockets{workload="openser",state="close_wait"} = %v, want 1987`, cw)
	}
	hostStates := map[string]float64{}
	for _, m := range mfs["sockleak_sockets"].GetMetric() {
		for _, lp := range m.GetLabel() {
			if lp.GetName() == "state" && m.GetGauge().GetValue() > 0 {
				hostStates[lp.GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	if want := map[string]float64{"close_wait": 1987, "time_wait": 5, "established": 4, "listen": 3}; !maps.Equal(hostStates, want) {
		t.Errorf("sockleak_sockets by state = %v, want %v: the metrics show every state, not only the checked ones", hostStates, want)
	}
	if got := mfs["sockleak_check_status"].GetMetric()[0].GetGauge().GetValue(); got != 2 {
		t.Errorf("sockleak_check_status = %v, want 2", got)
	}
}

// TestCheckTextfile: a text check with --textfile prints text and writes
// the metrics.
func TestCheckTextfile(t *testing.T) {
	dir := t.TempDir()
	textfile := filepath.Join(dir, "sockleak.prom")
	code, stdout, _ := runMain("check", "--proc-root", healthyRoot, "--textfile", textfile)
	b, err := os.ReadFile(textfile)
	if code != 0 || err != nil || !strings.HasPrefix(stdout, "OK:") || !strings.Contains(string(b), "sockleak_check_status 0\n") {
		t.Errorf("text + textfile: exit %d, stdout %q, file error %v", code, stdout, err)
	}

	code, _, stderr := runMain("check", "--proc-root", healthyRoot, "--textfile", filepath.Join(dir, "no", "such", "dir.prom"))
	if code != 2 || !strings.Contains(stderr, "could not write --textfile") {
		t.Errorf("unwritable textfile: exit %d, %q", code, stderr)
	}

	// The rename over the target fails (it is a directory): the message
	// names the target, not the temporary file beside it.
	target := filepath.Join(dir, "taken.prom")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runMain("check", "--proc-root", healthyRoot, "--textfile", target)
	want := "sockleak: could not write --textfile " + target + ": "
	if code != 2 || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "taken.prom") != 1 {
		t.Errorf("textfile over a directory: exit %d, stderr %q; want it to start %q and name no other file", code, stderr, want)
	}
}

// TestCheckMinAgeSamples: the default min age is judged in one pass by the
// kernel's bound, so check never waits for it; --min-age 0 does not wait
// either; a --min-age given where the sockets carry no bound (the
// fixtures, as the proc backend) takes a second sample that long after.
// A leak that stays fails every way.
func TestCheckMinAgeSamples(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		waited []time.Duration
	}{
		{nil, nil},
		{[]string{"--min-age", "0"}, nil},
		{[]string{"--min-age", "3s"}, []time.Duration{3 * time.Second}},
		{[]string{"--min-age", "1m"}, []time.Duration{time.Minute}},
	} {
		var waited []time.Duration
		c := newCheckCmd(func(ctx context.Context, o *CheckOptions) error {
			o.after = instantAfter(func(d time.Duration) { waited = append(waited, d) })
			return runCheck(ctx, o)
		})
		var out bytes.Buffer
		c.SetOut(&out)
		c.SetErr(&out)
		c.SetArgs(append([]string{"--proc-root", incidentClient}, tt.args...))
		err := c.Execute()
		var es *exitStatus
		if !errors.As(err, &es) || es.code != exitThreshold || !strings.Contains(out.String(), "pid 4242 (openser) 1987 CLOSE_WAIT") {
			t.Errorf("check %v: %v, want exit 1 naming the leak\n%s", tt.args, err, out.String())
		}
		if !cmp.Equal(waited, tt.waited) {
			t.Errorf("check %v waited %v, want %v", tt.args, waited, tt.waited)
		}
	}
}

// instantAfter stands for time.After in check's --min-age wait: it tells
// wait how long check would wait, and fires at once.
func instantAfter(wait func(time.Duration)) func(time.Duration) <-chan time.Time {
	return func(d time.Duration) <-chan time.Time {
		wait(d)
		ch := make(chan time.Time, 1)
		ch <- time.Now()
		return ch
	}
}
