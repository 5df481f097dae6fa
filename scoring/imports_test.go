package scoring

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps scoring reading the warehouse's rows and nothing of the
// connectors that fill them: no package that scoring imports, directly or
// through others of this module, is connectors or one of its
// subpackages, or the warehouse itself (which imports connectors for the
// pages it stores). It reads the import clauses of the non-test files, as
// go list -deps would follow them; tests may import anything, since they
// store connector records in a warehouse to read back.
func TestImports(t *testing.T) {
	const module = "github.com/crmkpi/crmkpi"
	forbidden := func(path string) bool {
		return path == module+"/connectors" || strings.HasPrefix(path, module+"/connectors/") || path == module+"/warehouse"
	}
	// via records how each package of the module was reached, for the
	// message.
	via := map[string]string{module + "/scoring": ""}
	queue := []string{module + "/scoring"}
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		dir := filepath.Join("..", strings.TrimPrefix(pkg, module+"/"))
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			n++
			for _, imp := range f.Imports {
				path, err := strconv.Unquote(imp.Path.Value)
				if err != nil {
					t.Fatal(err)
				}
				if path != module && !strings.HasPrefix(path, module+"/") {
					continue
				}
				if forbidden(path) {
					chain := pkg
					for p := via[pkg]; p != ""; p = via[p] {
						chain = p + " -> " + chain
					}
					t.Errorf("%s -> %s (in %s): scoring must not depend on connectors or the warehouse, only on warehouse/rows", chain, path, name)
				}
				if _, seen := via[path]; !seen {
					via[path] = pkg
					queue = append(queue, path)
				}
			}
		}
		if n == 0 {
			t.Fatalf("no Go files in %s for package %s", dir, pkg)
		}
	}
	if _, ok := via[module+"/warehouse/rows"]; !ok {
		t.Errorf("scoring does not import warehouse/rows: the test no longer sees the read path")
	}
}
