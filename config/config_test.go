package config

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/internal/golden"
	"github.com/crmkpi/crmkpi/period"
)

// testEnv is the environment of every test file. Its values are
// distinctive so that a leak into an error message or printout shows.
var testEnv = map[string]string{
	"HUBSPOT_TOKEN":         "pat-na1-SECRET-hubspot",
	"HUBSPOT_CLIENT_SECRET": "SECRET-hs-client",
	"HUBSPOT_REFRESH_TOKEN": "SECRET-hs-refresh",
	"AMO_TOKEN":             "SECRET-amo-token",
	"AMO_CLIENT_SECRET":     "SECRET-amo-client",
	"AMO_REFRESH_TOKEN":     "SECRET-amo-refresh",
	"B24_WEBHOOK":           "https://portal.bitrix24.ru/rest/1/SECRET-b24/",
	"B24_BAD_WEBHOOK":       "portal.bitrix24.ru/rest/1/SECRET-b24-bad/",
	"WAREHOUSE_DSN":         "postgres://crmkpi:SECRET-pg@db:5432/crmkpi",
	"DB_PASSWORD":           "SECRET-mysql",
	"SLACK_BOT_TOKEN":       "xoxb-SECRET-slack",
	"CRMKPI_WEB_TOKEN":      "SECRET-web-token",
	"CRMKPI_WEB_PASSWORD":   "SECRET-web-password",
	"EMPTY":                 "",
}

func lookup(name string) (string, bool) {
	v, ok := testEnv[name]
	return v, ok
}

func parseString(t *testing.T, yaml string) (*Config, error) {
	t.Helper()
	return ParseWithEnv(strings.NewReader(yaml), "crmkpi.yaml", lookup)
}

// assertNoSecret fails when s shows any secret of testEnv.
func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, "SECRET") || strings.Contains(s, hex.EncodeToString([]byte("SECRET"))) {
		t.Errorf("%s reveals a secret:\n%s", what, s)
	}
}

// TestBadFiles checks the exact error list of every testdata/*.bad.yaml
// against its .golden file; go test -update rewrites them.
func TestBadFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.bad.yaml: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			name := filepath.Base(file)
			cfg, err := ParseWithEnv(bytes.NewReader(data), name, lookup)
			if err == nil {
				t.Fatalf("Parse(%s) = %+v, nil; want errors", name, cfg)
			}
			if cfg != nil {
				t.Errorf("Parse(%s) returned a config with its errors", name)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("Parse(%s) error is %T, want ErrorList", name, err)
			}
			got := err.Error() + "\n"
			assertNoSecret(t, "error list", got)
			golden.Text(t, file+".golden", got)
		})
	}
}

