package main

import (
	"context"
	"fmt"

	"github.com/crmkpi/crmkpi/app"
	"github.com/crmkpi/crmkpi/warehouse"
)

func runMigrate(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "migrate", "migrate [--config FILE]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, *cfgPath)
	if err != nil {
		return err
	}
	applied, v, err := app.Migrate(ctx, cfg)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(e.stdout, "warehouse %s is up to date at schema version %d\n", warehouse.RedactDSN(cfg.Warehouse.DSN.Value()), v)
		return nil
	}
	fmt.Fprintf(e.stdout, "warehouse %s migrated to schema version %d (applied %v)\n", warehouse.RedactDSN(cfg.Warehouse.DSN.Value()), v, applied)
	return nil
}
