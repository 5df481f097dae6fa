// Package golden compares what a test produced with a file in its
// package's testdata, and rewrites the file when the test binary runs with
// -update after an intended change. Every golden test of the module goes
// through it, so -update means the same everywhere and no two packages
// declare the flag.
package golden

import (
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// update is registered by every test binary that imports the package, as
// the testing package registers its own flags.
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// File returns the golden file at path. Under -update it writes got there
// first, so the comparison that follows passes and the diff shows in
// version control instead. A missing file fails t at once.
func File(t testing.TB, path string, got []byte) []byte {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	return want
}

// Text fails t with a line diff when got differs from the golden file at
// path, for contracts that are text to the byte.
func Text(t testing.TB, path, got string) {
	t.Helper()
	want := File(t, path, []byte(got))
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}
