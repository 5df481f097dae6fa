package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm"
	"github.com/crmkpi/crmkpi/connectors/bitrix24"
	"github.com/crmkpi/crmkpi/connectors/hubspot"
)

// TestInit writes the starter config for each choice of CRMs and parses it
// with the variables it names set, as an admin who follows its lines would.
func TestInit(t *testing.T) {
	env := map[string]string{
		"HUBSPOT_TOKEN": "pat-eu1-x", "AMOCRM_URL": "https://acme.amocrm.ru", "AMOCRM_TOKEN": "t",
		"BITRIX24_WEBHOOK": "https://acme.bitrix24.ru/rest/1/abc/",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, tt := range []struct {
		args  []string
		types []string
		vars  []string // printed for the admin to set
	}{
		{nil, []string{"hubspot", "amocrm", "bitrix24"}, []string{"HUBSPOT_TOKEN", "AMOCRM_TOKEN", "BITRIX24_WEBHOOK", "SLACK_BOT_TOKEN"}},
		{[]string{"--crm", "hubspot"}, []string{"hubspot"}, []string{"HUBSPOT_TOKEN", "oauth", "SLACK_BOT_TOKEN"}},
		{[]string{"--crm", "amocrm"}, []string{"amocrm"}, []string{"AMOCRM_URL", "AMOCRM_TOKEN"}},
		{[]string{"--crm", "bitrix24", "--crm", "HubSpot"}, []string{"bitrix24", "hubspot"}, []string{"user_basic", "HUBSPOT_TOKEN"}},
		{[]string{"--crm", "amocrm,bitrix24"}, []string{"amocrm", "bitrix24"}, []string{"AMOCRM_TOKEN", "BITRIX24_WEBHOOK"}},
	} {
		path := filepath.Join(t.TempDir(), "crmkpi.yaml")
		code, stdout, stderr := runCmd(t, nil, append([]string{"init", "--config", path}, tt.args...)...)
		if code != 0 {
			t.Fatalf("init %q = %d: %s", tt.args, code, stderr)
		}
		for _, v := range tt.vars {
			if !strings.Contains(stdout, v) {
				t.Errorf("init %q does not tell the admin about %s:\n%s", tt.args, v, stdout)
			}
		}
		cfg, err := config.LoadWithEnv(path, lookup)
		if err != nil {
			t.Fatalf("init %q wrote a config that does not parse: %v", tt.args, err)
		}
		var types []string
		for _, c := range cfg.Connectors {
			types = append(types, c.Type)
		}
		if !slices.Equal(types, tt.types) {
			t.Errorf("init %q: connectors %q, want %q", tt.args, types, tt.types)
		}
		if got := cfg.Warehouse.DSN.Value(); got != "sqlite:"+filepath.Join(filepath.Dir(path), "crmkpi.db") {
			t.Errorf("init %q: warehouse %q, want the SQLite file beside the config", tt.args, got)
		}
	}
}

func TestInitKeepsAnExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crmkpi.yaml")
	if err := os.WriteFile(path, []byte("currency: EUR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCmd(t, nil, "init", "--config", path); code != 2 || !strings.Contains(stderr, "exists") {
		t.Errorf("init over an existing file = %d, %q; want 2 and a refusal", code, stderr)
	}
	if b, _ := os.ReadFile(path); string(b) != "currency: EUR\n" {
		t.Errorf("init changed an existing file: %q", b)
	}
	if code, _, stderr := runCmd(t, nil, "init", "--config", path, "--force", "--crm", "hubspot"); code != 0 {
		t.Fatalf("init --force = %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "type: hubspot") {
		t.Errorf("init --force did not write the starter config")
	}
	if code, _, stderr := runCmd(t, nil, "init", "--config", path+"2", "--crm", "salesforce"); code != 2 || !strings.Contains(stderr, `unknown CRM "salesforce"`) {
		t.Errorf("init --crm salesforce = %d, %q", code, stderr)
	}
}

// TestStarterObjectsLines uncomments the objects and since lines of the
// starter config, as an admin would: every name they list is one of its
// connector's objects (each connector built as its package builds it).
func TestStarterObjectsLines(t *testing.T) {
	var b strings.Builder
	n := 0
	for _, line := range strings.SplitAfter(starter([]string{"hubspot", "amocrm", "bitrix24"}), "\n") {
		for _, key := range []string{"# objects:", "# since:"} {
			if i := strings.Index(line, key); i > 0 && strings.TrimSpace(line[:i]) == "" {
				line = line[:i] + line[i+2:]
				n++
			}
		}
		b.WriteString(line)
	}
	if n != 6 {
		t.Fatalf("uncommented %d objects and since lines, want 6:\n%s", n, b.String())
	}
	env := map[string]string{"HUBSPOT_TOKEN": "pat-eu1-x", "AMOCRM_URL": "https://acme.amocrm.ru", "AMOCRM_TOKEN": "t",
		"BITRIX24_WEBHOOK": "https://acme.bitrix24.ru/rest/1/abc/"}
	cfg, err := config.ParseWithEnv(strings.NewReader(b.String()), "crmkpi.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Connectors {
		var all []connectors.Object
		switch c.Type {
		case config.TypeHubSpot:
			cl, err := hubspot.New(hubspot.Options{Name: c.Name, Token: c.Token.Value()})
			if err != nil {
				t.Fatal(err)
			}
			all = cl.Objects()
		case config.TypeAmoCRM:
			cl, err := amocrm.New(amocrm.Options{Name: c.Name, BaseURL: c.BaseURL, Token: c.Token.Value()})
			if err != nil {
				t.Fatal(err)
			}
			all = cl.Objects()
		case config.TypeBitrix24:
			cl, err := bitrix24.New(bitrix24.Options{Name: c.Name, WebhookURL: c.WebhookURL.Value()})
			if err != nil {
				t.Fatal(err)
			}
			all = cl.Objects()
		}
		objs, err := c.SelectObjects(all)
		if err != nil || len(c.Objects) == 0 || c.Since.IsZero() || len(objs) != len(c.Objects)+2 {
			t.Errorf("%s: objects %q since %v select %q, %v; want them all, users and stages", c.Name, c.Objects, c.Since, objs, err)
		}
	}
}
