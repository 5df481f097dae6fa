package main

import (
	"context"
	"fmt"

	"github.com/dustin/go-humanize/english"

	"github.com/crmkpi/crmkpi/app"
)

// runCheck validates the config and tests every connection without writing
// (app.Check), each under its own deadline, and prints one line per test in
// order with the cause of each failure.
func runCheck(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "check", "check [--config FILE] [--timeout DURATION]")
	timeout := fs.Duration("timeout", app.DefaultCheckTimeout, "deadline of each connection test (the warehouse, every CRM, Slack)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *timeout <= 0 {
		return usageError{fmt.Errorf("--timeout: want a positive duration, got %s", *timeout)}
	}
	cfg, err := loadConfig(e, *cfgPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "config: ok (%s, %s)\n", english.Plural(len(cfg.Connectors), "connector", ""), english.Plural(len(cfg.Managers), "manager", ""))
	results, err := app.Check(ctx, cfg, e.appEnv().Logger, *timeout)
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
			msg := e.redactor.Redact(r.Err.Error())
			if c := app.CheckCause(r.Err, *timeout); c != "" {
				fmt.Fprintf(e.stdout, "%s: FAILED (%s): %s\n", r.What, c, msg)
			} else {
				fmt.Fprintf(e.stdout, "%s: FAILED: %s\n", r.What, msg)
			}
			continue
		}
		fmt.Fprintf(e.stdout, "%s: ok\n", r.What)
		for _, w := range r.Warnings {
			fmt.Fprintf(e.stdout, "%s: warning: %s\n", r.What, e.redactor.Redact(w))
		}
	}
	if err != nil {
		return err
	}
	if cfg.Notify.Slack.Token.Value() == "" {
		fmt.Fprintln(e.stdout, "slack: not configured (notify.slack.token); scorecards are only printed")
	}
	if failed > 0 {
		return fmt.Errorf("%s failed", english.Plural(failed, "check", ""))
	}
	return nil
}
