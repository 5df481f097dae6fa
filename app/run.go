package app

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/crmkpi/crmkpi/notify"
	"github.com/crmkpi/crmkpi/scoring"
)

// RunOptions are those of `crmkpi run`.
type RunOptions struct {
	Sync SyncOptions
	// DryRun writes the Block Kit JSON to Out instead of posting.
	DryRun bool
	// Out receives the dry run's JSON, or the scorecard table when no
	// Slack token is configured.
	Out io.Writer
}

// Run is `crmkpi run`: sync every connector, score p and notify, once,
// for cron jobs. A failed sync still scores and notifies (with the data
// there is) and its error is returned with notify's; a sync ended by ctx
// stops there.
func (a *App) Run(ctx context.Context, p scoring.Period, o RunOptions) error {
	_, syncErr := a.Sync(ctx, a.Config.Connectors, o.Sync)
	if ctx.Err() != nil {
		return syncErr
	}
	r, err := a.Score(ctx, p)
	if err != nil {
		return errors.Join(syncErr, err)
	}
	var notifyErr error
	if a.Config.Notify.Slack.Token.Value() != "" || o.DryRun {
		notifyErr = a.Notify(ctx, r, NotifyOptions{DryRun: o.DryRun, Out: o.Out})
	} else {
		if err := notify.WriteTable(o.Out, r); err != nil {
			return err
		}
		fmt.Fprintln(a.stderr(), "notify: no Slack token configured; scorecards printed above")
	}
	return errors.Join(syncErr, notifyErr)
}
