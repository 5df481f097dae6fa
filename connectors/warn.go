package connectors

import (
	"context"
	"log/slog"
	"sync"
)

// Warnings logs each warning once per key: a CRM quirk met on every page
// is worth one line per connector and process, not thousands. The zero
// value discards; set Log. It is safe for concurrent use.
type Warnings struct {
	Log  *slog.Logger
	seen sync.Map
}

// Once logs msg with args at warning level the first time key is seen.
func (w *Warnings) Once(ctx context.Context, key, msg string, args ...any) {
	if _, dup := w.seen.LoadOrStore(key, true); !dup && w.Log != nil {
		w.Log.WarnContext(ctx, msg, args...)
	}
}
