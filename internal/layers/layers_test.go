package layers

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/crmkpi/crmkpi"

// rules are the edges the data flow forbids. A rule applies to the
// package named and every package below it. Direct rules read the
// package's own imports; deep rules follow every import of the module as
// go list -deps would, since scoring must not reach a CRM's types even
// through a helper. Tests may import anything: they store connector
// records in a warehouse to read back.
var rules = []struct {
	pkg    string
	deny   []string
	allow  []string // below a denied package, allowed all the same
	deep   bool
	reason string
}{
	{"connectors", []string{"sync", "warehouse", "scoring", "notify", "web", "app", "config", "demo"}, nil, true,
		"a connector knows no database and nothing downstream"},
	{"warehouse", []string{"sync", "scoring", "notify", "web", "app", "config"}, nil, true,
		"the warehouse stores records; it does not know who reads them"},
	{"scoring", []string{"connectors", "warehouse", "sync", "notify", "web", "app", "config"}, []string{"warehouse/rows"}, true,
		"scoring reads only the warehouse's rows (warehouse/rows)"},
	{"notify", []string{"connectors", "sync", "web", "app", "config"}, nil, false,
		"notify never talks to a CRM"},
	{"web", []string{"connectors", "sync", "warehouse", "notify", "app"}, nil, false,
		"the web pages read scores through the application layer"},
	{"sync", []string{"scoring", "notify", "web", "app"}, nil, true,
		"sync moves records from connectors to the warehouse only"},
}

func TestImportRules(t *testing.T) {
	for _, r := range rules {
		t.Run(r.pkg, func(t *testing.T) {
			for _, pkg := range packagesBelow(t, r.pkg) {
				for _, v := range violations(t, pkg, r.deny, r.allow, r.deep) {
					t.Errorf("%s: %s", v, r.reason)
				}
			}
		})
	}
}

// under reports whether path is the module's package p or below it.
func under(path, p string) bool {
	p = module + "/" + p
	return path == p || strings.HasPrefix(path, p+"/")
}

// packagesBelow lists the module's packages at dir and below, skipping
// those that only fake a CRM for tests (…test packages import what they
// fake, and nothing ships them).
func packagesBelow(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join("..", "..", dir), func(path string, d os.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if strings.HasSuffix(d.Name(), "test") || d.Name() == "testdata" {
			return filepath.SkipDir
		}
		rel, err := filepath.Rel(filepath.Join("..", ".."), path)
		if err != nil {
			return err
		}
		if len(goFiles(t, module+"/"+filepath.ToSlash(rel))) > 0 {
			out = append(out, module+"/"+filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no packages at %s: the rule reads nothing", dir)
	}
	return out
}

// goFiles lists the non-test Go files of the module's package pkg.
func goFiles(t *testing.T, pkg string) []string {
	t.Helper()
	dir := filepath.Join("..", "..", filepath.FromSlash(strings.TrimPrefix(pkg, module+"/")))
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			out = append(out, f)
		}
	}
	return out
}

// imports lists the module's packages that the non-test files of pkg
// import.
func imports(t *testing.T, pkg string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range goFiles(t, pkg) {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(path, module+"/") {
				out[path] = name
			}
		}
	}
	return out
}

// violations lists the imports of root (and, deep, of everything it
// reaches in the module) that fall under deny and not under allow, each
// as the chain that reaches it.
func violations(t *testing.T, root string, deny, allow []string, deep bool) []string {
	t.Helper()
	var out []string
	via := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		for path, file := range imports(t, pkg) {
			if denied(path, deny, allow) && !under(root, path) {
				chain := pkg
				for p := via[pkg]; p != ""; p = via[p] {
					chain = p + " -> " + chain
				}
				out = append(out, chain+" -> "+path+" (in "+filepath.Base(file)+")")
			}
			if _, seen := via[path]; !seen && deep {
				via[path] = pkg
				queue = append(queue, path)
			}
		}
	}
	return out
}

func denied(path string, deny, allow []string) bool {
	for _, a := range allow {
		if under(path, a) {
			return false
		}
	}
	for _, d := range deny {
		if under(path, d) {
			return true
		}
	}
	return false
}

// TestRulesCatch: a rule that cannot fail is no rule. The app package
// imports every layer, and scoring reaches warehouse/rows, so the reader
// must find those edges, follow them deep, and honour allow.
func TestRulesCatch(t *testing.T) {
	got := violations(t, module+"/app", []string{"notify", "redact"}, nil, false)
	want := []string{module + "/app -> " + module + "/notify (in ", module + "/app -> " + module + "/redact (in "}
	if len(got) != len(want) {
		t.Fatalf("app, deny notify and redact: %q, want %d edges", got, len(want))
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, w)
		}
		if !found {
			t.Errorf("app, deny notify and redact: %q has no %q", got, w)
		}
	}
	deep := violations(t, module+"/scoring", []string{"period"}, nil, true)
	if len(deep) == 0 {
		t.Errorf("scoring, deny period, deep: no edge found; scoring imports period")
	}
	if v := violations(t, module+"/scoring", []string{"warehouse"}, []string{"warehouse/rows"}, true); len(v) != 0 {
		t.Errorf("scoring, deny warehouse but rows, deep: %q, want none", v)
	}
	if v := violations(t, module+"/scoring", []string{"warehouse"}, nil, true); len(v) == 0 {
		t.Errorf("scoring, deny warehouse, deep: no edge found; scoring imports warehouse/rows")
	}
}
