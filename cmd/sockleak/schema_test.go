package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sockleak/sockleak/internal/livetest"
)

// The JSON Schemas of the -o json documents, in docs/schemas, checked
// against real output: every fixture tree's here, the live host's, a
// leaking command's and a watch's alerts in the live tests (schemaCheck
// in inspectJSON, runReport and TestWatchLeakingChild).

var schemaDir = filepath.Join("..", "..", "docs", "schemas")

var (
	schemasOnce sync.Once
	schemas     map[string]*jsonschema.Schema
	schemasErr  error
)

// loadSchemas compiles every schema of docs/schemas, by file name without
// .schema.json (inspect, check, run, watch-line). They refer to each other
// by $id, so each is added under its $id first.
func loadSchemas() (map[string]*jsonschema.Schema, error) {
	files, err := filepath.Glob(filepath.Join(schemaDir, "*.schema.json"))
	if err != nil || len(files) == 0 {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	ids := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, &os.PathError{Op: "parse", Path: f, Err: err}
		}
		id, _ := doc.(map[string]any)["$id"].(string)
		if !strings.HasSuffix(id, "/"+filepath.Base(f)) {
			return nil, &os.PathError{Op: "read $id", Path: f, Err: os.ErrInvalid}
		}
		if err := c.AddResource(id, doc); err != nil {
			return nil, err
		}
		ids[strings.TrimSuffix(filepath.Base(f), ".schema.json")] = id
	}
	out := map[string]*jsonschema.Schema{}
	for name, id := range ids {
		if out[name], err = c.Compile(id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// schemaCheck fails t unless doc, one document (or one watch line), is
// valid against docs/schemas/NAME.schema.json.
func schemaCheck(t *testing.T, name string, doc []byte) {
	t.Helper()
	if err := validateDoc(name, doc); err != nil {
		t.Errorf("%v\n%s", err, doc)
	}
}

func validateDoc(name string, doc []byte) error {
	schemasOnce.Do(func() { schemas, schemasErr = loadSchemas() })
	if schemasErr != nil {
		return schemasErr
	}
	sch := schemas[name]
	if sch == nil {
		return os.ErrNotExist
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

func TestSchemasCompile(t *testing.T) {
	s, err := loadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"inspect", "check", "run", "watch-line", "trace"} {
		if s[name] == nil {
			t.Errorf("no docs/schemas/%s.schema.json", name)
		}
	}
}

// fixtureRoots are the proc roots of testdata's fixture trees.
func fixtureRoots(t *testing.T) []string {
	t.Helper()
	roots, err := filepath.Glob(filepath.Join("..", "..", "testdata", "*", "proc"))
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "*", "*", "proc"))
	roots = append(roots, more...)
	if len(roots) < 8 {
		t.Fatalf("%d fixture trees: %v", len(roots), roots)
	}
	return roots
}

// TestSchemaFixtures: inspect's and check's documents of every fixture
// tree (broken ones included: their warnings) are valid.
func TestSchemaFixtures(t *testing.T) {
	for _, root := range fixtureRoots(t) {
		for _, args := range [][]string{
			{"inspect", "-o", "json", "--proc-root", root, "--sockets"},
			{"inspect", "-o", "json", "--proc-root", root, "--state", "close-wait", "--min-age", "0"},
			{"check", "-o", "json", "--proc-root", root},
			{"check", "-o", "json", "--proc-root", root, "--total", "--max-state", "time-wait=1"},
		} {
			var stdout, stderr bytes.Buffer
			code := Main(args, &stdout, &stderr)
			if stdout.Len() == 0 {
				if code != exitError { // a tree that cannot be read at all
					t.Errorf("%q: exit %d and no document: %s", args, code, stderr.String())
				}
				continue
			}
			schemaCheck(t, args[0], stdout.Bytes())
		}
		watchLines(t, root)
	}
}

// watchLines checks every line of two samples of watch on a fixture tree
// (alerts fire at once on the incident's client): samples and alerts.
func watchLines(t *testing.T, root string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args := []string{"watch", "-o", "json", "--proc-root", root, "--count", "2", "--interval", "100ms"}
	if code := Main(args, &stdout, &stderr); code != 0 {
		// The broken trees' first sample fails: watch exits 2.
		if !strings.Contains(root, "broken") || code != exitError || stdout.Len() > 0 {
			t.Errorf("%q: exit %d: %s", args, code, stderr.String())
		}
		return
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) < 2 {
		t.Errorf("%q: %d lines", args, len(lines))
	}
	for _, l := range lines {
		schemaCheck(t, "watch-line", []byte(l))
		if strings.Contains(l, `"pid":`) && !strings.Contains(l, `"start_time":"20`) {
			t.Errorf("a process with no start time in %s", l)
		}
	}
}

// TestSchemasReject: the schemas are not so loose that anything passes.
// Each change to a real document breaks one rule.
func TestSchemasReject(t *testing.T) {
	var stdout, stderr bytes.Buffer
	root := filepath.Join("..", "..", "testdata", "incident", "client", "proc")
	if code := Main([]string{"check", "-o", "json", "--proc-root", root}, &stdout, &stderr); stdout.Len() == 0 {
		t.Fatalf("check: exit %d: %s", code, stderr.String())
	}
	good := stdout.Bytes()
	schemaCheck(t, "check", good)
	for _, tt := range []struct {
		name   string
		schema string
		change func(d map[string]any)
	}{
		{"nanoseconds", "inspect", func(d map[string]any) { d["time"] = "2026-12-02T10:00:00.123456789Z" }},
		{"an offset", "inspect", func(d map[string]any) { d["time"] = "2026-12-02T11:00:00+01:00" }},
		{"a field no schema lists", "inspect", func(d map[string]any) { d["extra"] = 1 }},
		{"a check field in inspect", "inspect", func(d map[string]any) {}},
		{"a missing field", "check", func(d map[string]any) { delete(d, "findings") }},
		{"an unknown state", "check", func(d map[string]any) { d["kernel_states"] = map[string]any{"HALF_OPEN": 1} }},
		{"a bad status", "check", func(d map[string]any) { d["status"] = "fine" }},
		{"a process without a pid", "check", func(d map[string]any) {
			delete(d["processes"].([]any)[0].(map[string]any), "pid")
		}},
		{"version 2", "check", func(d map[string]any) { d["schema_version"] = 2 }},
	} {
		var d map[string]any
		if err := json.Unmarshal(good, &d); err != nil {
			t.Fatal(err)
		}
		if len(d["processes"].([]any)) == 0 {
			t.Fatal("the fixture's document has no process")
		}
		tt.change(d)
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateDoc(tt.schema, b); err == nil {
			t.Errorf("%s: valid against %s", tt.name, tt.schema)
		}
	}
}

// TestSchemaLiveHost: this host's inspect and check documents, every
// socket listed, are valid.
func TestSchemaLiveHost(t *testing.T) {
	livetest.Skip(t)
	for _, args := range [][]string{{"inspect", "-o", "json", "--sockets"}, {"check", "-o", "json"}} {
		var stdout, stderr bytes.Buffer
		if code := Main(args, &stdout, &stderr); code == exitError {
			t.Fatalf("%q: exit %d: %s", args, code, stderr.String())
		}
		schemaCheck(t, args[0], stdout.Bytes())
	}
}

// TestSchemaTrace: trace's document, as its renderer writes the fixture
// recording (trace's golden file, rewritten by go test ./trace -update),
// is valid. A live trace needs BPF: TestWatchTrace checks its lines.
func TestSchemaTrace(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "trace", "testdata", "report.json.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"opened_by"`)) {
		t.Fatalf("the golden report has no group with its opener:\n%s", b)
	}
	schemaCheck(t, "trace", b)
}
