package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestReadmeQuickStart runs the README's quick start as a new user would,
// word by word: `demo --serve` in the background, then each command
// against the fake CRMs it keeps running, in-process. Only the directory is
// moved to a temporary one.
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

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var demoErr syncBuf
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, lines[0], nil, &bytes.Buffer{}, &demoErr, func(string) (string, bool) { return "", false })
	}()
	// The demo says when the fakes are up and the config points at them.
	for !strings.Contains(demoErr.String(), "keep running until Ctrl-C") {
		select {
		case code := <-done:
			t.Fatalf("demo --serve ended with %d before serving:\n%s", code, demoErr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	for _, args := range lines[1:] {
		code, stdout, stderr := runCmd(t, nil, args...)
		if code != 0 {
			t.Errorf("crmkpi %s: exit %d\n%s\n%s", strings.Join(args, " "), code, stdout, stderr)
		}
		if args[0] == "score" && !strings.Contains(stdout, " — score ") {
			t.Errorf("crmkpi score printed no scorecard:\n%s", stdout)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("demo --serve after Ctrl-C: exit %d\n%s", code, demoErr.String())
	}
}

// syncBuf is a bytes.Buffer safe to write from the demo's goroutine while
// the test reads it.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
