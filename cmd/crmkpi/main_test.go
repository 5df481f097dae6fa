package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCmd runs crmkpi in-process with env as its whole environment.
func runCmd(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runIn(context.Background(), env, args...)
}

// runIn runs crmkpi in-process under ctx with env as its environment.
func runIn(ctx context.Context, env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	code = run(ctx, args, strings.NewReader(""), &out, &errb, lookup)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestUsageAndExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", "timezone: Mars/Olympus\nconnectors:\n  - name: x\n    type: salesforce\n")
	good := writeFile(t, dir, "good.yaml", "warehouse: {dsn: \"sqlite:"+filepath.Join(dir, "w.db")+"\"}\n")
	bad2 := writeFile(t, dir, "b24.yaml", "warehouse: {dsn: \"sqlite:"+filepath.Join(dir, "w.db")+"\"}\n"+
		"connectors: [{name: b24, type: bitrix24, webhook_url: \"https://acme.bitrix24.ru/rest/1/abc/\"}]\n")
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStderr []string
	}{
		{"no args", nil, nil, 2, []string{"Usage: crmkpi COMMAND"}},
		{"help", []string{"--help"}, nil, 0, []string{"Commands:", "sync", "serve"}},
		{"unknown command", []string{"frobnicate"}, nil, 2, []string{`unknown command "frobnicate"`}},
		{"unknown flag", []string{"score", "--bogus"}, nil, 2, []string{"flag provided but not defined: -bogus"}},
		{"command help", []string{"sync", "-h"}, nil, 0, []string{"Usage: crmkpi sync", "-full"}},
		{"missing config", []string{"score", "--config", filepath.Join(dir, "nope.yaml")}, nil, 2, []string{"nope.yaml not found"}},
		{"bad config lists every problem", []string{"migrate", "--config", bad}, nil, 2, []string{
			bad + `:1: timezone: unknown time zone "Mars/Olympus"`,
			bad + `:4: connectors[0].type: unknown connector type "salesforce"`,
		}},
		{"config from env", []string{"migrate"}, map[string]string{"CRMKPI_CONFIG": good}, 0, nil},
		// DESIGN.md gives --config to the binary: before the command too.
		{"config before the command", []string{"--config", bad, "migrate"}, nil, 2, []string{bad + `:4: connectors[0].type`}},
		{"config= before the command", []string{"-config=" + bad, "migrate"}, nil, 2, []string{bad + `:4: connectors[0].type`}},
		{"config before the command wins over env", []string{"--config", good, "migrate"}, map[string]string{"CRMKPI_CONFIG": bad}, 0, nil},
		{"config without a command", []string{"--config", good}, nil, 2, []string{`unknown command "--config"`}},
		{"bad period", []string{"score", "--config", good, "--period", "2026-13"}, nil, 2, []string{`--period: period "2026-13": bad month`}},
		{"garbage period", []string{"score", "--config", good, "--period", "garbage"}, nil, 2, []string{`--period: period "garbage": unknown format`}},
		{"period not started", []string{"score", "--config", good, "--period", "2999-Q1"}, nil, 2, []string{`--period: period "2999-Q1" has not started`}},
		{"bad format", []string{"score", "--config", good, "--format", "xml"}, nil, 2, []string{"--format: want table or json"}},
		{"web off loopback without auth", []string{"web", "--config", good, "--listen", ":8080"}, nil, 2, []string{"--listen:", "web.auth"}},
		{"sync without connectors", []string{"sync", "--config", good}, nil, 2, []string{"no connectors configured"}},
		{"unknown connector", []string{"sync", "--config", bad2, "--connector", "hs"}, nil, 2, []string{`--connector: no connector "hs" in the config (have b24)`}},
		{"manager without dry run", []string{"notify", "--config", good, "--manager", "anna@example.com"}, nil, 2,
			[]string{"--manager previews one manager's message: use it with --dry-run"}},
		{"dry run of a manager without a scorecard", []string{"notify", "--config", good, "--period", "2026-10", "--dry-run", "--manager", "Nobody@Example.com"}, nil, 2,
			[]string{"crmkpi notify: --manager nobody@example.com: no scorecard for October 2026 (managers with one: )"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.env, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

func TestMigrateIdempotent(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "c.yaml", "warehouse: {dsn: \"sqlite:"+filepath.Join(dir, "w.db")+"\"}\n")
	code, out, errs := runCmd(t, nil, "migrate", "--config", cfg)
	if code != 0 || !strings.Contains(out, "migrated to schema version") {
		t.Fatalf("first migrate: code %d out %q err %q", code, out, errs)
	}
	code, out, _ = runCmd(t, nil, "migrate", "--config", cfg)
	if code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("second migrate: code %d out %q", code, out)
	}
}

// TestScoreEmptyWarehouse scores a period of an empty warehouse: no
// managers, valid JSON of the documented shape on stdout alone.
func TestScoreEmptyWarehouse(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "c.yaml", "timezone: Europe/Moscow\ncurrency: RUB\nwarehouse: {dsn: \"sqlite:"+filepath.Join(dir, "w.db")+"\"}\n")
	code, out, errs := runCmd(t, nil, "score", "--config", cfg, "--period", "2026-10", "--format", "json")
	if code != 0 {
		t.Fatalf("code %d, stderr %s", code, errs)
	}
	var got struct {
		Period struct {
			Kind, Start, End string
		}
		Currency string
		Managers []any
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if got.Period.Kind != "month" || got.Period.Start != "2026-10-01T00:00:00+03:00" || got.Period.End != "2026-11-01T00:00:00+03:00" || got.Currency != "RUB" || len(got.Managers) != 0 {
		t.Errorf("score json = %+v", got)
	}
}

// TestCheckWritesNothing checks that check neither creates the SQLite
// warehouse nor anything beside it, and finds it next to the config file
// whatever the working directory.
func TestCheckWritesNothing(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "crmkpi.yaml")
	if err := os.WriteFile(cfg, []byte("currency: EUR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCmd(t, nil, "check", "--config", cfg)
	if code != 0 || !strings.Contains(stdout, "no warehouse file yet") {
		t.Errorf("check = %d\n%s\n%s", code, stdout, stderr)
	}
	if got, _ := filepath.Glob(filepath.Join(dir, "*")); len(got) != 1 {
		t.Errorf("check left %q in the config's directory, want only crmkpi.yaml", got)
	}
	if code, _, stderr := runCmd(t, nil, "migrate", "--config", cfg); code != 0 {
		t.Fatalf("migrate = %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "crmkpi.db")); err != nil {
		t.Errorf("migrate did not create the warehouse beside the config: %v", err)
	}
	code, stdout, _ = runCmd(t, nil, "check", "--config", cfg)
	if code != 0 || !strings.Contains(stdout, "warehouse sqlite:") || strings.Contains(stdout, "FAILED") {
		t.Errorf("check after migrate = %d\n%s", code, stdout)
	}
}

// TestScoreWarnsUnmatchedManagers: every manager key of the config that
// matches no CRM user is one warning on stderr naming its line, in file
// order; stdout stays pure JSON.
func TestScoreWarnsUnmatchedManagers(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "c.yaml", "warehouse: {dsn: \"sqlite:"+filepath.Join(dir, "w.db")+"\"}\n"+
		"managers:\n"+
		"  - {email: anna@example.com}\n"+
		"  - {email: Bob@Example.com, team: smb}\n"+
		"scoring:\n"+
		"  exclude: [carl@example.com]\n"+
		"  manual:\n"+
		"    \"2026-10\":\n"+
		"      dora@example.com: {team_contribution: 1}\n")
	code, out, errs := runCmd(t, nil, "score", "--config", cfg, "--period", "2026-10", "--format", "json")
	if code != 0 {
		t.Fatalf("code %d, stderr %s", code, errs)
	}
	if !json.Valid([]byte(out)) {
		t.Errorf("stdout is not JSON alone:\n%s", out)
	}
	want := "warning: " + cfg + ":3: managers[0]: anna@example.com matches no CRM user\n" +
		"warning: " + cfg + ":4: managers[1]: bob@example.com matches no CRM user\n" +
		"warning: " + cfg + ":6: scoring.exclude[0]: carl@example.com matches no CRM user\n" +
		"warning: " + cfg + ":9: scoring.manual.2026-10: dora@example.com matches no CRM user\n"
	if errs != want {
		t.Errorf("stderr =\n%s\nwant\n%s", errs, want)
	}
}

// TestNotifyEmptyPeriod: notify, notify --dry-run and run on a period that
// has no scorecard post nothing, say why in one line on stderr and exit 0;
// the dry run prints an empty list of messages. The Slack API URL answers
// nothing, so any call would fail the command.
func TestNotifyEmptyPeriod(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "c.yaml", "timezone: Europe/Moscow\nwarehouse: {dsn: \"sqlite:"+filepath.Join(dir, "w.db")+"\"}\n"+
		"notify: {slack: {token: xoxb-test, channel: '#kpi', api_url: 'http://127.0.0.1:1/'}}\n")
	line := "notify: no scorecards for October 2026 (no manager owns a deal, an activity or an active client in it); nothing posted\n"
	for _, tt := range []struct {
		args []string
		out  string
	}{
		{[]string{"notify", "--config", cfg, "--period", "2026-10"}, ""},
		{[]string{"notify", "--config", cfg, "--period", "2026-10", "--dry-run"}, "{\n  \"messages\": []\n}\n"},
		{[]string{"run", "--config", cfg, "--period", "2026-10"}, ""},
	} {
		code, out, errs := runCmd(t, nil, tt.args...)
		if code != 0 || out != tt.out || !strings.HasSuffix(errs, line) || strings.Contains(errs, "slack:") {
			t.Errorf("crmkpi %s: exit %d, stdout %q, stderr %q; want 0, %q and stderr ending %q", strings.Join(tt.args, " "), code, out, errs, tt.out, line)
		}
	}
}
