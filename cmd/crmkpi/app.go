package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/crmkpi/crmkpi/app"
	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/scoring"
)

// loadConfig reads the config named by flagValue, $CRMKPI_CONFIG or the
// default path, and teaches the process's redactor its secrets. Every
// problem in it is an app.ConfigError (exit 2).
func loadConfig(e *env, flagValue string) (*config.Config, error) {
	return app.LoadConfig(app.ConfigPath(flagValue, e.lookup), e.lookup, e.redactor)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// appEnv is what this process gives the application: the one logger (text
// on a terminal, JSON lines otherwise, at the level of $CRMKPI_LOG_LEVEL,
// default info), stderr, the redactor, and progress bars on a terminal.
func (e *env) appEnv() app.Env {
	level := app.LogLevel(e.getenv("CRMKPI_LOG_LEVEL"))
	tty := isTerminal(e.stderr)
	env := app.Env{Logger: app.NewLogger(e.stderr, tty, level, e.redactor), Redactor: e.redactor, Stderr: e.stderr,
		Bars: tty, BarsLevel: level}
	if e.getenv("CRMKPI_LOG_LEVEL") == "" {
		// The bars and the summary say what info lines would.
		env.BarsLevel = slog.LevelWarn
	}
	return env
}

// openApp opens (and migrates) cfg's warehouse; the caller closes it.
func openApp(ctx context.Context, e *env, cfg *config.Config) (*app.App, error) {
	return app.Open(ctx, cfg, e.appEnv())
}

// openConfigured loads the config and opens its warehouse, for the
// commands that need nothing else of the config first. The caller closes
// the app.
func openConfigured(ctx context.Context, e *env, cfgPath string) (*app.App, error) {
	cfg, err := loadConfig(e, cfgPath)
	if err != nil {
		return nil, err
	}
	return openApp(ctx, e, cfg)
}

// periodFlag adds --period SPEC, by default the period before this one,
// to fs.
func periodFlag(fs *flag.FlagSet) *string {
	return fs.String("period", "previous", "period: 2026-10, 2026-W43, 2026-Q3, current or previous")
}

// writeJSON writes v as indented JSON, the machine output of score and
// explain.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
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

// parsePeriod reads --period against the configured period kind and zone.
func parsePeriod(cfg *config.Config, spec string) (scoring.Period, error) {
	p, err := app.ParsePeriod(cfg, spec, time.Now())
	if err != nil {
		return p, usageError{fmt.Errorf("--period: %w", err)}
	}
	return p, nil
}

// openForPeriod loads the config, reads --period against it and opens the
// warehouse: what score, notify and run all start with. The caller closes
// the app.
func openForPeriod(ctx context.Context, e *env, cfgPath, periodSpec string) (*app.App, scoring.Period, error) {
	cfg, err := loadConfig(e, cfgPath)
	if err != nil {
		return nil, scoring.Period{}, err
	}
	// The period is checked before the warehouse is touched: a typo is a
	// usage error, not a database session.
	p, err := parsePeriod(cfg, periodSpec)
	if err != nil {
		return nil, p, err
	}
	a, err := openApp(ctx, e, cfg)
	if err != nil {
		return nil, p, err
	}
	return a, p, nil
}
