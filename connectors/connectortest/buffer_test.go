package connectortest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestBuffer writes from many goroutines at once (the race detector's
// case) and reads every line back whole.
func TestBuffer(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() { fmt.Fprintf(&b, "line %d\n", i) })
	}
	wg.Wait()
	got := b.String()
	if n := strings.Count(got, "\n"); n != 8 {
		t.Errorf("%d lines, want 8:\n%s", n, got)
	}
	for i := range 8 {
		if !LineWith(got, fmt.Sprintf("line %d", i)) {
			t.Errorf("line %d missing:\n%s", i, got)
		}
	}
}

func TestLineWith(t *testing.T) {
	const log = "level=WARN msg=\"retrying request\" attempt=2\nlevel=INFO msg=done records=7\n"
	for _, tt := range []struct {
		words []string
		want  bool
	}{
		{[]string{"retrying request", "attempt=2"}, true},
		{[]string{"records=7", "msg=done"}, true}, // any order
		{[]string{"retrying request", "records=7"}, false},
		{[]string{"level=ERROR"}, false},
		{nil, true},
	} {
		if got := LineWith(log, tt.words...); got != tt.want {
			t.Errorf("LineWith(log, %q) = %v, want %v", tt.words, got, tt.want)
		}
	}
}
