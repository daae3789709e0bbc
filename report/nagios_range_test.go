package report

import (
	"math"
	"strings"
	"testing"
)

// The examples of the Monitoring Plugins Development Guidelines'
// "Threshold and Ranges" table, and where each alerts.
var rangeTests = []struct {
	in      string
	want    Range
	str     string    // String(): the shortest form
	alert   []float64 // values that alert
	noAlert []float64 // values that do not
}{
	{in: "10", want: Range{End: 10}, str: "10", alert: []float64{-1, 10.5, 11, 1e9}, noAlert: []float64{0, 5, 10}},
	{in: "10:", want: Range{Start: 10, End: math.Inf(1)}, str: "10:", alert: []float64{-5, 0, 9, 9.99}, noAlert: []float64{10, 12, 1e12}},
	{in: "~:10", want: Range{Start: math.Inf(-1), End: 10}, str: "~:10", alert: []float64{11, 100}, noAlert: []float64{-1e9, 0, 10}},
	{in: "10:20", want: Range{Start: 10, End: 20}, str: "10:20", alert: []float64{9, 21}, noAlert: []float64{10, 15, 20}},
	{in: "@10:20", want: Range{Start: 10, End: 20, Inside: true}, str: "@10:20", alert: []float64{10, 15, 20}, noAlert: []float64{9, 21}},
	{in: "0", want: Range{}, str: "0", alert: []float64{1}, noAlert: []float64{0}},
	{in: "0:5", want: Range{End: 5}, str: "5", alert: []float64{6}, noAlert: []float64{0}},
	{in: "@5", want: Range{End: 5, Inside: true}, str: "@5", alert: []float64{0, 5}, noAlert: []float64{6}},
	{in: "@10:", want: Range{Start: 10, End: math.Inf(1), Inside: true}, str: "@10:", alert: []float64{10, 12}, noAlert: []float64{9}},
	{in: "~:", want: Range{Start: math.Inf(-1), End: math.Inf(1)}, str: "~:", noAlert: []float64{-1e300, 0, 1e300}},
	{in: "-5:-1", want: Range{Start: -5, End: -1}, str: "-5:-1", alert: []float64{0}, noAlert: []float64{-3}},
	{in: "80.5", want: Range{End: 80.5}, str: "80.5", alert: []float64{81}, noAlert: []float64{80}},
	{in: "1e3", want: Range{End: 1000}, str: "1000", alert: []float64{1001}, noAlert: []float64{1000}},
}

func TestParseRange(t *testing.T) {
	for _, tt := range rangeTests {
		r, err := ParseRange(tt.in)
		if err != nil || r != tt.want {
			t.Errorf("ParseRange(%q) = %+v, %v; want %+v", tt.in, r, err, tt.want)
			continue
		}
		if s := r.String(); s != tt.str {
			t.Errorf("ParseRange(%q).String() = %q, want %q", tt.in, s, tt.str)
		}
		for _, v := range tt.alert {
			if !r.Alert(v) {
				t.Errorf("%q: %v does not alert, want it to", tt.in, v)
			}
		}
		for _, v := range tt.noAlert {
			if r.Alert(v) {
				t.Errorf("%q: %v alerts, want it not to", tt.in, v)
			}
		}
	}
}

func TestParseRangeErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "empty range",
		"@":                     "empty range",
		"20:10":                 "start 20 is above end 10",
		":10":                   `want a number or "~" before ':'`,
		"x":                     `"x" is not a number`,
		"10:x":                  `"x" is not a number`,
		"inf":                   `"inf" is not a number`,
		"NaN":                   `"NaN" is not a number`,
		"0x10":                  `"0x10" is not a number`,
		"1_000":                 `"1_000" is not a number`,
		"1e999":                 `"1e999" is not a number`,
		"~":                     `"~" is not a number`,
		"10:20:30":              `"20:30" is not a number`,
		"@@5":                   `"@5" is not a number`,
		" 5":                    `" 5" is not a number`,
		strings.Repeat("1", 65): "range of 65 bytes: want at most 64",
	} {
		if _, err := ParseRange(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseRange(%q) = %v, want an error with %q", in, err, want)
		}
	}
}

func TestRangeMax(t *testing.T) {
	for in, want := range map[string]float64{"10": 10, "~:10": 10, "0": 0, "-5:3": 3} {
		r, _ := ParseRange(in)
		if n, ok := r.Max(); !ok || n != want {
			t.Errorf("%q.Max() = %v, %v; want %v", in, n, ok, want)
		}
	}
	for _, in := range []string{"10:", "1:10", "@10", "~:"} {
		r, _ := ParseRange(in)
		if n, ok := r.Max(); ok {
			t.Errorf("%q.Max() = %v, want none: it is no plain maximum", in, n)
		}
	}
}

// FuzzParseRange: any text parses or fails without a panic, and a range
// that parses prints as a range that parses back to itself, alerting on
// the same values.
func FuzzParseRange(f *testing.F) {
	for _, tt := range rangeTests {
		f.Add(tt.in, 12.0)
	}
	f.Add("@~:-0", 0.0)
	f.Add("1e308:", 1e308)
	f.Fuzz(func(t *testing.T, s string, v float64) {
		r, err := ParseRange(s)
		if err != nil {
			return
		}
		if math.IsNaN(r.Start) || math.IsNaN(r.End) || r.Start > r.End || math.IsInf(r.Start, 1) || math.IsInf(r.End, -1) {
			t.Fatalf("ParseRange(%q) = %+v: not a range", s, r)
		}
		back, err := ParseRange(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseRange(%q) = %+v, printed %q, parsed back as %+v, %v", s, r, r.String(), back, err)
		}
		if !math.IsNaN(v) && back.Alert(v) != r.Alert(v) {
			t.Fatalf("%q and %q disagree on %v", s, r.String(), v)
		}
		if n, ok := r.Max(); ok && v >= 0 && r.Alert(v) != (v > n) {
			t.Fatalf("%q: Max %v, but %v alerts: %v", s, n, v, r.Alert(v))
		}
	})
}
