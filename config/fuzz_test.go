package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that no input panics, and that every failure is a
// non-empty ErrorList of positioned errors without secrets.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	files = append(files, "../examples/crmkpi.yaml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(string(data))
		}
	}
	for _, s := range []string{
		"", "~", "[]", "a: &a [*a]", "x-a: &a {<<: *a}", "connectors: [{<<: [*x]}]",
		"timezone: ${", "connectors: [{schedule: 'TZ=UTC'}]", "scoring: {manual: {2026-W00: {}}}",
		"? [a]\n: b", "listen: !!binary aGVsbG8=", "fx_rates: {USD: .nan, EUR: .inf}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		cfg, err := ParseWithEnv(strings.NewReader(in), "f.yaml", lookup)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config and nil error")
			}
			return
		}
		var list ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error %T %v, want a non-empty ErrorList", err, err)
		}
		for _, e := range list {
			if e.File != "f.yaml" || e.Msg == "" {
				t.Fatalf("malformed error %#v", e)
			}
		}
		if strings.Contains(err.Error(), "SECRET") && !strings.Contains(in, "SECRET") {
			t.Fatalf("error reveals a secret: %v", err)
		}
	})
}

// FuzzExpandEnv checks that expansion never panics and that text without
// "${" comes back unchanged.
func FuzzExpandEnv(f *testing.F) {
	for _, s := range []string{"", "${A}", "$${A}", "${A:-b}", "${", "a$b", "${A}${B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, _, err := expandEnv(in, lookup)
		if !strings.Contains(in, "${") && (err != nil || got != in) {
			t.Fatalf("expandEnv(%q) = %q, %v; want it unchanged", in, got, err)
		}
	})
}