// TestFiveProblems spells out the one contract DESIGN.md names: a missing
// ${VAR}, a bad cron, an unknown type, a duplicate name and a bad time zone
// are all reported in one run, sorted by line, pointing at the second name.
func TestFiveProblems(t *testing.T) {
	data, err := os.ReadFile("testdata/five.bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseWithEnv(bytes.NewReader(data), "crmkpi.yaml", lookup)
	want := ErrorList{
		{File: "crmkpi.yaml", Line: 2, Column: 11, Msg: `timezone: unknown time zone "Europe/Atlantis"`},
		{File: "crmkpi.yaml", Line: 7, Column: 12, Msg: `connectors[0].token: ${HUBSPOT_TOKEN_TYPO} is not set in the environment`},
		{File: "crmkpi.yaml", Line: 12, Column: 15, Msg: `connectors[1].schedule: bad cron expression "*/30 * * *": expected exactly 5 fields, found 4: [*/30 * * *]`},
		{File: "crmkpi.yaml", Line: 14, Column: 11, Msg: `connectors[2].type: unknown connector type "salesforce" (want hubspot, amocrm or bitrix24)`},
		{File: "crmkpi.yaml", Line: 16, Column: 11, Msg: `connectors[3].name: duplicate connector name "amo" (first at line 8)`},
	}
	var got ErrorList
	if !errors.As(err, &got) {
		t.Fatalf("Parse(five.bad.yaml) = %v, want an ErrorList", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse(five.bad.yaml) mismatch (-want +got):\n%s", diff)
	}
	wantText := `crmkpi.yaml:2: timezone: unknown time zone "Europe/Atlantis"
crmkpi.yaml:7: connectors[0].token: ${HUBSPOT_TOKEN_TYPO} is not set in the environment
crmkpi.yaml:12: connectors[1].schedule: bad cron expression "*/30 * * *": expected exactly 5 fields, found 4: [*/30 * * *]
crmkpi.yaml:14: connectors[2].type: unknown connector type "salesforce" (want hubspot, amocrm or bitrix24)
crmkpi.yaml:16: connectors[3].name: duplicate connector name "amo" (first at line 8)`
	if err.Error() != wantText {
		t.Errorf("Parse(five.bad.yaml).Error() =\n%s\nwant\n%s", err, wantText)
	}
}

var cmpLocation = cmp.Comparer(func(a, b *time.Location) bool { return a.String() == b.String() })

func ptr(f float64) *float64 { return &f }

func TestDefaults(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want func(c *Config)
	}{
		{"empty file", "", func(c *Config) {}},
		{"comments only", "# nothing yet\n", func(c *Config) {}},
		{"null document", "~\n", func(c *Config) {}},
		{"empty sections", "connectors:\nmanagers: []\nscoring: {}\nnotify: {slack: {}}\nwarehouse:\n", func(c *Config) {}},
		{
			"hubspot",
			"connectors: [{name: hs, type: hubspot, token: t}]",
			func(c *Config) {
				c.Connectors = []Connector{{
					Name: "hs", Type: TypeHubSpot, Token: "t", Schedule: "*/30 * * * *",
					StaleAfter: 24 * time.Hour,
				}}
			},
		},
		{
			"amocrm",
			"connectors: [{name: amo, type: amocrm, token: t, base_url: 'https://x.amocrm.ru'}]",
			func(c *Config) {
				c.Connectors = []Connector{{
					Name: "amo", Type: TypeAmoCRM, Token: "t", BaseURL: "https://x.amocrm.ru",
					Schedule: "*/30 * * * *", StaleAfter: 24 * time.Hour,
				}}
			},
		},
		{
			"bitrix24",
			"connectors: [{name: b24, type: bitrix24, webhook_url: 'https://p.bitrix24.ru/rest/1/x/'}]",
			func(c *Config) {
				c.Connectors = []Connector{{
					Name: "b24", Type: TypeBitrix24, WebhookURL: "https://p.bitrix24.ru/rest/1/x/",
					Schedule: "*/30 * * * *", StaleAfter: 24 * time.Hour,
				}}
			},
		},
		{
			"only the costs given change",
			"scoring: {costs: {email: 75, task: 10}}",
			func(c *Config) {
				c.Scoring.Costs.Email = 75
				c.Scoring.Costs.Task = 10
			},
		},
		{
			"kpi targets and weights stay unset",
			"scoring: {kpis: {closed_won: {target: 8}, response_time: {weight: 0}, retention: {}}}",
			func(c *Config) {
				c.Scoring.KPIs = map[string]KPI{
					"closed_won":    {Target: ptr(8)},
					"response_time": {Weight: ptr(0)},
					"retention":     {},
				}
			},
		},
		{
			"api_url gets its slash",
			"notify: {slack: {api_url: 'http://127.0.0.1:8080/api'}}",
			func(c *Config) { c.Notify.Slack.APIURL = "http://127.0.0.1:8080/api/" },
		},
		{
			"direct messages off",
			"notify: {slack: {token: x, channel: '#kpi', direct_messages: false}}",
			func(c *Config) {
				c.Notify.Slack.Token = "x"
				c.Notify.Slack.Channel = "#kpi"
				c.Notify.Slack.DirectMessages = false
			},
		},
		{
			"alerts only",
			"notify: {slack: {token: x, alerts_channel: '#crm-sync', direct_messages: false}}",
			func(c *Config) {
				c.Notify.Slack.Token = "x"
				c.Notify.Slack.AlertsChannel = "#crm-sync"
				c.Notify.Slack.DirectMessages = false
			},
		},
		{
			"emails are lower-cased",
			"managers: [{email: Anna@Example.COM, name: Anna, team: ent, slack_id: U1}]\nscoring: {manual: {'2026-W43': {ANNA@example.com: {team_contribution: 2}}}}",
			func(c *Config) {
				c.Managers = []Manager{{Email: "anna@example.com", Name: "Anna", Team: "ent", SlackID: "U1", Pos: Pos{"crmkpi.yaml", 1}}}
				c.Scoring.Manual = map[string]map[string]map[string]float64{
					"2026-W43": {"anna@example.com": {"team_contribution": 2}},
				}
				c.Scoring.ManualPos = map[string]map[string]Pos{"2026-W43": {"anna@example.com": {"crmkpi.yaml", 2}}}
			},
		},
		{
			"exclude and only_listed keep where each manager is written",
			"connectors: [{name: hs, type: hubspot, token: t}]\n" +
				"managers:\n  - email: anna@example.com\n  - {email: Bob@Example.com}\n" +
				"scoring:\n  only_listed: true\n  exclude:\n    - Carl@Example.com\n    - hs:42\n",
			func(c *Config) {
				c.Connectors = []Connector{{
					Name: "hs", Type: TypeHubSpot, Token: "t", Schedule: "*/30 * * * *",
					StaleAfter: 24 * time.Hour,
				}}
				c.Managers = []Manager{{Email: "anna@example.com", Pos: Pos{"crmkpi.yaml", 3}}, {Email: "bob@example.com", Pos: Pos{"crmkpi.yaml", 4}}}
				c.Scoring.OnlyListed = true
				c.Scoring.Exclude = []Ref{{"carl@example.com", Pos{"crmkpi.yaml", 8}}, {"hs:42", Pos{"crmkpi.yaml", 9}}}
			},
		},
		{
			"amoCRM field ids are strings",
			"connectors: [{name: amo, type: amocrm, token: t, base_url: 'https://x.amocrm.ru', fields: {nps_score: 512345, deal_expense: '512399'}}]",
			func(c *Config) {
				c.Connectors = []Connector{{
					Name: "amo", Type: TypeAmoCRM, Token: "t", BaseURL: "https://x.amocrm.ru",
					Schedule: "*/30 * * * *", StaleAfter: 24 * time.Hour,
					Fields: Fields{NPSScore: "512345", DealExpense: "512399"},
				}}
			},
		},
		{
			"key client values, a list or one",
			"connectors: [{name: a, type: amocrm, token: t, base_url: 'https://x.amocrm.ru', fields: {key_client: 512401, key_client_values: [Gold, 7]}},\n" +
				"  {name: b, type: amocrm, token: t, base_url: 'https://y.amocrm.ru', fields: {key_client: 512401, key_client_values: Gold}}]",
			func(c *Config) {
				a := Connector{
					Name: "a", Type: TypeAmoCRM, Token: "t", BaseURL: "https://x.amocrm.ru",
					Schedule: "*/30 * * * *", StaleAfter: 24 * time.Hour,
					Fields: Fields{KeyClient: "512401", KeyClientValues: []string{"Gold", "7"}},
				}
				b := a
				b.Name, b.BaseURL, b.Fields.KeyClientValues = "b", "https://y.amocrm.ru", []string{"Gold"}
				c.Connectors = []Connector{a, b}
			},
		},
		{
			"connection settings and a rate tier pass through as written",
			"connectors: [{name: hs, type: hubspot, token: t, rate_tier: professional, rate_limit: 9.5, burst: 3, timeout: 20s,\n" +
				"  max_retries: 2, min_backoff: 100ms, max_backoff: 2s, max_retry_after: 1m, search_rate_limit: 4}]",
			func(c *Config) {
				c.Connectors = []Connector{{
					Name: "hs", Type: TypeHubSpot, Token: "t", Schedule: "*/30 * * * *", StaleAfter: 24 * time.Hour,
					HTTPOptions: connectors.HTTPOptions{RateLimit: 9.5, Burst: 3, Timeout: 20 * time.Second, MaxRetries: 2,
						MinBackoff: 100 * time.Millisecond, MaxBackoff: 2 * time.Second, MaxRetryAfter: time.Minute},
					RateTier: "professional", SearchRateLimit: 4,
				}}
			},
		},
		{
			"a rate tier may be a number",
			"connectors: [{name: hs, type: hubspot, token: t, rate_tier: 150}]",
			func(c *Config) {
				c.Connectors = []Connector{{Name: "hs", Type: TypeHubSpot, Token: "t", Schedule: "*/30 * * * *", StaleAfter: 24 * time.Hour, RateTier: "150"}}
			},
		},
		{
			"merge keys and x- anchors",
			"x-common: &common {type: hubspot, timeout: 10s, token: t}\nconnectors:\n  - <<: *common\n    name: a\n  - <<: *common\n    name: b\n    timeout: 5s\n",
			func(c *Config) {
				base := Connector{
					Type: TypeHubSpot, Token: "t", Schedule: "*/30 * * * *",
					HTTPOptions: connectors.HTTPOptions{Timeout: 10 * time.Second}, StaleAfter: 24 * time.Hour,
				}
				a, b := base, base
				a.Name, b.Name, b.Timeout = "a", "b", 5*time.Second
				c.Connectors = []Connector{a, b}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseString(t, tt.yaml)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.yaml, err)
			}
			want := Default()
			tt.want(want)
			if diff := cmp.Diff(want, got, cmpLocation); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.yaml, diff)
			}
		})
	}
}

