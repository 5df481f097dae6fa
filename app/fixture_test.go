package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/redact"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newStore is a fresh, migrated warehouse of kind, "sqlite" or "postgres".
func newStore(t *testing.T, kind string) *warehouse.Store {
	t.Helper()
	if kind == "sqlite" {
		return warehousetest.NewSQLite(t)
	}
	return warehousetest.NewPostgres(t)
}

// testApp is an App on s with the config parsed from yaml, its secrets
// taught to the redactor and its logger writing JSON lines at info to the
// returned buffer with everything else meant for stderr, as the command
// line does off a terminal.
func testApp(t *testing.T, s *warehouse.Store, yaml string) (*App, *connectortest.Buffer) {
	t.Helper()
	cfg, err := config.Parse(strings.NewReader(yaml), "crmkpi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stderr := &connectortest.Buffer{}
	r := redact.New(configSecrets(cfg)...)
	return &App{Config: cfg, Store: s, Env: Env{Logger: NewLogger(stderr, false, LogLevel(""), r), Redactor: r, Stderr: stderr}}, stderr
}
