package main

import (
	"context"
	"encoding/json"

	"github.com/crmkpi/crmkpi/notify"
	"github.com/crmkpi/crmkpi/scoring"
)

func runScore(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "score", "score [--config FILE] [--period SPEC] [--format table|json]")
	period := fs.String("period", "previous", "period: 2026-10, 2026-W43, 2026-Q3, current or previous")
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
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return notify.WriteTable(e.stdout, r)
}
