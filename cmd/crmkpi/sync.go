package main

import (
	"context"
	"flag"
	"strings"

	"github.com/crmkpi/crmkpi/app"
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// syncFlags adds the flags of every command that syncs to fs.
func syncFlags(fs *flag.FlagSet, o *app.SyncOptions) {
	fs.BoolVar(&o.Full, "full", false, "ignore saved cursors: re-read everything and reconcile deletions")
	fs.BoolVar(&o.SkipLocked, "skip-locked", false, "exit 0, not 3, when a connector is skipped because another sync holds it")
	fs.BoolVar(&o.AllowMassDelete, "allow-mass-delete", false,
		"flag records deleted even when the CRM lists none or under min_listing_share of those stored")
}

func runSync(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "sync", "sync [--config FILE] [--connector NAME]... [--full] [--skip-locked] [--allow-mass-delete]")
	var names stringList
	fs.Var(&names, "connector", "sync only this connector (repeatable)")
	var o app.SyncOptions
	syncFlags(fs, &o)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, *cfgPath)
	if err != nil {
		return err
	}
	selected, err := app.SelectConnectors(cfg, names)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	_, err = a.Sync(ctx, selected, o)
	return err
}
