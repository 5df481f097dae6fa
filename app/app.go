// Package app is crmkpi's application layer: the work of each command
// (sync with its summary, score with its history, notify, run, status and
// the staleness rule, check, serve's scheduler and HTTP handlers, the
// demo) on a loaded config and an open warehouse. cmd/crmkpi parses flags,
// calls it and prints; serve, run, the demo and the tests call it directly,
// in-process. Exit codes are not its business: it returns typed errors
// (ConfigError, SkippedError, NoScorecardError) that the command line maps
// to them.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"time"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/redact"
	"github.com/crmkpi/crmkpi/warehouse"
)

// Env is what the process gives the application: where people read, the
// one logger, the redactor and the clock. Its zero value discards
// everything and uses the real clock.
type Env struct {
	// Logger is the process's one logger (NewLogger); nil discards.
	Logger *slog.Logger
	// Redactor hides the config's secrets in what leaves the process:
	// logs, the sync summary, sync_runs.error. LoadConfig teaches it the
	// config's secrets; nil means one that knows only the secret shapes.
	Redactor *redact.Redactor
	// Stderr receives what people read beside a command's output: the
	// sync summary, warnings, Slack's delivery report. nil discards.
	Stderr io.Writer
	// Bars, set when Stderr is a terminal, draws each sync's progress as
	// live bars there, with log lines (at BarsLevel, through the
	// redactor) printed above them instead of through Logger.
	Bars      bool
	BarsLevel slog.Level
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// App is crmkpi configured: the config and its open warehouse, in an Env.
// Set its fields before the first call; an App is then safe for the
// concurrent calls serve makes.
type App struct {
	Env
	Config *config.Config
	Store  *warehouse.Store
}

// ConfigError is a config that cannot do what was asked: not found, not
// valid, or lacking what the command needs (no connectors, no Slack
// token). cmd/crmkpi exits 2 on it.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// configErrorf is a ConfigError made like fmt.Errorf.
func configErrorf(format string, args ...any) error {
	return &ConfigError{fmt.Errorf(format, args...)}
}

// ConfigPath is the config file a command reads: flagValue (--config),
// else $CRMKPI_CONFIG, else ./crmkpi.yaml.
func ConfigPath(flagValue string, lookup func(string) (string, bool)) string {
	if flagValue != "" {
		return flagValue
	}
	if v, _ := lookup(config.EnvPath); v != "" {
		return v
	}
	return config.DefaultPath
}

// LoadConfig reads the config file at path, expanding ${VAR} with lookup,
// and teaches r (when not nil) every secret in it. Every error is a
// *ConfigError.
func LoadConfig(path string, lookup func(string) (string, bool), r *redact.Redactor) (*config.Config, error) {
	cfg, err := config.LoadWithEnv(path, lookup)
	var list config.ErrorList
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, configErrorf("config file %s not found (use --config FILE or $%s; examples/crmkpi.yaml is a complete example)", path, config.EnvPath)
	case errors.As(err, &list):
		return nil, configErrorf("invalid config:\n%w", err)
	case err != nil:
		return nil, &ConfigError{err}
	}
	if r != nil {
		r.Add(configSecrets(cfg)...)
	}
	return cfg, nil
}

// OpenWarehouse opens the configured warehouse and migrates it, so every
// command works on a fresh database.
func OpenWarehouse(ctx context.Context, cfg *config.Config) (*warehouse.Store, error) {
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

// Open opens (and migrates) cfg's warehouse and returns the App on it in
// env; the caller closes it.
func Open(ctx context.Context, cfg *config.Config, env Env) (*App, error) {
	s, err := OpenWarehouse(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if env.Redactor == nil {
		env.Redactor = redact.New()
	}
	return &App{Env: env, Config: cfg, Store: s}, nil
}

// Close closes the warehouse.
func (a *App) Close() error { return a.Store.Close() }

func (e *Env) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

func (e *Env) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (e *Env) redactor() *redact.Redactor {
	if e.Redactor != nil {
		return e.Redactor
	}
	return redact.New()
}

func (e *Env) stderr() io.Writer {
	if e.Stderr != nil {
		return e.Stderr
	}
	return io.Discard
}

// Migrate creates or upgrades cfg's warehouse schema without the rest of
// Open, and returns the versions it applied and the version it is at.
func Migrate(ctx context.Context, cfg *config.Config) (applied []int, version int, err error) {
	s, err := warehouse.Open(ctx, cfg.Warehouse.DSN.Value())
	if err != nil {
		return nil, 0, fmt.Errorf("open warehouse: %w", err)
	}
	defer s.Close()
	if applied, err = s.Migrate(ctx); err != nil {
		return nil, 0, fmt.Errorf("migrate warehouse: %w", err)
	}
	if version, err = s.SchemaVersion(ctx); err != nil {
		return nil, 0, err
	}
	return applied, version, nil
}