func TestExpandEnv(t *testing.T) {
	env := map[string]string{"A": "alpha", "B": "", "N": "7"}
	look := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		in      string
		want    string
		missing []string
		err     string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x-${A}-${N}-y", want: "x-alpha-7-y"},
		{in: "${B}", want: ""},
		{in: "${B:-dflt}", want: "dflt"},
		{in: "${Z:-dflt}", want: "dflt"},
		{in: "${Z:-}", want: ""},
		{in: "${A:-dflt}", want: "alpha"},
		{in: "${Z:-a:-b}", want: "a:-b"},
		{in: "${Z}", missing: []string{"Z"}},
		{in: "${Z}${Y}${A}", missing: []string{"Z", "Y"}},
		{in: "pa$word$", want: "pa$word$"},
		{in: "$A", want: "$A"},
		{in: "$${A}", want: "${A}"},
		{in: "$$${A}", want: "$${A}"},
		{in: "${A", err: `unterminated "${"`},
		{in: "${}", err: `bad variable name "" in ${...}`},
		{in: "${1A}", err: `bad variable name "1A" in ${...}`},
		{in: "${A B}", err: `bad variable name "A B" in ${...}`},
		{in: "${A_1}", missing: []string{"A_1"}},
	}
	for _, tt := range tests {
		got, missing, err := expandEnv(tt.in, look)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("expandEnv(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("expandEnv(%q) error = %v", tt.in, err)
			continue
		}
		if len(tt.missing) > 0 {
			if diff := cmp.Diff(tt.missing, missing); diff != "" {
				t.Errorf("expandEnv(%q) missing mismatch (-want +got):\n%s", tt.in, diff)
			}
			continue
		}
		if got != tt.want || missing != nil {
			t.Errorf("expandEnv(%q) = %q, %v; want %q", tt.in, got, missing, tt.want)
		}
	}
}

