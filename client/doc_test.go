package client

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps client the small library its doc says: of sockleak's
// packages it imports inspect and internal/wording, not report, watch or
// demo, which would bring the reporting stack (tablewriter, Prometheus)
// to every program that wants a client.
func TestImports(t *testing.T) {
	const module = "github.com/sockleak/sockleak/"
	allowed := map[string]bool{module + "inspect": true, module + "internal/wording": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var checked int
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, module) && !allowed[path] {
				t.Errorf("%s imports %s; client imports only %v of sockleak's packages", name, path, allowed)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no source files found")
	}
}
