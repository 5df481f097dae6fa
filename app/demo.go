package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/dustin/go-humanize/english"

	"github.com/crmkpi/crmkpi/demo"
	"github.com/crmkpi/crmkpi/human"
	"github.com/crmkpi/crmkpi/notify"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/warehouse"
)

// DemoHistory is how many periods before the scored one the demo scores
// too, so that the Slack preview's sparklines and trends have a history.
const DemoHistory = 5

// DemoOptions are those of `crmkpi demo`.
type DemoOptions struct {
	// Dir receives the config, the SQLite warehouse and the Slack
	// preview; "" makes a new crmkpi-demo-* directory in the temp dir.
	Dir      string
	Managers int
	Seed     uint64
	// Now is the demo's clock; its world ends at the start of Now's month
	// (demo.Anchor), so that two runs in one month give the same
	// scorecards. Zero means the Env's clock.
	Now time.Time
	// Serve keeps the fake CRMs running after the demo until ctx ends.
	Serve bool
	// Web, an address such as "127.0.0.1:0", serves the scorecard pages
	// of the demo's warehouse there after the demo, until ctx ends; ""
	// serves none.
	Web string
	// Lookup is the environment: $WAREHOUSE_DSN selects a PostgreSQL
	// warehouse, $SLACK_BOT_TOKEN with $SLACK_CHANNEL posts.
	Lookup func(string) (string, bool)
	// Stdout receives the scorecard table.
	Stdout io.Writer
	// Preview, when set, receives the Slack channel message as text
	// after the table (crmkpi demo gives it Stdout).
	Preview io.Writer
}

// DemoResult is where a demo left its files and what it scored.
type DemoResult struct {
	Dir, ConfigPath, PreviewPath string
	Period                       scoring.Period
	Report                       *scoring.Report
	// WebURL is the address of the scorecard pages with DemoOptions.Web.
	WebURL string
}

