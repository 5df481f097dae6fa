package main

import (
	"context"

	"github.com/crmkpi/crmkpi/app"
)

// runOnce is `crmkpi run`: sync, score and notify once, for cron jobs. A
// failed sync still scores and notifies (with the data there is), and the
// command exits 1.
func runOnce(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "run", "run [--config FILE] [--period SPEC] [--full] [--skip-locked] [--allow-mass-delete] [--dry-run]")
	period := fs.String("period", "previous", "period to score and notify")
	var o app.RunOptions
	syncFlags(fs, &o.Sync)
	fs.BoolVar(&o.DryRun, "dry-run", false, "print the Block Kit JSON instead of posting")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, p, err := openForPeriod(ctx, e, *cfgPath, *period)
	if err != nil {
		return err
	}
	defer a.Close()
	o.Out = e.stdout
	return a.Run(ctx, p, o)
}
