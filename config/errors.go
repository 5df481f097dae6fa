package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a config file, at a position in it.
// Msg names the key ("connectors[1].type: ...") and never holds a secret.
type Error struct {
	File   string
	Line   int // 1-based; 0 when the problem has no position
	Column int // 1-based; 0 when unknown
	Msg    string
	// Syntax is true for a file that is not YAML at all; its column is
	// printed, since the line alone rarely shows where a brace is missing.
	Syntax bool
}

// Error returns "FILE:LINE: MSG", "FILE:LINE:COLUMN: MSG" for a syntax
// error, or "FILE: MSG" without a line.
func (e *Error) Error() string {
	if e.Line <= 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	if e.Syntax && e.Column > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// ErrorList is every problem found in a config file, sorted by position.
// Parse returns all of them at once so an admin fixes the file in one pass.
type ErrorList []*Error

// Error returns the errors one per line.
func (l ErrorList) Error() string {
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the errors for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// sort orders the list by line and column; the stable sort keeps errors at
// the same position in the order they were found.
func (l ErrorList) sort() {
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
}

// err returns the list as an error, or nil when it is empty, so callers
// never get a non-nil error interface holding an empty list.
func (l ErrorList) err() error {
	if len(l) == 0 {
		return nil
	}
	l.sort()
	return l
}
