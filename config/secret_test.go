package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const allSecrets = `
warehouse: {dsn: "${WAREHOUSE_DSN}"}
connectors:
  - {name: hs, type: hubspot, oauth: {client_id: id, client_secret: "${HUBSPOT_CLIENT_SECRET}", refresh_token: "${HUBSPOT_REFRESH_TOKEN}"}}
  - {name: amo, type: amocrm, base_url: "https://x.amocrm.ru", token: "${AMO_TOKEN}"}
  - {name: b24, type: bitrix24, webhook_url: "${B24_WEBHOOK}"}
notify: {slack: {token: "${SLACK_BOT_TOKEN}", channel: "#kpi"}}
`

func TestSecretsNeverPrinted(t *testing.T) {
	cfg, err := parseString(t, allSecrets)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Connector("b24").WebhookURL.Value(); got != testEnv["B24_WEBHOOK"] {
		t.Fatalf("WebhookURL.Value() = %q, want the real value", got)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%t", "%10.3v"} {
		assertNoSecret(t, verb, fmt.Sprintf(verb, cfg))
		assertNoSecret(t, verb, fmt.Sprintf(verb, *cfg))
	}
	oauth := cfg.Connector("hs").OAuth
	assertNoSecret(t, "%+v of OAuth", fmt.Sprintf("%+v %#v", *oauth, oauth))

	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "json", string(js))
	ys, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, "yaml", string(ys))
	if !strings.Contains(string(ys), "token: '[REDACTED]'") {
		t.Errorf("yaml output has no redacted token:\n%s", ys)
	}

	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("config", "token", cfg.Notify.Slack.Token, "dsn", cfg.Warehouse.DSN, "cfg", cfg)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "oauth", oauth, "slack", cfg.Notify.Slack)
	assertNoSecret(t, "slog", logs.String())
}

func TestSecretForms(t *testing.T) {
	s := Secret("SECRET-x")
	tests := []struct {
		format string
		want   string
	}{
		{"%v", "[REDACTED]"},
		{"%s", "[REDACTED]"},
		{"%q", `"[REDACTED]"`},
		{"%#v", "[REDACTED]"},
		{"%x", fmt.Sprintf("%x", "[REDACTED]")},
		{"%d", "[REDACTED]"},
		{"%12s", "  [REDACTED]"},
		{"%+v", "[REDACTED]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprintf(tt.format, s); got != tt.want {
			t.Errorf("Sprintf(%q, secret) = %q, want %q", tt.format, got, tt.want)
		}
	}
	methods := map[string]string{
		"String":   s.String(),
		"GoString": s.GoString(),
		"LogValue": s.LogValue().String(),
	}
	for name, got := range methods {
		if got != "[REDACTED]" {
			t.Errorf("%s() = %q, want [REDACTED]", name, got)
		}
	}
	js, _ := json.Marshal(s)
	if string(js) != `"[REDACTED]"` {
		t.Errorf("json = %s", js)
	}

	var empty Secret
	if got := fmt.Sprintf("%v|%s|%#v", empty, empty, empty); got != "||" {
		t.Errorf("empty secret printed %q, want \"||\"", got)
	}
	js, _ = json.Marshal(empty)
	if string(js) != `""` {
		t.Errorf("json of empty secret = %s, want \"\"", js)
	}
}
