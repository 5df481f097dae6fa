package main

import (
	"context"
	"errors"
)

// runDemo is being written (issue 9).
func runDemo(ctx context.Context, e *env, args []string) error {
	return errors.New("demo: not built yet")
}
