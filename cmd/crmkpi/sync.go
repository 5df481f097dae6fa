package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/config"
	syncer "github.com/crmkpi/crmkpi/sync"
	"github.com/crmkpi/crmkpi/warehouse"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// syncFlags are the flags of every command that syncs.
type syncFlags struct {
	full, skipLocked, allowMassDelete bool
}

func (f *syncFlags) add(fs *flag.FlagSet) {
	fs.BoolVar(&f.full, "full", false, "ignore saved cursors: re-read everything and reconcile deletions")
	fs.BoolVar(&f.skipLocked, "skip-locked", false, "exit 0, not 3, when a connector is skipped because another sync holds it")
	fs.BoolVar(&f.allowMassDelete, "allow-mass-delete", false,
		"flag records deleted even when the CRM lists none or under min_listing_share of those stored")
}

func runSync(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "sync", "sync [--config FILE] [--connector NAME]... [--full] [--skip-locked] [--allow-mass-delete]")
	var names stringList
	fs.Var(&names, "connector", "sync only this connector (repeatable)")
	var sf syncFlags
	sf.add(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, *cfgPath)
	if err != nil {
		return err
	}
	selected, err := selectConnectors(cfg, names)
	if err != nil {
		return err
	}
	s, err := openWarehouse(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	log := newLogger(e)
	return syncOnce(ctx, e, log, s, selected, sf)
}

// selectConnectors returns the named connectors, or all of them.
func selectConnectors(cfg *config.Config, names []string) ([]config.Connector, error) {
	if len(cfg.Connectors) == 0 {
		return nil, usageError{fmt.Errorf("no connectors configured")}
	}
	if len(names) == 0 {
		return cfg.Connectors, nil
	}
	var out []config.Connector
	for _, n := range names {
		c := cfg.Connector(n)
		if c == nil {
			var known []string
			for _, c := range cfg.Connectors {
				known = append(known, c.Name)
			}
			return nil, usageError{fmt.Errorf("--connector: no connector %q in the config (have %s)", n, strings.Join(known, ", "))}
		}
		out = append(out, *c)
	}
	return out, nil
}

// syncOnce runs one sync of conns with a progress display, prints the
// summary and fails when any object failed, or with a skippedError when
// it skipped a connector that another sync held (unless f.skipLocked).
func syncOnce(ctx context.Context, e *env, log *slog.Logger, s *warehouse.Store, conns []config.Connector, f syncFlags) error {
	var tp *syncer.TerminalProgress
	if isTerminal(e.stderr) {
		// Log lines go through the progress display, which prints them
		// above its bars instead of tearing them.
		tp = syncer.NewTerminalProgress(e.stderr)
		log = newLoggerTo(e, tp, true)
		if e.getenv("CRMKPI_LOG_LEVEL") == "" {
			// The bars and the summary say what info lines would.
			log = newLoggerLevel(e, tp, slog.LevelWarn)
		}
	}
	built, err := buildConnectors(conns, s, log)
	if err != nil {
		if tp != nil {
			tp.Wait()
		}
		return err
	}
	var jobs []syncer.Job
	for i, b := range built {
		jobs = append(jobs, syncer.Job{Connector: b.conn, Objects: b.objects, Full: f.full, ReconcileEvery: b.reconcileEvery,
			MinListingShare: conns[i].MinListingShare / 100, AllowMassDelete: f.allowMassDelete})
	}
	eng := &syncer.Engine{Store: redactedRuns{s, e.redactor}, Logger: log}
	if tp != nil {
		eng.Progress = tp
	} else {
		eng.Progress = &syncer.LogProgress{Logger: log}
	}
	sum, runErr := eng.Run(ctx, jobs)
	if tp != nil {
		tp.Wait()
	}
	syncer.WriteSummary(redactWriter{e.stderr, e.redactor}, sum)
	for _, w := range expiryWarnings(built, time.Now()) {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
	if runErr != nil {
		return fmt.Errorf("sync interrupted: %w", context.Cause(ctx))
	}
	if sum.Failed() {
		return fmt.Errorf("sync failed for %d object(s); see the summary above", countFailed(sum))
	}
	if skips := sum.Skipped(); len(skips) > 0 && !f.skipLocked {
		var se skippedError
		for _, c := range skips {
			se.skips = append(se.skips, c.Connector+" "+c.Skipped)
		}
		return se
	}
	return nil
}

func countFailed(s *syncer.Summary) int {
	n := 0
	for _, c := range s.Connectors {
		if c.Err != nil {
			n++
		}
		for _, o := range c.Objects {
			if o.Err != nil {
				n++
			}
		}
	}
	return n
}

// tokenWarnDays is how early the run summary warns of an expiring token.
const tokenWarnDays = 14

// expiryWarnings says which connectors' long-lived tokens expire soon, so the
// person reading the run summary renews them before syncs stop.
func expiryWarnings(bs []built, now time.Time) []string {
	var out []string
	for _, b := range bs {
		te, ok := b.conn.(interface{ TokenExpiry() (time.Time, bool) })
		if !ok {
			continue
		}
		exp, ok := te.TokenExpiry()
		if !ok {
			continue
		}
		left := exp.Sub(now)
		switch {
		case left <= 0:
			out = append(out, fmt.Sprintf("%s: the token expired on %s; generate a new one", b.conn.Name(), exp.Format(time.DateOnly)))
		case left < tokenWarnDays*24*time.Hour:
			out = append(out, fmt.Sprintf("%s: the token expires on %s (in %d days); generate a new one", b.conn.Name(), exp.Format(time.DateOnly), int(left.Hours()/24)))
		}
	}
	return out
}
