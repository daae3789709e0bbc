package report

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sockleak/sockleak/inspect"
)

// aged sets the kernel's lower bound of the sockets' age.
func aged(ss []inspect.Socket, ms uint32) []inspect.Socket {
	for i := range ss {
		ss[i].AgeMs, ss[i].HasAge = ms, true
	}
	return ss
}

// TestMinAge: leak-state sockets younger than MinAge by the kernel's
// bound are listed but not counted, in the findings and in Check; those
// of unknown age and MinAge 0 count as before.
func TestMinAge(t *testing.T) {
	young := func() []inspect.Socket { return aged(shiftInodes(cwTo(11, "10.0.0.5:80", 42), 100), 40) }
	old := func() []inspect.Socket { return aged(shiftInodes(cwTo(2, "10.0.0.6:80", 42), 200), 12_000) }
	unknown := func() []inspect.Socket { return shiftInodes(cwTo(1, "10.0.0.7:80", 42), 300) }
	orphans := func() []inspect.Socket {
		return aged(many(3, inspect.FinWait2, ephemeral("10.0.0.7"), fixed("10.0.0.9:443")), 100)
	}
	limits := CheckThresholds{States: map[inspect.TCPState]Level{inspect.CloseWait: {AtMost(0), AtMost(0)}, inspect.FinWait2: {AtMost(0), AtMost(0)}}}
	for _, tt := range []struct {
		name      string
		minAge    time.Duration
		socks     [][]inspect.Socket
		wantCount int // the close_wait finding's, 0 for none
		wantCheck []violationKey
		wantNotes []string
	}{
		{"young only: no finding, no violation", DefaultMinAge, [][]inspect.Socket{young()}, 0, []violationKey{},
			[]string{"11 sockets in CLOSE_WAIT younger than 3s not counted as leaked (--min-age)"}},
		{"young and old: the old count", DefaultMinAge, [][]inspect.Socket{young(), old()}, 2,
			[]violationKey{{Critical, "close_wait", 42, "10.0.0.5:80", 2, 0}},
			[]string{"11 sockets in CLOSE_WAIT younger than 3s not counted as leaked (--min-age)"}},
		{"unknown age counts", DefaultMinAge, [][]inspect.Socket{young(), unknown()}, 1,
			[]violationKey{{Critical, "close_wait", 42, "10.0.0.5:80", 1, 0}},
			[]string{"11 sockets in CLOSE_WAIT younger than 3s not counted as leaked (--min-age)"}},
		{"min age 0 counts every socket", 0, [][]inspect.Socket{young(), old()}, 13,
			[]violationKey{{Critical, "close_wait", 42, "10.0.0.5:80", 13, 0}}, nil},
		{"young orphans are not counted either", DefaultMinAge, [][]inspect.Socket{orphans()}, 0, []violationKey{},
			[]string{"3 sockets in FIN_WAIT2 younger than 3s not counted as leaked (--min-age)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			th := DefaultThresholds
			th.MinAge = tt.minAge
			r := Analyze(snapshot([]inspect.Process{proc(42, "app", 40, 1024)}, tt.socks...), th)
			got := 0
			for _, f := range r.Findings {
				if f.Kind == KindCloseWait {
					got = f.Count
				}
				if f.Kind == KindFinWait2 {
					t.Errorf("a fin_wait2 finding of young orphans: %+v", f)
				}
			}
			if got != tt.wantCount {
				t.Errorf("close_wait finding counts %d, want %d", got, tt.wantCount)
			}
			if diff := cmp.Diff(tt.wantCheck, violationKeys(Check(r, limits))); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantNotes, r.Notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
			// Still listed: every socket is in its owner's counts.
			n := total(r.Kernel) + total(r.Unknown)
			for _, p := range r.Processes {
				n += p.Sockets
			}
			if n != len(r.Snapshot.Sockets) {
				t.Errorf("owners list %d sockets, want all %d", n, len(r.Snapshot.Sockets))
			}
		})
	}
}

