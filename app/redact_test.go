package app

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/redact"
)

func TestConfigSecrets(t *testing.T) {
	cfg, err := config.Parse(strings.NewReader(`warehouse: {dsn: "postgres://crm:pgpass-1@db/kpi"}
connectors:
  - {name: hs, type: hubspot, token: hs-token-2, schedule: "@every 1h"}
  - name: amo
    type: amocrm
    base_url: https://acme.amocrm.ru
    schedule: "@every 1h"
    oauth: {client_id: id, client_secret: amo-secret-3, refresh_token: amo-refresh-4, redirect_uri: "https://example.com/cb"}
  - {name: b24, type: bitrix24, webhook_url: "https://acme.bitrix24.ru/rest/1/b24code5/", schedule: "@every 1h"}
notify:
  slack: {token: xoxb-slack-6, channel: "#kpi"}
`), "crmkpi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := configSecrets(cfg)
	slices.Sort(got)
	want := []string{"amo-refresh-4", "amo-secret-3", "hs-token-2", "https://acme.bitrix24.ru/rest/1/b24code5/", "pgpass-1", "xoxb-slack-6"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("configSecrets (-want +got):\n%s", diff)
	}
	// A SQLite path is named in messages, not hidden.
	cfg, err = config.Parse(strings.NewReader(`warehouse: {dsn: "sqlite:crmkpi.db"}`), "crmkpi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := configSecrets(cfg); len(got) != 0 {
		t.Errorf("configSecrets of a SQLite config = %q, want none", got)
	}
}

// TestRedactHandler: what the logger writes is redacted: the message,
// string, error, Stringer and grouped attributes, and With attributes.
func TestRedactHandler(t *testing.T) {
	var buf bytes.Buffer
	r := redact.New("hs-token-0123456789")
	log := slog.New(redactHandler{next: slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}}), r: r})
	log.With("url", "/rest/1/b24code5/crm.deal.list").Info("refused hs-token-0123456789",
		"error", errors.New("echo: Authorization: Bearer hs-token-01234"),
		"body", `{"refresh_token":"def502"}`,
		slog.Group("req", "auth", "token=abc123"),
		"n", 3)
	want := `level=INFO msg="refused [REDACTED]" url=/rest/1/[REDACTED]/crm.deal.list error="echo: Authorization: Bearer [REDACTED]" body="{\"refresh_token\":\"[REDACTED]\"}" req.auth="token=[REDACTED]" n=3` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("log line\n %s\nwant\n %s", got, want)
	}
}
