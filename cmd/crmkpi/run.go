package main

import (
	"context"
	"errors"
	"fmt"
)

// runOnce is `crmkpi run`: sync, score and notify once, for cron jobs. A
// failed sync still scores and notifies (with the data there is), and the
// command exits 1.
func runOnce(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "run", "run [--config FILE] [--period SPEC] [--full] [--skip-locked] [--allow-mass-delete] [--dry-run]")
	period := fs.String("period", "previous", "period to score and notify")
	var sf syncFlags
	sf.add(fs)
	dryRun := fs.Bool("dry-run", false, "print the Block Kit JSON instead of posting")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, p, s, err := openForPeriod(ctx, e, *cfgPath, *period)
	if err != nil {
		return err
	}
	defer s.Close()
	log := newLogger(e)
	syncErr := syncOnce(ctx, e, log, s, cfg.Connectors, sf)
	if ctx.Err() != nil {
		return syncErr
	}
	r, err := scorePeriod(ctx, e, cfg, s, p)
	if err != nil {
		return errors.Join(syncErr, err)
	}
	var notifyErr error
	if cfg.Notify.Slack.Token.Value() != "" || *dryRun {
		notifyErr = deliver(ctx, e, cfg, s, r, *dryRun)
	} else {
		if err := writeTable(e, r); err != nil {
			return err
		}
		fmt.Fprintln(e.stderr, "notify: no Slack token configured; scorecards printed above")
	}
	return errors.Join(syncErr, notifyErr)
}
