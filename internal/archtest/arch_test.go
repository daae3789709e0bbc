package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const (
	maxFileLines = 450 // a non-test file longer than this holds several jobs
	maxFuncLines = 80  // a function longer than this is several steps unnamed
)

// pkg is one directory of Go files.
type pkg struct {
	dir     string          // relative to the module root, slash-separated
	name    string          // package clause, test files' _test suffix aside
	doc     []string        // files with a package doc comment
	imports map[string]bool // import paths of the non-test files
	// testOnly is true while only _test.go files have been seen.
	testOnly bool
}

// tree is the module's source, parsed once for every test.
type tree struct {
	module string
	root   string
	fset   *token.FileSet
	files  map[string]*ast.File // relative path -> syntax
	pkgs   map[string]*pkg      // relative dir -> package
}

var parsed *tree

func TestMain(m *testing.M) {
	t, err := parseTree("../..")
	if err != nil {
		println("archtest:", err.Error())
		os.Exit(2)
	}
	parsed = t
	os.Exit(m.Run())
}

func parseTree(root string) (*tree, error) {
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	t := &tree{root: root, fset: token.NewFileSet(), files: map[string]*ast.File{}, pkgs: map[string]*pkg{}}
	for line := range strings.Lines(string(mod)) {
		if m, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			t.module = strings.TrimSpace(m)
		}
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || n == "fuzz") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		f, err := parser.ParseFile(t.fset, p, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		t.files[rel] = f
		dir := path.Dir(rel)
		pk := t.pkgs[dir]
		if pk == nil {
			pk = &pkg{dir: dir, name: strings.TrimSuffix(f.Name.Name, "_test"), imports: map[string]bool{}, testOnly: true}
			t.pkgs[dir] = pk
		}
		if strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		pk.testOnly = false
		if f.Doc != nil {
			pk.doc = append(pk.doc, rel)
		}
		for _, im := range f.Imports {
			ip, _ := strconv.Unquote(im.Path.Value)
			pk.imports[ip] = true
		}
		return nil
	})
	return t, err
}

