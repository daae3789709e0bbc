package report

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/sockleak/sockleak/inspect"
)

func TestShortCmdline(t *testing.T) {
	for _, tt := range []struct{ name, cmdline, want string }{
		{"python3", "/usr/bin/python3 leak_a.py --port 80", "leak_a.py --port 80"},
		{"nginx", "nginx: worker process", "worker process"},
		{"java", "/opt/jdk/bin/java -jar app.jar", "-jar app.jar"},
		{"node", "/usr/bin/nodejs server.js", "/usr/bin/nodejs server.js"}, // not the name: kept
		{"python3", "python3", ""},
		{"python3", "python3 /opt/very/long/path/to/the/jobs/poll_cache.py --queue=b", "/opt/very/long/path/to/the….py --queue=b"},
		{"evil", "evil \x1b[2J\nrm", `\x1b[2J\nrm`},
	} {
		if got := ShortCmdline(tt.name, tt.cmdline); got != tt.want {
			t.Errorf("shortCmdline(%q, %q) = %q, want %q", tt.name, tt.cmdline, got, tt.want)
		}
		if n := len([]rune(ShortCmdline(tt.name, tt.cmdline))); n > maxCmdline {
			t.Errorf("%q: %d characters, over %d", tt.cmdline, n, maxCmdline)
		}
	}
}

// TestProcessesToldApart: processes of one name are told apart by their
// command lines in the findings and the table; a name no other process
// shares stays alone, and a process's own text is escaped.
func TestProcessesToldApart(t *testing.T) {
	procs := []inspect.Process{proc(11, "python3", 40, 1024), proc(12, "python3", 40, 1024), proc(13, "redis\x1b[31m", 40, 1024)}
	procs[0].Cmdline, procs[1].Cmdline, procs[2].Cmdline = "python3 leak_a.py", "/usr/bin/python3 leak_b.py", "redis-server *:6379"
	snap := snapshot(procs, shiftInodes(cwTo(2, "10.0.0.5:80", 11), 100), shiftInodes(cwTo(3, "10.0.0.6:80", 12), 200),
		shiftInodes(cwTo(1, "10.0.0.7:80", 13), 300))
	r := Analyze(snap, DefaultThresholds)
	var msgs []string
	for _, f := range r.Findings {
		msgs = append(msgs, f.Message)
	}
	all := strings.Join(msgs, "\n")
	for _, w := range []string{"pid 11 (python3 leak_a.py)", "pid 12 (python3 leak_b.py)", `pid 13 (redis\x1b[31m) is not`} {
		if !strings.Contains(all, w) {
			t.Errorf("findings lack %q:\n%s", w, all)
		}
	}
	var b strings.Builder
	if err := Table(&b, r, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "\x1b") || !strings.Contains(b.String(), "python3 leak_b.py") {
		t.Errorf("table does not tell the python3s apart or lets an escape through:\n%s", b.String())
	}
	vs := Check(r, CheckThresholds{States: cwThreshold(0, 0)})
	if i := slices.IndexFunc(vs, func(v Violation) bool { return v.PID == 12 }); i < 0 ||
		!strings.HasPrefix(vs[i].Message(), "pid 12 (python3 leak_b.py) 3 CLOSE_WAIT") {
		t.Errorf("violations %+v: want pid 12's, told apart", vs)
	}
	// Alone, a python3 is a python3.
	r = Analyze(snapshot(procs[:1], shiftInodes(cwTo(2, "10.0.0.5:80", 11), 100)), DefaultThresholds)
	if !strings.HasPrefix(r.Findings[0].Message, "pid 11 (python3) is not") {
		t.Errorf("message %q", r.Findings[0].Message)
	}
}

// TestNamespacesNamed: the kernel's sockets of two namespaces make one
// row and one orphan finding each, and the one of the other namespace
// names it and a process living in it.
func TestNamespacesNamed(t *testing.T) {
	const container = 4026532500
	inContainer := many(12, inspect.FinWait2, ephemeral("172.17.0.2"), fixed("10.0.0.9:5432"))
	for i := range inContainer {
		inContainer[i].NetNS = container
	}
	web := proc(5001, "nginx", 1000, 1024)
	web.NetNS = container
	snap := snapshot([]inspect.Process{proc(1, "systemd", 10, 1024), web},
		many(3, inspect.FinWait2, ephemeral("10.0.0.7"), fixed("10.0.0.9:5432")), inContainer)
	if f := findingOf(t, Analyze(snap, DefaultThresholds), KindFDPressure); !strings.HasPrefix(f.Message, "pid 5001 (nginx) in network namespace 4026532500 uses") {
		t.Errorf("a process's finding in another namespace: %q", f.Message)
	}
	vs := Check(Analyze(snap, DefaultThresholds), CheckThresholds{FDUsage: &Level{AtMost(80), AtMost(95)}})
	if len(vs) != 1 || !strings.HasPrefix(vs[0].Message(), "pid 5001 (nginx) in network namespace 4026532500 uses") {
		t.Errorf("violations %+v: want nginx's, its namespace named", vs)
	}
	r := Analyze(snap, DefaultThresholds)
	var orphans []Finding
	for _, f := range r.Findings {
		if f.Kind == KindFinWait2 {
			orphans = append(orphans, f)
		}
	}
	if len(orphans) != 2 {
		t.Fatalf("orphan findings %+v, want one per namespace", orphans)
	}
	if f := orphans[0]; f.Count != 12 || f.NetNS != container || f.Severity != Warning ||
		!strings.Contains(f.Message, "in network namespace 4026532500 (that of pid 5001 (nginx))") {
		t.Errorf("container's orphans: %+v", f)
	}
	if f := orphans[1]; f.Count != 3 || f.NetNS != hostNS || f.Severity != Info || strings.Contains(f.Message, "namespace") {
		t.Errorf("host's orphans: %+v", f)
	}
	var b strings.Builder
	if err := Table(&b, r, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "(kernel)"); n != 4 { // two rows in PROCESSES, two in TOP PEERS
		t.Errorf("%d (kernel) lines, want 2 rows and 2 peers:\n%s", n, b.String())
	}
}

// FuzzShortCmdline: whatever a process puts in its name and command line,
// what sockleak prints of them is valid UTF-8, has no control character,
// and fits in maxCmdline characters.
func FuzzShortCmdline(f *testing.F) {
	f.Add("python3", "/usr/bin/python3 leak_a.py --port 80") // the program dropped
	f.Add("nginx", "nginx: worker process")                  // nginx's own title
	f.Add("x", "x \x1b[2J\r\nrm -rf /")                      // escape sequences and newlines
	f.Add("x", "x \xff\xfe invalid")                         // invalid UTF-8
	f.Add("", "")                                            // a kernel thread
	f.Add("a", strings.Repeat("é", 100))                     // long, multi-byte
	f.Fuzz(func(t *testing.T, name, cmdline string) {
		got := ShortCmdline(name, cmdline)
		if !utf8.ValidString(got) {
			t.Fatalf("%q: invalid UTF-8", got)
		}
		if n := utf8.RuneCountInString(got); n > maxCmdline {
			t.Fatalf("%q: %d characters", got, n)
		}
		for _, r := range got {
			if unicode.IsControl(r) {
				t.Fatalf("%q: a control character %U", got, r)
			}
		}
	})
}
