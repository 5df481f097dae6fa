package app

import (
	"io"
	"log/slog"
	"strings"

	"github.com/crmkpi/crmkpi/redact"
)

// LogLevel reads $CRMKPI_LOG_LEVEL: debug, info (the default, also for
// what is not a level), warn or error, in any case.
func LogLevel(v string) slog.Level {
	var level slog.Level
	if v != "" {
		if err := level.UnmarshalText([]byte(strings.ToLower(v))); err != nil {
			level = slog.LevelInfo
		}
	}
	return level
}

// NewLogger builds the process's one logger, writing to w at level: text
// for a terminal (text set), JSON lines otherwise. Everything it writes
// passes r first, so no secret of the config reaches a log line.
func NewLogger(w io.Writer, text bool, level slog.Level, r *redact.Redactor) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if text {
		return slog.New(redactHandler{next: slog.NewTextHandler(w, opts), r: r})
	}
	return slog.New(redactHandler{next: slog.NewJSONHandler(w, opts), r: r})
}
