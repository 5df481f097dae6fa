package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crmkpi/crmkpi/notify"
	"github.com/crmkpi/crmkpi/warehouse"
)

// runCheck validates the config and tests every connection without writing:
// the warehouse is pinged, not migrated.
func runCheck(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "check", "check [--config FILE]")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e, *cfgPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "config: ok (%d connectors, %d managers)\n", len(cfg.Connectors), len(cfg.Managers))
	failed := 0
	report := func(what string, warnings []string, err error) {
		if err != nil {
			failed++
			fmt.Fprintf(e.stdout, "%s: FAILED: %v\n", what, err)
			return
		}
		fmt.Fprintf(e.stdout, "%s: ok\n", what)
		for _, w := range warnings {
			fmt.Fprintf(e.stdout, "%s: warning: %s\n", what, w)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	// check writes nothing: not even an empty SQLite file.
	s, err := warehouse.OpenReadOnly(cctx, cfg.Warehouse.DSN.Value())
	if err == nil {
		err = s.Ping(cctx)
	}
	whName := "warehouse " + warehouse.RedactDSN(cfg.Warehouse.DSN.Value())
	if errors.Is(err, warehouse.ErrNoDatabase) {
		report(whName, []string{"no warehouse file yet; the first sync or crmkpi migrate creates it"}, nil)
		s = nil
	} else if err != nil {
		report(whName, nil, err)
		if s != nil {
			s.Close()
		}
		s = nil
	} else {
		defer s.Close()
		var warns []string
		if v, err := s.SchemaVersion(cctx); err != nil || v == 0 {
			warns = append(warns, "schema not created yet; run crmkpi migrate (sync does it too)")
		}
		report(whName, warns, nil)
	}

	var store tokenStore
	if s != nil {
		store = s
	}
	built, err := buildConnectorsWith(cfg.Connectors, store, newLogger(e))
	if err != nil {
		return err
	}
	for _, b := range built {
		warns, err := b.conn.Check(cctx)
		report("connector "+b.conn.Name(), warns, err)
	}

	if cfg.Notify.Slack.Token.Value() != "" {
		warns, err := notify.Check(cctx, slackClient(cfg))
		report("slack", warns, err)
	} else {
		fmt.Fprintln(e.stdout, "slack: not configured (notify.slack.token); scorecards are only printed")
	}
	if failed > 0 {
		return errors.New(fmt.Sprintf("%d check(s) failed", failed))
	}
	return nil
}
