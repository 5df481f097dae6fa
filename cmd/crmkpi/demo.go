package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/crmkpi/crmkpi/demo"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/warehouse"
)

// demoNowEnv fixes the demo world's "now" (RFC 3339), so that tests and
// golden files get the same world every day. Undocumented on purpose: a
// user wants the world to end today.
const demoNowEnv = "CRMKPI_DEMO_NOW"

// demoHistory is how many periods before the scored one the demo scores
// too, so that the Slack preview's sparklines and trends have a history.
const demoHistory = 5

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("crmkpi demo", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	dir := fs.String("dir", "", "directory for the config, the SQLite warehouse and the Slack preview (default: a new crmkpi-demo-* directory under the system temp dir)")
	managers := fs.Int("managers", 12, "number of account managers in the demo world")
	seed := fs.Uint64("seed", 1, "seed of the demo world: the same seed gives the same world")
	serve := fs.Bool("serve", false, "keep the fake CRMs running after the demo, until Ctrl-C, so that sync, score, status and notify can be tried against them with the config it wrote")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: crmkpi demo [--dir DIR] [--managers N] [--seed S] [--serve]\n\n"+
			"Starts fake HubSpot, amoCRM and Bitrix24 servers with a seeded world, writes a config\n"+
			"pointing the real connectors at them, then syncs, scores the last full month and\n"+
			"previews the Slack message (posts it when $SLACK_BOT_TOKEN and $SLACK_CHANNEL are set).\n"+
			"$WAREHOUSE_DSN selects a PostgreSQL warehouse instead of DIR/crmkpi.db.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *managers < 1 || *managers > 500 {
		return usageError{fmt.Errorf("--managers: want 1 to 500, got %d", *managers)}
	}
	now := time.Now()
	if v := e.getenv(demoNowEnv); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return usageError{fmt.Errorf("$%s: want an RFC 3339 time such as 2026-11-15T12:00:00Z, got %q", demoNowEnv, v)}
		}
		now = t
	}
	// The world ends at the start of the month, so that two runs in one
	// month give the same world and scorecards.
	now = demo.Anchor(now)
	began := time.Now()

	if *dir == "" {
		d, err := os.MkdirTemp("", "crmkpi-demo-")
		if err != nil {
			return fmt.Errorf("create demo directory: %w", err)
		}
		*dir = d
	} else if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("create demo directory: %w", err)
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return fmt.Errorf("demo directory: %w", err)
	}
	fmt.Fprintf(e.stderr, "crmkpi demo: writing to %s\n", abs)

	fmt.Fprintf(e.stderr, "crmkpi demo: starting fake HubSpot, amoCRM and Bitrix24 on loopback (%d managers, seed %d)\n", *managers, *seed)
	env, err := demo.Start(ctx, demo.Options{Seed: *seed, Managers: *managers, Now: now})
	if err != nil {
		return fmt.Errorf("start the fake CRMs: %w", err)
	}
	defer env.Close()
	w := env.World
	fmt.Fprintf(e.stderr, "crmkpi demo: the world holds %d companies, %d contacts, %d deals and %d activities from %s to %s\n",
		len(w.Companies), len(w.Contacts), len(w.Deals), len(w.Activities), w.Start.Format("2006-01-02"), w.Now.Format("2006-01-02"))

	// The config names the warehouse by reference when it comes from the
	// environment, so a password never lands in the file.
	dsn, where := "sqlite:"+filepath.Join(abs, "crmkpi.db"), ""
	if v := e.getenv("WAREHOUSE_DSN"); v != "" {
		dsn, where = "${WAREHOUSE_DSN}", "PostgreSQL "+warehouse.RedactDSN(v)+" ($WAREHOUSE_DSN)"
	} else {
		where = filepath.Join(abs, "crmkpi.db") + " (SQLite)"
		// A warehouse left by an earlier demo in the same directory holds
		// another world, and its cursors would make this sync incremental.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(filepath.Join(abs, "crmkpi.db"+suffix)); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("remove the previous demo warehouse: %w", err)
			}
		}
	}
	cfgPath := filepath.Join(abs, "crmkpi.yaml")
	// 0600: the file holds the fakes' tokens, as a real config would hold real ones.
	if err := os.WriteFile(cfgPath, env.ConfigYAML(dsn), 0o600); err != nil {
		return fmt.Errorf("write the demo config: %w", err)
	}

	// From here on it is the production path: the config as any command
	// reads it, and the same sync, score and notify code.
	cfg, s, err := openConfigured(ctx, e, cfgPath)
	if err != nil {
		return err
	}
	defer s.Close()
	log := newLogger(e)
	fmt.Fprintf(e.stderr, "crmkpi demo: syncing %d connectors into %s\n", len(cfg.Connectors), where)
	// --full: a warehouse on $WAREHOUSE_DSN may hold cursors of an earlier
	// demo whose fakes are gone.
	if err := syncOnce(ctx, e, log, s, cfg.Connectors, syncFlags{full: true}); err != nil {
		return err
	}

	p, err := parsePeriod(cfg, "previous", w.Now)
	if err != nil {
		return err
	}
	// Score the months before too, oldest first, as a scheduled crmkpi
	// would have, so that trends and sparklines have a history.
	var periods []scoring.Period
	for q, i := p, 0; i < demoHistory; i++ {
		q = q.Previous()
		periods = append([]scoring.Period{q}, periods...)
	}
	quiet := *e
	quiet.stderr = discard{}
	for _, q := range periods {
		if _, err := scorePeriod(ctx, &quiet, cfg, s, q); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.stderr, "crmkpi demo: scoring %s\n", p.Label())
	r, err := scorePeriod(ctx, e, cfg, s, p)
	if err != nil {
		return err
	}

	previewPath := filepath.Join(abs, "slack-preview.json")
	f, err := os.Create(previewPath)
	if err != nil {
		return fmt.Errorf("write the Slack preview: %w", err)
	}
	toFile := *e
	toFile.stdout = f
	err = deliver(ctx, &toFile, cfg, s, r, true)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write the Slack preview: %w", err)
	}
	posted := false
	if e.getenv("SLACK_BOT_TOKEN") != "" && e.getenv("SLACK_CHANNEL") != "" {
		if err := deliver(ctx, e, cfg, s, r, false); err != nil {
			return err
		}
		posted = true
	}

	if err := writeTable(e, r); err != nil {
		return err
	}

	spec := p.Spec()
	fmt.Fprintf(e.stderr, "\ncrmkpi demo: done in %s: %d scorecards for %s.\n", time.Since(began).Round(100*time.Millisecond), len(r.Managers), p.Label())
	fmt.Fprintf(e.stderr, "  warehouse:     %s\n", where)
	fmt.Fprintf(e.stderr, "  config:        %s\n", cfgPath)
	fmt.Fprintf(e.stderr, "  Slack preview: %s (Block Kit JSON; paste a message into https://app.slack.com/block-kit-builder)\n", previewPath)
	if posted {
		fmt.Fprintf(e.stderr, "  Slack:         posted to %s\n", cfg.Notify.Slack.Channel)
	} else {
		fmt.Fprintf(e.stderr, "  Slack:         not posted; set SLACK_BOT_TOKEN and SLACK_CHANNEL to post\n")
	}
	if !*serve {
		fmt.Fprintf(e.stderr, "\nNext, try (the fake CRMs are gone, the warehouse stays; --serve keeps them):\n")
		fmt.Fprintf(e.stderr, "  crmkpi score --config %s --period %s --format json\n", cfgPath, spec)
		fmt.Fprintf(e.stderr, "  crmkpi status --config %s\n", cfgPath)
		fmt.Fprintf(e.stderr, "  crmkpi notify --config %s --period %s --dry-run\n", cfgPath, spec)
		fmt.Fprintf(e.stderr, "(from a checkout, 'go run ./cmd/crmkpi' in place of 'crmkpi')\n")
		return nil
	}
	fmt.Fprintf(e.stderr, "\nThe fake CRMs keep running until Ctrl-C; %s points at them:\n", cfgPath)
	fmt.Fprintf(e.stderr, "  HubSpot  %s\n  amoCRM   %s\n  Bitrix24 %s\n", env.HubSpotURL, env.AmoURL, env.Bitrix.URL)
	fmt.Fprintf(e.stderr, "In another terminal, try (from a checkout, 'go run ./cmd/crmkpi' in place of 'crmkpi'):\n")
	fmt.Fprintf(e.stderr, "  crmkpi sync --config %s\n", cfgPath)
	fmt.Fprintf(e.stderr, "  crmkpi score --config %s --period %s\n", cfgPath, spec)
	fmt.Fprintf(e.stderr, "  crmkpi status --config %s\n", cfgPath)
	fmt.Fprintf(e.stderr, "  crmkpi notify --config %s --period %s --dry-run\n", cfgPath, spec)
	<-ctx.Done()
	fmt.Fprintf(e.stderr, "crmkpi demo: stopping the fake CRMs\n")
	return nil
}

// discard is an io.Writer that drops everything, for the history scoring
// whose warnings the scored period repeats.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
