package app

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/notify"
	"github.com/crmkpi/crmkpi/scoring"
)

// NotifyOptions say how Notify delivers.
type NotifyOptions struct {
	// DryRun writes the Block Kit JSON of exactly what would be posted,
	// in order, to Out instead of posting.
	DryRun bool
	// Manager, with DryRun, previews only this manager's DM: their key,
	// in any case.
	Manager string
	// BehindPace sends only the mid-period nudges: a DM to each manager
	// projected under target, nothing to channels.
	BehindPace bool
	Out        io.Writer
}

// NoScorecardError is a manager to preview who has no scorecard in the
// period.
type NoScorecardError struct {
	Manager string
	Period  scoring.Period
	// Have are the managers that have one.
	Have []string
}

func (e *NoScorecardError) Error() string {
	return fmt.Sprintf("no scorecard for %s (managers with one: %s)", e.Period.Label(), strings.Join(e.Have, ", "))
}

// renderInput gathers what messages show beside the scorecards: the score
// history for the sparkline and the freshness of the data.
func (a *App) renderInput(ctx context.Context, r *scoring.Report) (notify.RenderInput, error) {
	in := notify.RenderInput{Period: r.Period, Currency: r.Currency, BaseURL: a.Config.Web.BaseURL}
	h, err := History(ctx, a.Store, r.Period, 6)
	if err != nil {
		return in, err
	}
	in.History = h
	last, ok, err := a.Store.LastSuccess(ctx)
	if err != nil {
		return in, fmt.Errorf("read last sync: %w", err)
	}
	in.LastSync, in.HasLastSync = last, ok
	return in, nil
}

func slackClient(cfg *config.Config) *slack.Client {
	return notify.NewClient(cfg.Notify.Slack.Token.Value(), cfg.Notify.Slack.APIURL)
}

// Notify posts r to Slack (the channel, team channels and DMs the config
// names, in that order) and writes the delivery report to a.Stderr; or,
// with o.DryRun, writes what it would post to o.Out. A period without
// scorecards posts nothing and says so. Posting without a Slack token is
// a *ConfigError; previewing a manager without a scorecard a
// *NoScorecardError.
func (a *App) Notify(ctx context.Context, r *scoring.Report, o NotifyOptions) error {
	in, err := a.renderInput(ctx, r)
	if err != nil {
		return err
	}
	o.Manager = strings.ToLower(strings.TrimSpace(o.Manager))
	stderr := a.stderr()
	sc := a.Config.Notify.Slack
	if notify.Empty(r) {
		// Not an error: a period nobody worked in has nothing to say.
		fmt.Fprintf(stderr, "notify: no scorecards for %s (no manager owns a deal, an activity or an active client in it); nothing posted\n", r.Period.Label())
		if !o.DryRun {
			return nil
		}
	}
	n := &notify.Notifier{
		Channel:        sc.Channel,
		TeamChannels:   sc.TeamChannels,
		DirectMessages: sc.DirectMessages,
		Manager:        o.Manager,
		BehindPace:     o.BehindPace,
		Outbox:         a.Store,
		Logger:         a.logger(),
	}
	if o.DryRun {
		if o.Manager != "" && !slices.ContainsFunc(r.Managers, func(sc scoring.Scorecard) bool { return sc.Manager == o.Manager }) {
			e := &NoScorecardError{Manager: o.Manager, Period: r.Period}
			for _, sc := range r.Managers {
				e.Have = append(e.Have, sc.Manager)
			}
			return e
		}
		return n.DryRun(o.Out, r, in)
	}
	if sc.Token.Value() == "" {
		return configErrorf("notify.slack.token is not set; use --dry-run to see the messages")
	}
	n.Client = slackClient(a.Config)
	sum, err := n.Deliver(ctx, r, in)
	if sum != nil {
		fmt.Fprintf(stderr, "slack: %d posted, %d updated, %d unchanged\n", sum.Posted, sum.Updated, sum.Unchanged)
		if len(sum.NoSlackUser) > 0 {
			fmt.Fprintf(stderr, "slack: no Slack user for %s (add slack_id under managers:)\n", strings.Join(sum.NoSlackUser, ", "))
		}
		for _, t := range sum.EmptyTeams {
			fmt.Fprintf(stderr, "slack: team %s has no scorecards for %s; nothing posted to %s\n", t, r.Period.Label(), sc.TeamChannels[t])
		}
		for _, f := range sum.Failed {
			fmt.Fprintf(stderr, "slack: FAILED %s: %s\n", f.Recipient, f.Error)
		}
	}
	return err
}
