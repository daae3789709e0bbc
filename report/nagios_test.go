package report

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/sockleak/sockleak/inspect"
)

// The plugin output format of the Monitoring Plugins Development
// Guidelines: "SERVICE STATUS - text | perfdata", perfdata being
// space-separated 'label'=value[UOM];[warn];[crit];[min];[max], where UOM
// is one of s, ms, us, %, B, KB, MB, TB, c (or none).
var (
	// rangeRE is a warn or crit field: empty, or a range in the plugin
	// syntax ("10", "10:", "~:10", "10:20", "@10:20").
	rangeRE    = `@?(?:(?:~|-?[0-9.]+(?:e[+-]?[0-9]+)?):)?(?:-?[0-9.]+(?:e[+-]?[0-9]+)?)?`
	nagiosLine = regexp.MustCompile(`^SOCKLEAK (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\n]+?)(?: \| (.*))?$`)
	perfItem   = regexp.MustCompile(`^('[^'=]+'|[^'= ]+)=(-?[0-9]+(?:\.[0-9]+)?)(s|ms|us|%|B|KB|MB|TB|c)?;(` + rangeRE + `);(` + rangeRE + `);(-?[0-9.]*);(-?[0-9.]*)$`)
)

type nagiosOut struct {
	word, text string
	perf       map[string][]string // label -> value, uom, warn, crit, min, max
	long       []string
}

