package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/crmkpi/crmkpi/config"
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

// syncBuffer is a bytes.Buffer safe for the goroutines that log to it
// and the test that reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
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
func testApp(t *testing.T, s *warehouse.Store, yaml string) (*App, *syncBuffer) {
	t.Helper()
	cfg, err := config.Parse(strings.NewReader(yaml), "crmkpi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	r := redact.New(configSecrets(cfg)...)
	return &App{Config: cfg, Store: s, Env: Env{Logger: NewLogger(stderr, false, LogLevel(""), r), Redactor: r, Stderr: stderr}}, stderr
}
