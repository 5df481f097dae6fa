package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	gosync "sync"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/notify"
	"github.com/crmkpi/crmkpi/warehouse"
)

// defaultCheckTimeout bounds each connection test of check on its own.
const defaultCheckTimeout = 20 * time.Second

// checkResult is the outcome of one connection test.
type checkResult struct {
	what     string
	warnings []string
	err      error
}

// runCheck validates the config and tests every connection without writing:
// the warehouse is pinged, not migrated. Each target has its own deadline,
// so an unreachable CRM fails alone and with its own cause. The warehouse
// goes first, since OAuth connectors read their rotated tokens from it;
// then every CRM and Slack at once, reported in config order.
func runCheck(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "check", "check [--config FILE] [--timeout DURATION]")
	timeout := fs.Duration("timeout", defaultCheckTimeout, "deadline of each connection test (the warehouse, every CRM, Slack)")
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
	fmt.Fprintf(e.stdout, "config: ok (%d connectors, %d managers)\n", len(cfg.Connectors), len(cfg.Managers))
	failed := 0
	report := func(r checkResult) {
		if r.err != nil {
			failed++
			msg := e.redactor.Redact(r.err.Error())
			if c := checkCause(r.err, *timeout); c != "" {
				fmt.Fprintf(e.stdout, "%s: FAILED (%s): %s\n", r.what, c, msg)
			} else {
				fmt.Fprintf(e.stdout, "%s: FAILED: %s\n", r.what, msg)
			}
			return
		}
		fmt.Fprintf(e.stdout, "%s: ok\n", r.what)
		for _, w := range r.warnings {
			fmt.Fprintf(e.stdout, "%s: warning: %s\n", r.what, e.redactor.Redact(w))
		}
	}

	// check writes nothing: not even an empty SQLite file.
	var s *warehouse.Store
	wh := checkResult{what: "warehouse " + warehouse.RedactDSN(cfg.Warehouse.DSN.Value())}
	wh.warnings, wh.err = withDeadline(ctx, *timeout, func(ctx context.Context) ([]string, error) {
		var err error
		s, err = warehouse.OpenReadOnly(ctx, cfg.Warehouse.DSN.Value())
		if errors.Is(err, warehouse.ErrNoDatabase) {
			return []string{"no warehouse file yet; the first sync or crmkpi migrate creates it"}, nil
		}
		if err != nil {
			return nil, err
		}
		if err := s.Ping(ctx); err != nil {
			return nil, err
		}
		if v, err := s.SchemaVersion(ctx); err != nil || v == 0 {
			return []string{"schema not created yet; run crmkpi migrate (sync does it too)"}, nil
		}
		return nil, nil
	})
	if wh.err != nil && s != nil {
		s.Close()
		s = nil
	}
	if s != nil {
		defer s.Close()
	}
	report(wh)

	var store tokenStore
	if s != nil {
		store = s
	}
	built, err := buildConnectorsWith(cfg.Connectors, store, newLogger(e))
	if err != nil {
		return err
	}
	type target struct {
		what  string
		check func(ctx context.Context) ([]string, error)
	}
	var targets []target
	for _, b := range built {
		targets = append(targets, target{"connector " + b.conn.Name(), b.conn.Check})
	}
	if cfg.Notify.Slack.Token.Value() != "" {
		c := slackClient(cfg)
		targets = append(targets, target{"slack", func(ctx context.Context) ([]string, error) { return notify.Check(ctx, c) }})
	}
	results := make([]checkResult, len(targets))
	var wg gosync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			w, err := withDeadline(ctx, *timeout, t.check)
			results[i] = checkResult{what: t.what, warnings: w, err: err}
		})
	}
	wg.Wait()
	for _, r := range results {
		report(r)
	}
	if cfg.Notify.Slack.Token.Value() == "" {
		fmt.Fprintln(e.stdout, "slack: not configured (notify.slack.token); scorecards are only printed")
	}
	if failed > 0 {
		return fmt.Errorf("%d check(s) failed", failed)
	}
	return nil
}

// withDeadline runs check under its own deadline.
func withDeadline(ctx context.Context, timeout time.Duration, check func(context.Context) ([]string, error)) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return check(ctx)
}

// checkCause names why a connection test failed, for people: "401
// unauthorized", "connection refused", "no such host", "TLS handshake",
// "timeout after 20s"...; "" when the error says nothing more specific
// than itself. A failure retried until the deadline is named by its last
// attempt, not by the deadline.
func checkCause(err error, timeout time.Duration) string {
	if a, ok := errors.AsType[*connectors.AuthError](err); ok {
		return httpCause(a.Status)
	}
	if r, ok := errors.AsType[*connectors.RateLimitError](err); ok {
		return httpCause(r.Status)
	}
	if a, ok := errors.AsType[*notify.APIError](err); ok && a.Code != "" {
		return a.Code
	}
	if t, ok := errors.AsType[*connectors.TransportError](err); ok && t.Reason != "" {
		return reasonCause(t.Reason, timeout)
	}
	if r, ok := errors.AsType[*connectors.ResponseError](err); ok {
		return httpCause(r.Status)
	}
	if _, ok := errors.AsType[*connectors.MalformedError](err); ok {
		return "malformed response"
	}
	// Errors of the warehouse driver and of slack-go keep their chain.
	if r := connectors.TransportReason(err); r != "" {
		return reasonCause(r, timeout)
	}
	return ""
}

func reasonCause(reason string, timeout time.Duration) string {
	if reason == "timeout" {
		return fmt.Sprintf("timeout after %s", timeout)
	}
	return reason
}

// httpCause is "401 unauthorized", "503 service unavailable" and so on.
func httpCause(status int) string {
	if t := http.StatusText(status); t != "" {
		return fmt.Sprintf("%d %s", status, strings.ToLower(t))
	}
	return fmt.Sprintf("HTTP %d", status)
}
