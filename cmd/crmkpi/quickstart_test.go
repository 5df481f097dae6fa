package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReadmeQuickStart runs the README's quick start as a new user would,
// word by word, with the crmkpi binary: `demo --serve` in the background,
// then each command against the fake CRMs it keeps running, then Ctrl-C
// (SIGINT) for the demo. Only the directory is moved to a temporary one.
func TestReadmeQuickStart(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- TestReadmeQuickStart[^>]*-->\n```sh\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no quick start block after its TestReadmeQuickStart marker")
	}
	dir := filepath.Join(t.TempDir(), "demo-run")
	var lines [][]string
	for _, l := range strings.Split(strings.TrimSpace(string(m[1])), "\n") {
		l, _, _ = strings.Cut(l, "#")
		words := strings.Fields(l)
		if len(words) < 3 || strings.Join(words[:3], " ") != "go run ./cmd/crmkpi" {
			t.Fatalf("quick start line %q does not run crmkpi", l)
		}
		for i, w := range words {
			words[i] = strings.Replace(w, "demo-run", dir, 1)
		}
		lines = append(lines, words[3:])
	}
	if len(lines) < 2 || strings.Join(lines[0][:2], " ") != "demo --serve" {
		t.Fatalf("the quick start does not start with demo --serve: %q", lines)
	}

	demo := start(t, lines[0]...)
	// The demo says when the fakes are up and the config points at them.
	pollUntil(t, 2*time.Minute, "the demo to serve its fakes", func() bool {
		select {
		case <-demo.done:
			t.Fatalf("demo --serve ended with %d before serving:\n%s", demo.cmd.ProcessState.ExitCode(), demo.stderr)
		default:
		}
		return strings.Contains(demo.stderr.String(), "keep running until Ctrl-C")
	})
	for _, args := range lines[1:] {
		code, stdout, stderr := crmkpi(t, args...)
		if code != 0 {
			t.Errorf("crmkpi %s: exit %d\n%s\n%s", strings.Join(args, " "), code, stdout, stderr)
		}
		if args[0] == "score" && !strings.Contains(stdout, " — score ") {
			t.Errorf("crmkpi score printed no scorecard:\n%s", stdout)
		}
	}
	if err := demo.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	if code := demo.wait(t, time.Minute); code != 0 {
		t.Errorf("demo --serve after Ctrl-C: exit %d\n%s", code, demo.stderr)
	}
}
