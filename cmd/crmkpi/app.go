package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/warehouse"
)

// loadConfig reads the config named by flagValue, $CRMKPI_CONFIG or the
// default path. Every problem in it is a usage error (exit 2).
func loadConfig(e *env, flagValue string) (*config.Config, error) {
	path := flagValue
	if path == "" {
		path = e.getenv(config.EnvPath)
	}
	if path == "" {
		path = config.DefaultPath
	}
	cfg, err := config.LoadWithEnv(path, e.lookup)
	var list config.ErrorList
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, usageError{fmt.Errorf("config file %s not found (use --config FILE or $%s; examples/crmkpi.yaml is a complete example)", path, config.EnvPath)}
	case errors.As(err, &list):
		return nil, usageError{fmt.Errorf("invalid config:\n%w", err)}
	case err != nil:
		return nil, usageError{err}
	}
	e.redactor.Add(configSecrets(cfg)...)
	return cfg, nil
}

// openWarehouse opens the configured warehouse and migrates it, so every
// command works on a fresh database.
func openWarehouse(ctx context.Context, cfg *config.Config) (*warehouse.Store, error) {
	s, err := warehouse.Open(ctx, cfg.Warehouse.DSN.Value())
	if err != nil {
		return nil, fmt.Errorf("open warehouse: %w", err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate warehouse: %w", err)
	}
	return s, nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newLogger builds the one logger of the process: text on a terminal, JSON
// lines otherwise, at the level of $CRMKPI_LOG_LEVEL (default info).
func newLogger(e *env) *slog.Logger {
	return newLoggerTo(e, e.stderr, isTerminal(e.stderr))
}

// newLoggerTo is newLogger writing to w, which is a terminal when text is
// set (the progress display, which prints log lines above its bars).
func newLoggerTo(e *env, w io.Writer, text bool) *slog.Logger {
	var level slog.Level
	if v := e.getenv("CRMKPI_LOG_LEVEL"); v != "" {
		if err := level.UnmarshalText([]byte(strings.ToLower(v))); err != nil {
			level = slog.LevelInfo
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	if text {
		return slog.New(redactHandler{next: slog.NewTextHandler(w, opts), r: e.redactor})
	}
	return slog.New(redactHandler{next: slog.NewJSONHandler(w, opts), r: e.redactor})
}

// newLoggerLevel is a text logger to w at level.
func newLoggerLevel(e *env, w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(redactHandler{next: slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}), r: e.redactor})
}

// formatFlag adds --format table|json to fs; check validates its value.
func formatFlag(fs *flag.FlagSet) (format *string, check func() error) {
	format = fs.String("format", "table", "output format: table or json")
	return format, func() error {
		if *format != "table" && *format != "json" {
			return usageError{fmt.Errorf("--format: want table or json, got %q", *format)}
		}
		return nil
	}
}

// openConfigured loads the config and opens (and migrates) its warehouse;
// the caller closes the store.
func openConfigured(ctx context.Context, e *env, cfgPath string) (*config.Config, *warehouse.Store, error) {
	cfg, err := loadConfig(e, cfgPath)
	if err != nil {
		return nil, nil, err
	}
	s, err := openWarehouse(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return cfg, s, nil
}