// Demo is `crmkpi demo`: it starts the fake HubSpot, amoCRM and Bitrix24
// on loopback with a seeded world, writes a config pointing the real
// connectors at them, then syncs, scores the last full month (and
// DemoHistory months before it), writes the Slack preview, posts it when
// Slack is configured in the environment, and prints the scorecards, all on
// the production path. What it does goes to env.Stderr.
func Demo(ctx context.Context, env Env, o DemoOptions) (*DemoResult, error) {
	lookup := o.Lookup
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	getenv := func(k string) string { v, _ := lookup(k); return v }
	stderr := env.stderr()
	now := o.Now
	if now.IsZero() {
		now = env.now()
	}
	// The world ends at the start of the month, so that two runs in one
	// month give the same world and scorecards.
	now = demo.Anchor(now)
	began := env.now()

	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "crmkpi-demo-")
		if err != nil {
			return nil, fmt.Errorf("create demo directory: %w", err)
		}
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create demo directory: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("demo directory: %w", err)
	}
	fmt.Fprintf(stderr, "crmkpi demo: writing to %s\n", abs)

	fmt.Fprintf(stderr, "crmkpi demo: starting fake HubSpot, amoCRM and Bitrix24 on loopback (%s, seed %d)\n", english.Plural(o.Managers, "manager", ""), o.Seed)
	fakes, err := demo.Start(ctx, demo.Options{Seed: o.Seed, Managers: o.Managers, Now: now})
	if err != nil {
		return nil, fmt.Errorf("start the fake CRMs: %w", err)
	}
	defer fakes.Close()
	w := fakes.World
	fmt.Fprintf(stderr, "crmkpi demo: the world holds %s, %s, %s and %s from %s to %s\n",
		english.Plural(len(w.Companies), "company", ""), english.Plural(len(w.Contacts), "contact", ""),
		english.Plural(len(w.Deals), "deal", ""), english.Plural(len(w.Activities), "activity", ""),
		w.Start.Format("2006-01-02"), w.Now.Format("2006-01-02"))

	// The config names the warehouse by reference when it comes from the
	// environment, so a password never lands in the file.
	dsn, where := "sqlite:"+filepath.Join(abs, "crmkpi.db"), ""
	if v := getenv("WAREHOUSE_DSN"); v != "" {
		dsn, where = "${WAREHOUSE_DSN}", "PostgreSQL "+warehouse.RedactDSN(v)+" ($WAREHOUSE_DSN)"
	} else {
		where = filepath.Join(abs, "crmkpi.db") + " (SQLite)"
		// A warehouse left by an earlier demo in the same directory holds
		// another world, and its cursors would make this sync incremental.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(filepath.Join(abs, "crmkpi.db"+suffix)); err != nil && !os.IsNotExist(err) {
				return nil, fmt.Errorf("remove the previous demo warehouse: %w", err)
			}
		}
	}
	cfgPath := filepath.Join(abs, "crmkpi.yaml")
	// 0600: the file holds the fakes' tokens, as a real config would hold real ones.
	if err := os.WriteFile(cfgPath, fakes.ConfigYAML(dsn), 0o600); err != nil {
		return nil, fmt.Errorf("write the demo config: %w", err)
	}

	// From here on it is the production path: the config as any command
	// reads it, and the same sync, score and notify code.
	if env.Redactor == nil {
		env.Redactor = env.redactor()
	}
	cfg, err := LoadConfig(cfgPath, lookup, env.Redactor)
	if err != nil {
		return nil, err
	}
	a, err := Open(ctx, cfg, env)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	fmt.Fprintf(stderr, "crmkpi demo: syncing %s into %s\n", english.Plural(len(cfg.Connectors), "connector", ""), where)
	// Full: a warehouse on $WAREHOUSE_DSN may hold cursors of an earlier
	// demo whose fakes are gone.
	if _, err := a.Sync(ctx, cfg.Connectors, SyncOptions{Full: true}); err != nil {
		return nil, err
	}

	p, err := ParsePeriod(cfg, "previous", w.Now)
	if err != nil {
		return nil, err
	}
	// Score the months before too, oldest first, as a scheduled crmkpi
	// would have, so that trends and sparklines have a history.
	var periods []scoring.Period
	for q, i := p, 0; i < DemoHistory; i++ {
		q = q.Previous()
		periods = append([]scoring.Period{q}, periods...)
	}
	quiet := *a
	quiet.Stderr = io.Discard // the scored period repeats the history's warnings
	for _, q := range periods {
		if _, err := quiet.Score(ctx, q); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(stderr, "crmkpi demo: scoring %s\n", p.Label())
	r, err := a.Score(ctx, p)
	if err != nil {
		return nil, err
	}

	previewPath := filepath.Join(abs, "slack-preview.json")
	var preview bytes.Buffer
	if err := a.Notify(ctx, r, NotifyOptions{DryRun: true, Out: &preview}); err != nil {
		return nil, fmt.Errorf("write the Slack preview: %w", err)
	}
	if err := os.WriteFile(previewPath, preview.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("write the Slack preview: %w", err)
	}
	posted := false
	if getenv("SLACK_BOT_TOKEN") != "" && getenv("SLACK_CHANNEL") != "" {
		if err := a.Notify(ctx, r, NotifyOptions{}); err != nil {
			return nil, err
		}
		posted = true
	}

	if o.Stdout != nil {
		if err := notify.WriteTable(o.Stdout, r); err != nil {
			return nil, err
		}
	}
	if o.Preview != nil {
		fmt.Fprintln(o.Preview)
		if err := notify.Preview(o.Preview, preview.Bytes()); err != nil {
			return nil, err
		}
	}
	res := &DemoResult{Dir: abs, ConfigPath: cfgPath, PreviewPath: previewPath, Period: p, Report: r}

	spec := p.Spec()
	fmt.Fprintf(stderr, "\ncrmkpi demo: done in %s: %s for %s.\n", human.Duration(env.now().Sub(began)), english.Plural(len(r.Managers), "scorecard", ""), p.Label())
	fmt.Fprintf(stderr, "  warehouse:     %s\n", where)
	fmt.Fprintf(stderr, "  config:        %s\n", cfgPath)
	fmt.Fprintf(stderr, "  Slack preview: %s (Block Kit JSON; paste a message into https://app.slack.com/block-kit-builder)\n", previewPath)
	if posted {
		fmt.Fprintf(stderr, "  Slack:         posted to %s\n", cfg.Notify.Slack.Channel)
	} else {
		fmt.Fprintf(stderr, "  Slack:         not posted; set SLACK_BOT_TOKEN and SLACK_CHANNEL to post\n")
	}
	if !o.Serve && o.Web == "" {
		fmt.Fprintf(stderr, "\nNext, try (the fake CRMs are gone, the warehouse stays; --serve keeps them, --web shows the pages):\n")
		fmt.Fprintf(stderr, "  crmkpi score --config %s --period %s --format json\n", cfgPath, spec)
		fmt.Fprintf(stderr, "  crmkpi status --config %s\n", cfgPath)
		fmt.Fprintf(stderr, "  crmkpi notify --config %s --period %s --dry-run\n", cfgPath, spec)
		fmt.Fprintf(stderr, "  crmkpi web --config %s\n", cfgPath)
		fmt.Fprintf(stderr, "(from a checkout, 'go run ./cmd/crmkpi' in place of 'crmkpi')\n")
		return res, nil
	}
	if o.Serve {
		fmt.Fprintf(stderr, "\nThe fake CRMs keep running until Ctrl-C; %s points at them:\n", cfgPath)
		fmt.Fprintf(stderr, "  HubSpot  %s\n  amoCRM   %s\n  Bitrix24 %s\n", fakes.HubSpotURL, fakes.AmoURL, fakes.Bitrix.URL)
		fmt.Fprintf(stderr, "In another terminal, try (from a checkout, 'go run ./cmd/crmkpi' in place of 'crmkpi'):\n")
		fmt.Fprintf(stderr, "  crmkpi sync --config %s\n", cfgPath)
		fmt.Fprintf(stderr, "  crmkpi score --config %s --period %s\n", cfgPath, spec)
		fmt.Fprintf(stderr, "  crmkpi status --config %s\n", cfgPath)
		fmt.Fprintf(stderr, "  crmkpi notify --config %s --period %s --dry-run\n", cfgPath, spec)
	}
	webErr := make(chan error, 1)
	if o.Web != "" {
		ln, err := net.Listen("tcp", o.Web)
		if err != nil {
			return nil, fmt.Errorf("listen on %s for the scorecard pages: %w", o.Web, err)
		}
		res.WebURL = "http://" + ln.Addr().String() + "/"
		go func() { webErr <- a.Web(ctx, ln) }()
		fmt.Fprintf(stderr, "\nThe scorecard pages: %s (until Ctrl-C)\n", res.WebURL)
	}
	<-ctx.Done()
	if o.Web != "" {
		if err := <-webErr; err != nil {
			return res, err
		}
	}
	fmt.Fprintf(stderr, "crmkpi demo: stopping\n")
	return res, nil
}
