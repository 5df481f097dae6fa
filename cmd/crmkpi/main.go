// Command crmkpi syncs CRM data into a warehouse, scores account managers and
// posts their scorecards to Slack. See README.md for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	_ "github.com/lib/pq"  // PostgreSQL driver for the warehouse
	_ "modernc.org/sqlite" // embedded SQLite driver for the warehouse

	"github.com/crmkpi/crmkpi/app"
	"github.com/crmkpi/crmkpi/redact"

	// Time zones work in images without zoneinfo (distroless, scratch).
	_ "time/tzdata"
)

func main() {
	ctx, stop := notifyContext(context.Background())
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

// notifyContext is signal.NotifyContext for SIGINT and SIGTERM, with the
// signal as the context's cause, so that run can exit 130 or 143.
func notifyContext(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			cancel(interrupted{sig.(syscall.Signal)})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// interrupted is the cause of a context ended by a signal.
type interrupted struct{ sig syscall.Signal }

func (i interrupted) Error() string {
	switch i.sig {
	case syscall.SIGINT:
		return "stopped by SIGINT"
	case syscall.SIGTERM:
		return "stopped by SIGTERM"
	}
	return "stopped by " + i.sig.String()
}

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1 // a run failed
	exitUsage   = 2 // bad flags or config
	exitSkipped = 3 // a connector was skipped: another sync held it (unless --skip-locked)
	// A command stopped by SIGINT or SIGTERM exits 128 + the signal's
	// number, as shells report it: 130 and 143.
)

// exitCode maps the outcome of a command to the process's exit code. A
// signal that ended ctx wins over what it made fail; any failure wins over
// a skip.
func exitCode(ctx context.Context, err error) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	if _, ok := errors.AsType[*app.ConfigError](err); ok {
		return exitUsage
	}
	var sig interrupted
	if errors.As(context.Cause(ctx), &sig) {
		return 128 + int(sig.sig)
	}
	if onlySkips(err) {
		return exitSkipped
	}
	return exitFailed
}

// onlySkips reports whether err is made of app.SkippedErrors alone,
// wrapped or joined.
func onlySkips(err error) bool {
	for {
		switch e := err.(type) {
		case *app.SkippedError:
			return true
		case interface{ Unwrap() []error }:
			errs := e.Unwrap()
			for _, e := range errs {
				if !onlySkips(e) {
					return false
				}
			}
			return len(errs) > 0
		case interface{ Unwrap() error }:
			if err = e.Unwrap(); err == nil {
				return false
			}
		default:
			return false
		}
	}
}

// usageError marks errors that exit 2: bad flags, a broken config.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// env is the process environment, passed in so tests run in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	lookup         func(string) (string, bool)
	// redactor hides secrets in what the process prints, logs and keeps;
	// loadConfig teaches it the config's secrets.
	redactor *redact.Redactor
}

func (e *env) getenv(k string) string {
	v, _ := e.lookup(k)
	return v
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"demo", "the whole job with no setup: fake CRMs, sync, score, Slack preview", runDemo},
		{"sync", "sync every (or the named) connector into the warehouse", runSync},
		{"score", "compute and store scorecards for a period and print them", runScore},
		{"notify", "post scorecards to Slack (--dry-run prints the Block Kit JSON)", runNotify},
		{"run", "sync, score and notify once", runOnce},
		{"serve", "run syncs and notify on their schedules; /healthz, /metrics and the scorecard pages", runServe},
		{"web", "serve the scorecard pages alone (leaderboard, manager, explanation)", runWeb},
		{"status", "per connector and object: last run, outcome, freshness", runStatus},
		{"migrate", "create or upgrade the warehouse schema", runMigrate},
		{"check", "validate the config and test every connection", runCheck},
		{"explain", "the records behind one KPI value of one manager, with links to the CRM", runExplain},
		{"init", "write a commented starter config and say which scopes to grant", runInit},
		{"version", "print the crmkpi version, commit and Go version (also --version)", runVersion},
	}
}

// newEnv is the environment of one run of the command.
func newEnv(stdin io.Reader, stdout, stderr io.Writer, lookup func(string) (string, bool)) *env {
	return &env{stdin: stdin, stdout: stdout, stderr: stderr, lookup: lookup, redactor: redact.New()}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	e := newEnv(stdin, stdout, stderr, lookup)
	args = hoistConfig(args)
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		args = []string{"version"}
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		code := exitCode(ctx, err)
		if code != exitOK && err != nil {
			fmt.Fprintf(stderr, "crmkpi %s: %s\n", c.name, e.redactor.Redact(err.Error()))
		}
		return code
	}
	fmt.Fprintf(stderr, "crmkpi: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

// hoistConfig moves a --config given before the command behind it, so that
// `crmkpi --config FILE sync` works as `crmkpi sync --config FILE` does:
// DESIGN.md names --config as the binary's, not one command's.
func hoistConfig(args []string) []string {
	var cfg []string
	for len(args) > 0 {
		a := args[0]
		switch {
		case a == "--config" || a == "-config":
			if len(args) < 2 {
				return append(cfg, args...)
			}
			cfg, args = append(cfg, a, args[1]), args[2:]
		case strings.HasPrefix(a, "--config=") || strings.HasPrefix(a, "-config="):
			cfg, args = append(cfg, a), args[1:]
		default:
			if len(cfg) == 0 {
				return args
			}
			return append(append([]string{a}, cfg...), args[1:]...)
		}
	}
	return cfg
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("Usage: crmkpi COMMAND [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	b.WriteString("\nThe config file is --config FILE, else $CRMKPI_CONFIG, else ./crmkpi.yaml.\n")
	b.WriteString("Run 'crmkpi COMMAND -h' for the flags of a command.\n")
	io.WriteString(w, b.String())
}

// newFlags returns a flag set that reports errors instead of exiting and
// has the common --config flag.
func newFlags(e *env, name, synopsis string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("crmkpi "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	cfg := fs.String("config", "", "config file (default $CRMKPI_CONFIG, else ./crmkpi.yaml)")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: crmkpi %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs, cfg
}

// parseFlags parses args, turning flag errors into usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
