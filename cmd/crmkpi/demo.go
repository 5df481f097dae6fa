package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/crmkpi/crmkpi/app"
)

// demoNowEnv fixes the demo world's "now" (RFC 3339), so that tests and
// golden files get the same world every day. Undocumented on purpose: a
// user wants the world to end today.
const demoNowEnv = "CRMKPI_DEMO_NOW"

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("crmkpi demo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var o app.DemoOptions
	fs.StringVar(&o.Dir, "dir", "", "directory for the config, the SQLite warehouse and the Slack preview (default: a new crmkpi-demo-* directory under the system temp dir)")
	fs.IntVar(&o.Managers, "managers", 12, "number of account managers in the demo world")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed of the demo world: the same seed gives the same world")
	fs.BoolVar(&o.Serve, "serve", false, "keep the fake CRMs running after the demo, until Ctrl-C, so that sync, score, status and notify can be tried against them with the config it wrote")
	webPages := fs.Bool("web", false, "serve the scorecard pages of the demo's warehouse on loopback after the demo, printing their address, until Ctrl-C")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: crmkpi demo [--dir DIR] [--managers N] [--seed S] [--serve] [--web]\n\n"+
			"Starts fake HubSpot, amoCRM and Bitrix24 servers with a seeded world, writes a config\n"+
			"pointing the real connectors at them, then syncs, scores the last full month and\n"+
			"previews the Slack message (posts it when $SLACK_BOT_TOKEN and $SLACK_CHANNEL are set).\n"+
			"$WAREHOUSE_DSN selects a PostgreSQL warehouse instead of DIR/crmkpi.db.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if o.Managers < 1 || o.Managers > 500 {
		return usageError{fmt.Errorf("--managers: want 1 to 500, got %d", o.Managers)}
	}
	if v := e.getenv(demoNowEnv); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return usageError{fmt.Errorf("$%s: want an RFC 3339 time such as 2026-11-15T12:00:00Z, got %q", demoNowEnv, v)}
		}
		o.Now = t
	}
	o.Lookup, o.Stdout, o.Preview = e.lookup, e.stdout, e.stdout
	if *webPages {
		o.Web = "127.0.0.1:0"
	}
	_, err := app.Demo(ctx, e.appEnv(), o)
	return err
}
