package golden

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps its failures instead of failing the
// test that uses it.
type recorder struct {
	testing.TB
	errors []string
	fatal  bool
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, format)
}

// Fatalf records the failure and stops the goroutine, as t.Fatalf does.
func (r *recorder) Fatalf(format string, args ...any) {
	r.errors = append(r.errors, format)
	r.fatal = true
	runtime.Goexit()
}

// run calls f with a recorder on its own goroutine, so that Fatalf can stop
// it.
func run(t *testing.T, f func(*recorder)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestText(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.golden")
	if err := os.WriteFile(path, []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, func(r *recorder) { Text(r, path, "one\ntwo\n") }); len(r.errors) != 0 {
		t.Errorf("Text with the file's own text failed: %q", r.errors)
	}
	r := run(t, func(r *recorder) { Text(r, path, "one\nthree\n") })
	if len(r.errors) != 1 || r.fatal || !strings.Contains(r.errors[0], "differs") {
		t.Errorf("Text with other text: errors %q (fatal %v), want one diff", r.errors, r.fatal)
	}
	r = run(t, func(r *recorder) { Text(r, filepath.Join(dir, "missing.golden"), "x") })
	if len(r.errors) != 1 || !r.fatal || !strings.Contains(r.errors[0], "-update") {
		t.Errorf("Text of a missing file: errors %q (fatal %v), want one fatal naming -update", r.errors, r.fatal)
	}
}

func TestUpdate(t *testing.T) {
	defer func(old bool) { *update = old }(*update)
	*update = true
	path := filepath.Join(t.TempDir(), "new.golden")
	if r := run(t, func(r *recorder) { Text(r, path, "fresh\n") }); len(r.errors) != 0 {
		t.Errorf("Text under -update failed: %q", r.errors)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "fresh\n" {
		t.Errorf("golden file after -update = %q, %v; want %q", b, err, "fresh\n")
	}
}