// TestMinAgeTotal: check --total does not count young sockets either.
func TestMinAgeTotal(t *testing.T) {
	snap := snapshot([]inspect.Process{proc(42, "app", 40, 1024)},
		aged(shiftInodes(cwTo(5, "10.0.0.5:80", 42), 100), 40), aged(shiftInodes(cwTo(2, "10.0.0.6:80", 42), 200), 9000))
	r := Analyze(snap, DefaultThresholds)
	vs := Check(r, CheckThresholds{States: cwThreshold(0, 0), Total: true})
	if len(vs) != 1 || vs[0].Value != 2 {
		t.Errorf("violations = %+v, want one of the 2 old sockets", vs)
	}
}

// TestAgeShown: the table's AGE column and the JSON's age_ms show the
// bound where it is known, and nothing where it is not.
func TestAgeShown(t *testing.T) {
	socks := slices.Concat(aged(shiftInodes(cwTo(1, "10.0.0.5:80", 42), 100), 12_345), shiftInodes(cwTo(1, "10.0.0.6:80", 42), 200))
	r := Analyze(snapshot([]inspect.Process{proc(42, "app", 40, 1024)}, socks), DefaultThresholds)
	var b strings.Builder
	if err := Table(&b, r, TableOptions{Sockets: true}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "AGE") || !strings.Contains(out, "≥12.3s") {
		t.Errorf("no AGE column with ≥12.3s:\n%s", out)
	}
	d := NewDocument(r)
	var ages []any
	for _, s := range d.Sockets {
		raw, _ := json.Marshal(s)
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		ages = append(ages, m["age_ms"])
	}
	if diff := cmp.Diff([]any{12345.0, nil}, ages); diff != "" {
		t.Errorf("age_ms (-want +got):\n%s", diff)
	}
	// No socket with an age: no column.
	r = Analyze(snapshot([]inspect.Process{proc(42, "app", 40, 1024)}, shiftInodes(cwTo(1, "10.0.0.6:80", 42), 200)), DefaultThresholds)
	b.Reset()
	if err := Table(&b, r, TableOptions{Sockets: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "AGE") {
		t.Errorf("an AGE column without ages:\n%s", b.String())
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		850 * time.Millisecond: "850ms", 3250 * time.Millisecond: "3.2s", 192500 * time.Millisecond: "3m12s",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestYoungNoteShownOnce: check's text and inspect's table say once how
// many young sockets were left out, and nothing when none were.
func TestYoungNoteShownOnce(t *testing.T) {
	procs := []inspect.Process{proc(42, "app", 40, 1024), proc(43, "app2", 40, 1024)}
	r := Analyze(snapshot(procs, aged(shiftInodes(cwTo(4, "10.0.0.5:80", 42), 100), 40),
		aged(shiftInodes(cwTo(3, "10.0.0.5:80", 43), 200), 40)), DefaultThresholds)
	l := CheckThresholds{States: cwThreshold(0, 0)}
	var check, table strings.Builder
	if err := CheckText(&check, r, l, Check(r, l)); err != nil {
		t.Fatal(err)
	}
	if err := Table(&table, r, TableOptions{}); err != nil {
		t.Fatal(err)
	}
	const note = "7 sockets in CLOSE_WAIT younger than 3s not counted as leaked (--min-age)"
	for what, out := range map[string]string{"check": check.String(), "table": table.String()} {
		if n := strings.Count(out, note); n != 1 {
			t.Errorf("%s says %d times %q:\n%s", what, n, note, out)
		}
	}
	if !strings.HasPrefix(check.String(), "OK: no threshold exceeded") {
		t.Errorf("young sockets failed the check:\n%s", check.String())
	}
	r = Analyze(snapshot(procs, aged(shiftInodes(cwTo(4, "10.0.0.5:80", 42), 100), 5000)), DefaultThresholds)
	if len(r.Notes) != 0 {
		t.Errorf("notes without young sockets: %q", r.Notes)
	}
}
