package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/crmkpi/crmkpi/app"
)

func runNotify(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "notify", "notify [--config FILE] [--period SPEC] [--behind-pace] [--dry-run [--manager KEY]]")
	period := periodFlag(fs)
	dryRun := fs.Bool("dry-run", false, "print the Block Kit JSON of exactly what notify would post, in order, instead of posting")
	manager := fs.String("manager", "", "with --dry-run: preview only the DM of this manager (their e-mail, or CONNECTOR:USER_ID)")
	behind := fs.Bool("behind-pace", false, "mid-period: DM only the managers projected under target on a KPI, nothing to channels (default period current)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *behind {
		if err := pacePeriod(fs, period); err != nil {
			return err
		}
	}
	if *manager != "" && !*dryRun {
		return usageError{fmt.Errorf("--manager previews one manager's message: use it with --dry-run")}
	}
	a, p, err := openForPeriod(ctx, e, *cfgPath, *period)
	if err != nil {
		return err
	}
	defer a.Close()
	r, err := a.Score(ctx, p)
	if err != nil {
		return err
	}
	err = a.Notify(ctx, r, app.NotifyOptions{DryRun: *dryRun, Manager: *manager, BehindPace: *behind, Out: e.stdout})
	if ns, ok := errors.AsType[*app.NoScorecardError](err); ok {
		return usageError{fmt.Errorf("--manager %s: %w", ns.Manager, err)}
	}
	return err
}
