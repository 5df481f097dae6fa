package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/crmkpi/crmkpi/notify"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
)

func runExplain(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "explain", "explain [--config FILE] --manager KEY --kpi KPI [--period SPEC] [--format table|json|csv]")
	manager := fs.String("manager", "", "the manager: their e-mail, or CONNECTOR:USER_ID")
	key := fs.String("kpi", "", "the KPI: "+strings.Join(kpi.Keys, ", "))
	period := periodFlag(fs)
	format := fs.String("format", "table", "output format: table, json or csv")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(*manager) == "":
		return usageError{errors.New("--manager is required")}
	case *key == "":
		return usageError{errors.New("--kpi is required")}
	case *format != "table" && *format != "json" && *format != "csv":
		return usageError{fmt.Errorf("--format: want table, json or csv, got %q", *format)}
	}
	a, p, err := openForPeriod(ctx, e, *cfgPath, *period)
	if err != nil {
		return err
	}
	defer a.Close()
	x, err := a.Explain(ctx, p, *manager, *key)
	var uk *scoring.UnknownKPIError
	var um *scoring.UnknownManagerError
	switch {
	case errors.As(err, &uk):
		return usageError{fmt.Errorf("--kpi: %w", err)}
	case errors.As(err, &um):
		return usageError{fmt.Errorf("--manager: %w", err)}
	case err != nil:
		return fmt.Errorf("explain %s %s for %s: %w", *key, p.Label(), *manager, err)
	}
	switch *format {
	case "json":
		return writeJSON(e.stdout, x)
	case "csv":
		return notify.WriteExplanationCSV(e.stdout, x)
	}
	return notify.WriteExplanation(e.stdout, x)
}
