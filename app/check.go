package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	gosync "sync"
	"time"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/human"
	"github.com/crmkpi/crmkpi/notify"
	"github.com/crmkpi/crmkpi/warehouse"
)

// DefaultCheckTimeout bounds each connection test of Check on its own.
const DefaultCheckTimeout = 20 * time.Second

// CheckResult is the outcome of one connection test.
type CheckResult struct {
	// What is tested: "warehouse sqlite:/path", "connector hs", "slack".
	What     string
	Warnings []string
	Err      error
}

// Check tests every connection of cfg without writing anything: the
// warehouse is pinged, not migrated (a SQLite file is not even created).
// Each target has its own deadline, timeout, so an unreachable CRM fails
// alone and with its own cause. The warehouse goes first, since OAuth
// connectors read their rotated tokens from it; then every CRM and Slack
// at once. The results come in that order, CRMs in config order; Slack is
// left out when no token is configured. The error is a *ConfigError for a
// connector that cannot be built from the config.
func Check(ctx context.Context, cfg *config.Config, log *slog.Logger, timeout time.Duration) ([]CheckResult, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var s *warehouse.Store
	wh := CheckResult{What: "warehouse " + warehouse.RedactDSN(cfg.Warehouse.DSN.Value())}
	wh.Warnings, wh.Err = withDeadline(ctx, timeout, func(ctx context.Context) ([]string, error) {
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
	if wh.Err != nil && s != nil {
		s.Close()
		s = nil
	}
	if s != nil {
		defer s.Close()
	}
	results := []CheckResult{wh}

	var store tokenStore
	if s != nil {
		store = s
	}
	built, err := buildConnectorsWith(cfg.Connectors, store, log)
	if err != nil {
		return results, err
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
	rest := make([]CheckResult, len(targets))
	var wg gosync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			w, err := withDeadline(ctx, timeout, t.check)
			rest[i] = CheckResult{What: t.what, Warnings: w, Err: err}
		})
	}
	wg.Wait()
	return append(results, rest...), nil
}

// withDeadline runs check under its own deadline.
func withDeadline(ctx context.Context, timeout time.Duration, check func(context.Context) ([]string, error)) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return check(ctx)
}

// CheckCause names why a connection test failed, for people: "401
// unauthorized", "connection refused", "no such host", "TLS handshake",
// "timeout after 20s"...; "" when the error says nothing more specific
// than itself. A failure retried until the deadline is named by its last
// attempt, not by the deadline.
func CheckCause(err error, timeout time.Duration) string {
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
		return fmt.Sprintf("timeout after %s", human.Duration(timeout))
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
