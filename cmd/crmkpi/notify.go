package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/notify"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/warehouse"
)

func writeTable(e *env, r *scoring.Report) error {
	return notify.WriteTable(e.stdout, r)
}

func runNotify(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "notify", "notify [--config FILE] [--period SPEC] [--behind-pace] [--dry-run [--manager KEY]]")
	period := fs.String("period", "previous", "period: 2026-10, 2026-W43, 2026-Q3, current or previous")
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
	cfg, p, s, err := openForPeriod(ctx, e, *cfgPath, *period)
	if err != nil {
		return err
	}
	defer s.Close()
	r, err := scorePeriod(ctx, e, cfg, s, p)
	if err != nil {
		return err
	}
	return deliverTo(ctx, e, cfg, s, r, *dryRun, strings.ToLower(strings.TrimSpace(*manager)), *behind)
}

// renderInput gathers what messages show beside the scorecards: the score
// history for the sparkline and the freshness of the data.
func renderInput(ctx context.Context, cfg *config.Config, s *warehouse.Store, r *scoring.Report) (notify.RenderInput, error) {
	in := notify.RenderInput{Period: r.Period, Currency: r.Currency}
	h, err := history(ctx, s, r.Period, 6)
	if err != nil {
		return in, err
	}
	in.History = h
	last, ok, err := s.LastSuccess(ctx)
	if err != nil {
		return in, fmt.Errorf("read last sync: %w", err)
	}
	in.LastSync, in.HasLastSync = last, ok
	return in, nil
}

func slackClient(cfg *config.Config) *slack.Client {
	return notify.NewClient(cfg.Notify.Slack.Token.Value(), cfg.Notify.Slack.APIURL)
}

// deliver posts r to Slack, or prints the Block Kit JSON on a dry run or when
// no Slack token is configured.
func deliver(ctx context.Context, e *env, cfg *config.Config, s *warehouse.Store, r *scoring.Report, dryRun bool) error {
	return deliverTo(ctx, e, cfg, s, r, dryRun, "", false)
}

// deliverTo is deliver, a dry run limited to one manager's DM when
// manager is a key, the mid-period nudges alone with behindPace.
func deliverTo(ctx context.Context, e *env, cfg *config.Config, s *warehouse.Store, r *scoring.Report, dryRun bool, manager string, behindPace bool) error {
	in, err := renderInput(ctx, cfg, s, r)
	if err != nil {
		return err
	}
	sc := cfg.Notify.Slack
	if notify.Empty(r) {
		// Not an error: a period nobody worked in has nothing to say.
		fmt.Fprintf(e.stderr, "notify: no scorecards for %s (no manager owns a deal, an activity or an active client in it); nothing posted\n", r.Period.Label())
		if !dryRun {
			return nil
		}
	}
	n := &notify.Notifier{
		Channel:        sc.Channel,
		TeamChannels:   sc.TeamChannels,
		DirectMessages: sc.DirectMessages,
		Manager:        manager,
		BehindPace:     behindPace,
		Outbox:         s,
		Logger:         newLogger(e),
	}
	if dryRun {
		if manager != "" && !slices.ContainsFunc(r.Managers, func(sc scoring.Scorecard) bool { return sc.Manager == manager }) {
			var keys []string
			for _, sc := range r.Managers {
				keys = append(keys, sc.Manager)
			}
			return usageError{fmt.Errorf("--manager %s: no scorecard for %s (managers with one: %s)", manager, r.Period.Label(), strings.Join(keys, ", "))}
		}
		return n.DryRun(e.stdout, r, in)
	}
	if sc.Token.Value() == "" {
		return usageError{fmt.Errorf("notify.slack.token is not set; use --dry-run to see the messages")}
	}
	n.Client = slackClient(cfg)
	sum, err := n.Deliver(ctx, r, in)
	if sum != nil {
		fmt.Fprintf(e.stderr, "slack: %d posted, %d updated, %d unchanged\n", sum.Posted, sum.Updated, sum.Unchanged)
		if len(sum.NoSlackUser) > 0 {
			fmt.Fprintf(e.stderr, "slack: no Slack user for %s (add slack_id under managers:)\n", strings.Join(sum.NoSlackUser, ", "))
		}
		for _, t := range sum.EmptyTeams {
			fmt.Fprintf(e.stderr, "slack: team %s has no scorecards for %s; nothing posted to %s\n", t, r.Period.Label(), sc.TeamChannels[t])
		}
		for _, f := range sum.Failed {
			fmt.Fprintf(e.stderr, "slack: FAILED %s: %s\n", f.Recipient, f.Error)
		}
	}
	return err
}
