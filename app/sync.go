package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/dustin/go-humanize/english"

	"github.com/crmkpi/crmkpi/config"
	syncer "github.com/crmkpi/crmkpi/sync"
)

// SyncOptions are the flags of every command that syncs.
type SyncOptions struct {
	// Full ignores saved cursors: re-read everything and reconcile
	// deletions.
	Full bool
	// SkipLocked makes a connector skipped because another sync holds it
	// no error.
	SkipLocked bool
	// AllowMassDelete flags records deleted even when the CRM lists none
	// or under min_listing_share of those stored.
	AllowMassDelete bool
}

// SkippedError is the error of a sync that skipped connectors because
// other syncs held them; alone, it exits 3.
type SkippedError struct {
	// Skips are "CONNECTOR locked by HOLDER", one per connector skipped.
	Skips []string
}

func (e *SkippedError) Error() string {
	return "skipped: " + strings.Join(e.Skips, "; ") + " (--skip-locked makes a skip exit 0)"
}

// SelectConnectors returns the connectors of the config named in names,
// or all of them without names. A name the config lacks is a
// *ConfigError listing those it has.
func SelectConnectors(cfg *config.Config, names []string) ([]config.Connector, error) {
	if len(cfg.Connectors) == 0 {
		return nil, configErrorf("no connectors configured")
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
			return nil, configErrorf("--connector: no connector %q in the config (have %s)", n, strings.Join(known, ", "))
		}
		out = append(out, *c)
	}
	return out, nil
}

// Sync runs one sync of conns, writes the summary (redacted) and the
// token expiry warnings to a.Stderr, and returns the summary with the
// outcome: nil; an error counting the objects that failed; a
// *SkippedError when it skipped a connector another sync held (unless
// o.SkipLocked); or, when ctx ended, "sync interrupted" with ctx's cause.
// A failure wins over a skip. The summary is nil when the connectors could
// not be built.
func (a *App) Sync(ctx context.Context, conns []config.Connector, o SyncOptions) (*syncer.Summary, error) {
	log := a.logger()
	var progress syncer.Progress = &syncer.LogProgress{Logger: log}
	wait := func() {}
	if a.Bars {
		// Log lines go through the progress display, which prints them
		// above its bars instead of tearing them.
		tp := syncer.NewTerminalProgress(a.stderr())
		log = NewLogger(tp, true, a.BarsLevel, a.redactor())
		progress, wait = tp, tp.Wait
	}
	built, err := buildConnectors(conns, a.Store, log)
	if err != nil {
		wait()
		return nil, err
	}
	var jobs []syncer.Job
	for i, b := range built {
		jobs = append(jobs, syncer.Job{Connector: b.conn, Objects: b.objects, Full: o.Full, ReconcileEvery: b.reconcileEvery,
			MinListingShare: conns[i].MinListingShare / 100, AllowMassDelete: o.AllowMassDelete})
	}
	eng := &syncer.Engine{Store: redactedRuns{a.Store, a.redactor()}, Logger: log, Progress: progress, Now: a.Now}
	sum, runErr := eng.Run(ctx, jobs)
	wait()
	stderr := a.stderr()
	syncer.WriteSummary(redactWriter{stderr, a.redactor()}, sum)
	for _, w := range expiryWarnings(built, a.now()) {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if runErr != nil {
		return sum, fmt.Errorf("sync interrupted: %w", context.Cause(ctx))
	}
	if sum.Failed() {
		return sum, fmt.Errorf("sync failed for %s; see the summary above", english.Plural(countFailed(sum), "object", ""))
	}
	if skips := sum.Skipped(); len(skips) > 0 && !o.SkipLocked {
		se := &SkippedError{}
		for _, c := range skips {
			se.Skips = append(se.Skips, c.Connector+" "+c.Skipped)
		}
		return sum, se
	}
	return sum, nil
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
			out = append(out, fmt.Sprintf("%s: the token expires on %s (in %s); generate a new one", b.conn.Name(), exp.Format(time.DateOnly), english.Plural(int(left.Hours()/24), "day", "")))
		}
	}
	return out
}