// parseNagios checks output against the plugin format and splits it.
func parseNagios(t *testing.T, out string) nagiosOut {
	t.Helper()
	if !strings.HasSuffix(out, "\n") {
		t.Fatalf("output does not end in a newline: %q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	m := nagiosLine.FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("first line is not a plugin status line: %q", lines[0])
	}
	o := nagiosOut{word: m[1], text: m[2], perf: map[string][]string{}, long: lines[1:]}
	if m[3] != "" {
		for _, item := range strings.Split(m[3], " ") {
			pm := perfItem.FindStringSubmatch(item)
			if pm == nil {
				t.Fatalf("bad perfdata item %q in %q", item, lines[0])
			}
			o.perf[pm[1]] = pm[2:]
		}
	}
	for _, l := range o.long {
		if strings.Contains(l, "|") {
			t.Errorf("long output line holds a '|', which starts perfdata: %q", l)
		}
	}
	return o
}

var nagiosTests = []struct {
	name     string
	snap     *inspect.Snapshot
	code     int
	word     string
	text     string
	perf     map[string][]string
	longRows int
}{
	{
		name: "ok",
		snap: snapshot([]inspect.Process{proc(42, "app", 10, 100), proc(43, "db", 40, 100)}),
		code: NagiosOK, word: "OK", text: "no threshold exceeded; 2 processes inspected",
		perf: map[string][]string{
			"close_wait": {"0", "", "0", "100", "0", ""},
			"fd_usage":   {"40", "%", "80", "90", "0", "100"},
		},
	},
	{
		name: "warning: over warn, under crit",
		snap: snapshot([]inspect.Process{proc(42, "app", 10, 100)}, cwTo(3, "10.0.0.5:7000", 42)),
		code: NagiosWarning, word: "WARNING", text: "pid 42 (app) 3 CLOSE_WAIT to 10.0.0.5:7000",
		perf: map[string][]string{
			"close_wait": {"3", "", "0", "100", "0", ""},
			"fd_usage":   {"10", "%", "80", "90", "0", "100"},
		},
		longRows: 1,
	},
	{
		name: "critical, the worst first and a count of the rest",
		snap: snapshot([]inspect.Process{proc(4242, "openser", 1987, 2048), proc(42, "app", 10, 100)}, cwTo(1980, "10.0.0.5:7000", 4242), cwTo(3, "10.0.0.5:7000", 42)),
		code: NagiosCritical, word: "CRITICAL", text: "pid 4242 (openser) 1980 CLOSE_WAIT to 10.0.0.5:7000 (and 2 more)",
		perf: map[string][]string{
			"close_wait": {"1980", "", "0", "100", "0", ""},
			"fd_usage":   {"97", "%", "80", "90", "0", "100"},
		},
		longRows: 3, // close_wait 4242 critical, fd 4242 critical, close_wait 42 warning
	},
	{
		name: "a '|' in a process name does not start the perfdata",
		snap: snapshot([]inspect.Process{proc(42, "a|b", 10, 100)}, cwTo(1, "10.0.0.5:7000", 42)),
		code: NagiosWarning, word: "WARNING", text: "pid 42 (a/b) 1 CLOSE_WAIT to 10.0.0.5:7000",
		perf: map[string][]string{
			"close_wait": {"1", "", "0", "100", "0", ""},
			"fd_usage":   {"10", "%", "80", "90", "0", "100"},
		},
		longRows: 1,
	},
}

func TestNagios(t *testing.T) {
	limits := CheckThresholds{States: cwThreshold(0, 100), FDUsage: &Level{AtMost(80), AtMost(90)}}
	for _, tt := range nagiosTests {
		t.Run(tt.name, func(t *testing.T) {
			r := Analyze(tt.snap, DefaultThresholds)
			var b bytes.Buffer
			code, err := Nagios(&b, r, limits, Check(r, limits))
			if err != nil {
				t.Fatal(err)
			}
			o := parseNagios(t, b.String())
			if code != tt.code || o.word != tt.word {
				t.Errorf("exit %d, status %q; want %d, %q\n%s", code, o.word, tt.code, tt.word, b.String())
			}
			if o.text != tt.text {
				t.Errorf("text = %q, want %q", o.text, tt.text)
			}
			for label, want := range tt.perf {
				if got := o.perf[label]; strings.Join(got, ";") != strings.Join(want, ";") {
					t.Errorf("perfdata %s = %q, want %q", label, got, want)
				}
			}
			if len(o.perf) != len(tt.perf) {
				t.Errorf("perfdata = %v, want %d items", o.perf, len(tt.perf))
			}
			if len(o.long) != tt.longRows {
				t.Errorf("long output = %q, want %d lines", o.long, tt.longRows)
			}
		})
	}
}

// TestNagiosIssueExample reproduces the plugin line the issue asks for.
func TestNagiosIssueExample(t *testing.T) {
	snap := snapshot([]inspect.Process{proc(4242, "openser", 1997, 2048)},
		many(1987, inspect.CloseWait, ephemeral("10.0.0.7"), fixed("10.0.0.5:7000"), 4242))
	r := Analyze(snap, DefaultThresholds)
	limits := CheckThresholds{States: cwThreshold(0, 0), FDUsage: &Level{AtMost(80), AtMost(90)}}
	var b bytes.Buffer
	code, err := Nagios(&b, r, limits, Check(r, limits))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(b.String(), "\n")
	want := "SOCKLEAK CRITICAL - pid 4242 (openser) 1987 CLOSE_WAIT to 10.0.0.5:7000 (and 1 more) | close_wait=1987;0;0;0; fd_usage=98%;80;90;0;100"
	if code != NagiosCritical || first != want {
		t.Errorf("got exit %d\n%s\nwant exit 2\n%s", code, first, want)
	}
}

func TestNagiosError(t *testing.T) {
	var b bytes.Buffer
	code := NagiosError(&b, errors.New("could not read proc root \"/nope\": no such file or directory"))
	o := parseNagios(t, b.String())
	if code != NagiosUnknown || o.word != "UNKNOWN" || !strings.Contains(o.text, `could not read proc root "/nope"`) {
		t.Errorf("exit %d, output %q", code, b.String())
	}
}

// TestNagiosRanges: -w and -c in the plugin range syntax, against pid 42's
// 12 CLOSE_WAIT sockets and pid 43's 3, in the plugin's status, its long
// output and its perfdata (warn;crit as given).
func TestNagiosRanges(t *testing.T) {
	snap := snapshot([]inspect.Process{proc(42, "leaky", 20, 1024), proc(43, "other", 20, 1024)},
		cwTo(12, "10.0.0.5:7000", 42), shiftInodes(cwTo(3, "10.0.0.6:7000", 43), 100))
	for _, tt := range []struct {
		warn, crit []string
		code       int
		long       []string // the long output
		perf       string   // close_wait's value;warn;crit
	}{
		{[]string{"close-wait=5"}, []string{"close-wait=20"}, NagiosWarning,
			[]string{"WARNING: pid 42 (leaky) 12 CLOSE_WAIT to 10.0.0.5:7000, over the maximum 5; 20/1024 fds (2%)"}, "12;5;20"},
		// 10: alerts below 10: pid 43's 3, not pid 42's 12, nor the
		// kernel's and unknown owners' none.
		{nil, []string{"close-wait=10:"}, NagiosCritical, []string{
			"CRITICAL: pid 43 (other) 3 CLOSE_WAIT to 10.0.0.6:7000, under the minimum 10; 20/1024 fds (2%)",
			"WARNING: pid 42 (leaky) 12 CLOSE_WAIT to 10.0.0.5:7000, over the maximum 0; 20/1024 fds (2%)"}, "3;0;10:"},
		{nil, []string{"close-wait=@10:"}, NagiosCritical, []string{
			"CRITICAL: pid 42 (leaky) 12 CLOSE_WAIT to 10.0.0.5:7000, in the alert range @10:; 20/1024 fds (2%)",
			"WARNING: pid 43 (other) 3 CLOSE_WAIT to 10.0.0.6:7000, over the maximum 0; 20/1024 fds (2%)"}, "12;0;@10:"},
		{[]string{"close-wait=~:20"}, []string{"close-wait=30"}, NagiosOK, nil, "12;~:20;30"},
		{[]string{"close-wait=2:4"}, []string{"close-wait=1:"}, NagiosWarning,
			[]string{"WARNING: pid 42 (leaky) 12 CLOSE_WAIT to 10.0.0.5:7000, over the maximum 4; 20/1024 fds (2%)"}, "12;2:4;1:"},
	} {
		s := checkDefaults(func(s *CheckSettings) { s.MaxFDUsage, s.NoAcceptQueue, s.Warn, s.Crit = -1, true, tt.warn, tt.crit })
		l, err := s.Thresholds()
		if err != nil {
			t.Fatal(err)
		}
		r := Analyze(snap, DefaultThresholds)
		var b bytes.Buffer
		code, err := Nagios(&b, r, l, Check(r, l))
		if err != nil {
			t.Fatal(err)
		}
		o := parseNagios(t, b.String())
		if got := strings.Join(o.perf["close_wait"][:1], "") + ";" + strings.Join(o.perf["close_wait"][2:4], ";"); code != tt.code || got != tt.perf ||
			strings.Join(o.long, "\n") != strings.Join(tt.long, "\n") {
			t.Errorf("-w %v -c %v: exit %d, perfdata %q, long output %q; want %d, %q, %q", tt.warn, tt.crit, code, got, o.long, tt.code, tt.perf, tt.long)
		}
	}
}
