package main

import (
	"context"

	"github.com/crmkpi/crmkpi/notify"
	"github.com/crmkpi/crmkpi/scoring"
)

func runScore(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "score", "score [--config FILE] [--period SPEC] [--format table|json]")
	period := periodFlag(fs)
	format, checkFormat := formatFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkFormat(); err != nil {
		return err
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
	return writeReport(e, r, *format)
}

func writeReport(e *env, r *scoring.Report, format string) error {
	if format == "json" {
		return writeJSON(e.stdout, r)
	}
	return notify.WriteTable(e.stdout, r)
}
