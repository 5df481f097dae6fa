package connectortest

import (
	"bytes"
	"strings"
	"sync"
)

// Buffer is a log sink that the goroutines writing to it (a client's
// retries, the sync engine, a child process's output copier) and the test
// reading it may use at once, which a bytes.Buffer may not.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// LineWith reports whether one line of s holds every word, so that a test
// can ask for a log record's message and its attributes together without
// depending on their order or on the rest of the line.
func LineWith(s string, words ...string) bool {
	for l := range strings.SplitSeq(s, "\n") {
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(l, w)
		}
		if ok {
			return true
		}
	}
	return false
}