// TestEnvTyping checks that an expanded value is typed by its text, and
// that expansion reaches every kind of value.
func TestEnvTyping(t *testing.T) {
	env := map[string]string{
		"RATE": "12.5", "BURST": "20", "DM": "false", "TZ_NAME": "Europe/Moscow",
		"TEAM": "enterprise", "PERIOD": "2026-Q3", "MGR": "Bob@Example.com", "TOKEN": "t",
	}
	in := `
timezone: ${TZ_NAME}
connectors:
  - name: hs
    type: hubspot
    token: ${TOKEN}
    rate_limit: "${RATE}"
    burst: ${BURST}
    timeout: ${TIMEOUT:-45s}
managers: [{email: "${MGR}", team: "${TEAM}"}]
scoring:
  teams: {"${TEAM}": {kpis: {closed_won: {target: 4}}}}
  manual: {"${PERIOD}": {"${MGR}": {closed_won: "${BURST}"}}}
notify: {slack: {token: x, channel: "#a", direct_messages: "${DM}"}}
`
	cfg, err := ParseWithEnv(strings.NewReader(in), "crmkpi.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	c := cfg.Connector("hs")
	if c == nil {
		t.Fatal(`Connector("hs") = nil`)
	}
	if c.RateLimit != 12.5 || c.Burst != 20 || c.Timeout != 45*time.Second || c.Token.Value() != "t" {
		t.Errorf("connector = %+v, want rate 12.5, burst 20, timeout 45s, token t", *c)
	}
	if cfg.Location.String() != "Europe/Moscow" {
		t.Errorf("Location = %v, want Europe/Moscow", cfg.Location)
	}
	if cfg.Notify.Slack.DirectMessages {
		t.Error("DirectMessages = true, want false from $DM")
	}
	if _, ok := cfg.Scoring.Teams["enterprise"]; !ok {
		t.Errorf("Teams = %v, want an enterprise key", cfg.Scoring.Teams)
	}
	wantManual := map[string]map[string]map[string]float64{"2026-Q3": {"bob@example.com": {"closed_won": 20}}}
	if diff := cmp.Diff(wantManual, cfg.Scoring.Manual); diff != "" {
		t.Errorf("Manual mismatch (-want +got):\n%s", diff)
	}
	if cfg.Connector("nope") != nil {
		t.Error(`Connector("nope") != nil`)
	}
}

func TestStringsAreNotNumbers(t *testing.T) {
	// A quoted number in the file is a string: the file says so.
	_, err := parseString(t, "scoring: {cap: \"150\"}")
	want := `crmkpi.yaml:1: scoring.cap: want a number, got "150"`
	if err == nil || err.Error() != want {
		t.Errorf("Parse = %v, want %s", err, want)
	}
}

func TestPath(t *testing.T) {
	t.Setenv(EnvPath, "")
	if got := Path(""); got != DefaultPath {
		t.Errorf("Path(\"\") = %q, want %q", got, DefaultPath)
	}
	t.Setenv(EnvPath, "/etc/crmkpi.yaml")
	if got := Path(""); got != "/etc/crmkpi.yaml" {
		t.Errorf("Path(\"\") with $%s = %q, want /etc/crmkpi.yaml", EnvPath, got)
	}
	if got := Path("x.yaml"); got != "x.yaml" {
		t.Errorf("Path(\"x.yaml\") = %q, want x.yaml", got)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	path := filepath.Join(dir, "crmkpi.yaml")
	if err := os.WriteFile(path, []byte("currency: EUR\nlisten: bad\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := path + `:2: listen: want host:port such as ":9090", got "bad"`
	if err == nil || err.Error() != want {
		t.Errorf("Load = %v, want %s", err, want)
	}
}

// TestExample parses the documented example with the variables it names.
func TestExample(t *testing.T) {
	cfg, err := Load("../examples/crmkpi.yaml")
	if err == nil {
		t.Fatal("Load(example) without its variables succeeded, want missing-variable errors")
	}
	data, err := os.ReadFile("../examples/crmkpi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err = ParseWithEnv(bytes.NewReader(data), "crmkpi.yaml", lookup)
	if err != nil {
		t.Fatalf("Parse(example): %v", err)
	}
	if len(cfg.Connectors) != 3 || cfg.Warehouse.Driver() != "postgres" {
		t.Errorf("example: %d connectors, driver %s; want 3, postgres", len(cfg.Connectors), cfg.Warehouse.Driver())
	}
}

// TestManualPeriods checks that scoring.manual keys take any case, are kept
// in the canonical form scoring looks up, and that a bad one gets exactly
// the message --period gives.
func TestManualPeriods(t *testing.T) {
	cfg, err := parseString(t, "managers: [{email: anna@example.com}]\nscoring: {manual: {'2026-q3': {anna@example.com: {team_contribution: 2}}, '2026-w43': {anna@example.com: {team_contribution: 1}}}}")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]map[string]float64{
		"2026-Q3":  {"anna@example.com": {"team_contribution": 2}},
		"2026-W43": {"anna@example.com": {"team_contribution": 1}},
	}
	if diff := cmp.Diff(want, cfg.Scoring.Manual); diff != "" {
		t.Errorf("manual (-want +got):\n%s", diff)
	}
	for _, spec := range []string{"2026-13", "garbage", "2026-W54"} {
		_, err := parseString(t, "managers: [{email: anna@example.com}]\nscoring: {manual: {'"+spec+"': {anna@example.com: {team_contribution: 2}}}}")
		_, cli := period.Parse(spec, period.Month, time.UTC, time.Now())
		if err == nil || cli == nil || !strings.Contains(err.Error(), cli.Error()) {
			t.Errorf("manual key %q: config says %v; want it to contain what --period says: %v", spec, err, cli)
		}
	}
}

// TestDocExamples parses every ```yaml block of README.md and docs/*.md as
// a config, so no example a new admin copies fails to parse. A block that
// starts with an indented list item is one or more connectors entries (the
// README shows them one CRM at a time) and is parsed under "connectors:".
func TestDocExamples(t *testing.T) {
	files, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	blockRE := regexp.MustCompile("(?s)```ya?ml\n(.*?)```")
	n := 0
	for _, f := range append([]string{"../README.md"}, files...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range blockRE.FindAllSubmatchIndex(data, -1) {
			line := bytes.Count(data[:m[2]], []byte("\n")) + 1
			block := string(data[m[2]:m[3]])
			name := fmt.Sprintf("%s:%d", filepath.Base(f), line)
			if strings.HasPrefix(block, "  - ") {
				block = "connectors:\n" + block
			}
			n++
			if _, err := ParseWithEnv(strings.NewReader(block), name, lookup); err != nil {
				t.Errorf("the example at %s does not parse:\n%v", name, err)
			}
		}
	}
	if n < 5 {
		t.Errorf("found %d YAML examples, want at least 5: is the fence pattern still right?", n)
	}
}

// TestLoadResolvesSQLite checks that a relative sqlite: path, the default
// one too, is taken from the config file's directory, and that absolute
// paths and PostgreSQL DSNs are left alone.
func TestLoadResolvesSQLite(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ yaml, want string }{
		{"currency: EUR\n", "sqlite:" + filepath.Join(dir, "crmkpi.db")},
		{"warehouse: {dsn: 'sqlite:data/kpi.db'}\n", "sqlite:" + filepath.Join(dir, "data", "kpi.db")},
		{"warehouse: {dsn: 'sqlite:/var/lib/kpi.db'}\n", "sqlite:/var/lib/kpi.db"},
		{"warehouse: {dsn: 'sqlite:///var/lib/kpi.db'}\n", "sqlite:///var/lib/kpi.db"},
		{"warehouse: {dsn: 'postgres://u@h/db'}\n", "postgres://u@h/db"},
	} {
		path := filepath.Join(dir, "crmkpi.yaml")
		if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Warehouse.DSN.Value(); got != tt.want {
			t.Errorf("Load(%q): dsn %q, want %q", tt.yaml, got, tt.want)
		}
	}
}

// TestDesignExample parses DESIGN.md's config example as it is written there
// (testdata/design.yaml is a verbatim copy), `auth: {token: ${CRMKPI_WEB_TOKEN}}`
// with its unquoted variable inside a flow mapping included.
func TestDesignExample(t *testing.T) {
	cfg, err := LoadWithEnv("testdata/design.yaml", lookup)
	if err != nil {
		t.Fatalf("Load(DESIGN.md example): %v", err)
	}
	got := []string{
		cfg.Web.Auth.Token.Value(),
		cfg.Warehouse.DSN.Value(),
		cfg.Notify.Slack.Token.Value(),
		cfg.Connectors[0].Name, cfg.Connectors[0].Token.Value(), cfg.Connectors[0].Fields.KeyClient,
		cfg.Connectors[1].Name, cfg.Connectors[1].Token.Value(), cfg.Connectors[1].Fields.NPSScore, cfg.Connectors[1].Fields.DealExpense,
		cfg.Connectors[2].Name, cfg.Connectors[2].WebhookURL.Value(), cfg.Connectors[2].Fields.NPSDate,
		cfg.Web.BaseURL,
	}
	want := []string{
		"SECRET-web-token",
		"postgres://crmkpi:SECRET-pg@db:5432/crmkpi",
		"xoxb-SECRET-slack",
		"hubspot-eu", "pat-na1-SECRET-hubspot", "key_account",
		"amo", "SECRET-amo-token", "512345", "512399",
		"b24", "https://portal.bitrix24.ru/rest/1/SECRET-b24/", "UF_CRM_NPS_DATE",
		"https://kpi.example.com",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DESIGN.md example (-want +got):\n%s", diff)
	}
}

// TestFlowVars checks that a ${VAR} needs no quotes inside {…} or […]: its
// braces neither end nor open a flow collection, its value is typed as if
// written plain, and errors after it on its line keep their columns.
func TestFlowVars(t *testing.T) {
	env := func(name string) (string, bool) {
		v, ok := map[string]string{"TOKEN": "xoxb-1", "RATE": "7", "DM": "false", "CH": "#kpi"}[name]
		return v, ok
	}
	cfg, err := ParseWithEnv(strings.NewReader(
		"notify: {slack: {token: ${TOKEN}, channel: ${CH}, direct_messages: ${DM}, api_url: ${API:-http://127.0.0.1:1/api/}}}\n"+
			"connectors: [{name: b, type: bitrix24, webhook_url: \"https://p.bitrix24.ru/rest/1/${TOKEN}/\", rate_limit: ${RATE}}]\n"+
			"scoring: {exclude: [${CH}x@example.com, $${LITERAL}@example.com]}\n"), "crmkpi.yaml", env)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Notify.Slack
	got := fmt.Sprint(s.Token.Value(), " ", s.Channel, " ", s.DirectMessages, " ", s.APIURL, " ",
		cfg.Connectors[0].WebhookURL.Value(), " ", cfg.Connectors[0].RateLimit, " ", cfg.Scoring.Exclude[0].Key, " ", cfg.Scoring.Exclude[1].Key)
	want := "xoxb-1 #kpi false http://127.0.0.1:1/api/ https://p.bitrix24.ru/rest/1/xoxb-1/ 7 #kpix@example.com ${literal}@example.com"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	_, err = ParseWithEnv(strings.NewReader("notify: {slack: {token: ${TOKEN}, channel: x, bogus: 1}}\n"), "crmkpi.yaml", env)
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 || list[0].Line != 1 || list[0].Column != 47 || !strings.HasPrefix(list[0].Msg, "notify.slack.bogus: unknown key") {
		t.Errorf("err = %v (%+v), want one unknown key notify.slack.bogus at 1:47", err, list)
	}
}