// TestFileAndFunctionSize: no non-test file over maxFileLines, and no
// non-test function over maxFuncLines.
func TestFileAndFunctionSize(t *testing.T) {
	checked := 0
	for rel, f := range parsed.files {
		if strings.HasSuffix(rel, "_test.go") {
			continue
		}
		checked++
		if n := parsed.fset.File(f.Pos()).LineCount(); n > maxFileLines {
			t.Errorf("%s: %d lines, over %d: split it by job", rel, n, maxFileLines)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			start, end := parsed.fset.Position(fn.Body.Lbrace), parsed.fset.Position(fn.Body.Rbrace)
			if n := end.Line - start.Line + 1; n > maxFuncLines {
				t.Errorf("%s:%d: %s is %d lines, over %d", rel, start.Line, fn.Name.Name, n, maxFuncLines)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d source files found under %s: the walk is broken", checked, parsed.root)
	}
}

// TestPackageDocs: every package has exactly one doc comment, on a
// non-test file, that starts the way godoc expects.
func TestPackageDocs(t *testing.T) {
	if len(parsed.pkgs) < 8 {
		t.Fatalf("only %d packages found: the walk is broken", len(parsed.pkgs))
	}
	for dir, pk := range parsed.pkgs {
		if len(pk.imports) == 0 && len(pk.doc) == 0 && pk.testOnly {
			continue // tests alone (deploy/prometheus's rule tests): no package to document
		}
		switch len(pk.doc) {
		case 0:
			t.Errorf("%s: no package doc comment", dir)
			continue
		case 1:
		default:
			t.Errorf("%s: package doc comments in %d files (%s): keep one", dir, len(pk.doc), strings.Join(pk.doc, ", "))
		}
		want := "Package " + pk.name + " "
		if pk.name == "main" {
			want = "" // commands say what they do, in any words
		}
		if text := parsed.files[pk.doc[0]].Doc.Text(); !strings.HasPrefix(text, want) {
			t.Errorf("%s: package doc should start %q: %q", pk.doc[0], want, firstLine(text))
		}
	}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// closure returns the module's packages that dir's non-test files import,
// directly or not, dir included, and the third-party packages they import.
func (t *tree) closure(dir string) (own []string, external map[string]bool) {
	external = map[string]bool{}
	seen := map[string]bool{dir: true}
	queue := []string{dir}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		own = append(own, d)
		for ip := range t.pkgs[d].imports {
			rel, ok := strings.CutPrefix(ip, t.module+"/")
			switch {
			case ok && !seen[rel]:
				seen[rel] = true
				queue = append(queue, rel)
			case !ok && strings.Contains(strings.Split(ip, "/")[0], "."):
				external[ip] = true
			}
		}
	}
	slices.Sort(own)
	return own, external
}

// mayImport is docs/architecture.md's package table: of sockleak's own
// packages, the ones each may import directly. Data flows one way, collect
// → analyse → render, and over time watch; the reference client stays
// small. A package not listed here (but the programs: cmd, bench, testdata,
// and what a package's testdata holds) is a package the table does not
// describe yet.
var mayImport = map[string][]string{
	"internal/wording":     {},
	"internal/metrics":     {"internal/buildinfo"},
	"internal/buildinfo":   {},
	"internal/livetest":    {},
	"internal/archtest":    {},
	"internal/hostiletest": {},
	"internal/bpfkit":      {},
	"internal/symbolize":   {},
	"trace":                {"inspect", "internal/bpfkit", "internal/symbolize", "internal/wording"},
	"inspect":              {"internal/wording", "internal/bpfkit"},
	"report":               {"inspect", "internal/wording", "internal/metrics"},
	"watch":                {"report", "inspect", "internal/wording", "internal/metrics"},
	"run":                  {"watch", "inspect", "internal/wording"},
	"client":               {"inspect", "internal/wording"},
	"demo":                 {"client", "report", "inspect", "internal/wording"},
	"socktest":             {"inspect", "internal/wording"},
}

// TestLayers: every package imports only what the table allows.
func TestLayers(t *testing.T) {
	checked := 0
	for dir, pk := range parsed.pkgs {
		allowed, listed := mayImport[dir]
		switch {
		case listed:
		case dir == "cmd/sockleak", strings.HasPrefix(dir, "bench/"), strings.HasPrefix(dir, "testdata/"),
			strings.Contains(dir, "/testdata/"), pk.testOnly: // a package's testdata: socktest's scratch module
			continue // programs and test-only packages may use anything
		default:
			t.Errorf("package %s is not in the architecture table (docs/architecture.md, mayImport)", dir)
			continue
		}
		checked++
		for ip := range pk.imports {
			rel, own := strings.CutPrefix(ip, parsed.module+"/")
			if own && !slices.Contains(allowed, rel) {
				t.Errorf("%s imports %s; it may import only %v", dir, rel, allowed)
			}
		}
	}
	for dir := range mayImport {
		if parsed.pkgs[dir] == nil {
			t.Errorf("the table lists %s, which does not exist", dir)
		}
	}
	if checked < len(mayImport) {
		t.Errorf("checked %d packages of the %d listed", checked, len(mayImport))
	}
}

// TestClientStaysSmall: the reference client's third-party imports are no
// wider than inspect's, so `go list -deps ./client` pulls nothing that
// collecting a snapshot does not.
func TestClientStaysSmall(t *testing.T) {
	_, inspectExt := parsed.closure("inspect")
	_, clientExt := parsed.closure("client")
	if len(inspectExt) == 0 {
		t.Fatal("inspect imports no third-party package: the import scan is broken")
	}
	for ip := range clientExt {
		if !inspectExt[ip] {
			t.Errorf("client imports %s, which inspect does not", ip)
		}
	}
}

// TestLibrariesBehindOnePackage: each third-party library is used by the
// package it belongs to (STYLE.md, dependencies): cobra by cmd, the table
// library by report's table renderer, Prometheus by the metric views.
func TestLibrariesBehindOnePackage(t *testing.T) {
	allowed := map[string]func(dir, file string) bool{
		"github.com/spf13/": func(dir, _ string) bool { return dir == "cmd/sockleak" },
		"github.com/olekukonko/tablewriter": func(_, file string) bool {
			return file == "report/table.go"
		},
		"github.com/prometheus/": func(dir, _ string) bool {
			return dir == "report" || dir == "watch" || strings.HasPrefix(dir, "internal/metrics") || dir == "deploy/prometheus"
		},
	}
	found := 0
	for rel, f := range parsed.files {
		if strings.HasSuffix(rel, "_test.go") {
			continue
		}
		for _, im := range f.Imports {
			ip, _ := strconv.Unquote(im.Path.Value)
			for prefix, ok := range allowed {
				if strings.HasPrefix(ip, prefix) {
					found++
					if !ok(path.Dir(rel), rel) {
						t.Errorf("%s imports %s", rel, ip)
					}
				}
			}
		}
	}
	if found == 0 {
		t.Fatal("no import of cobra, tablewriter or Prometheus found: the scan is broken")
	}
}
