// Package warehousetest gives tests a fresh, migrated warehouse: a
// PostgreSQL schema of its own or a SQLite file in t.TempDir().
package warehousetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/crmkpi/crmkpi/warehouse"
)

// DefaultPostgres is the test database used when CRMKPI_TEST_POSTGRES is
// not set.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresURL is the test database: $CRMKPI_TEST_POSTGRES or
// DefaultPostgres.
func PostgresURL() string {
	if u := os.Getenv("CRMKPI_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultPostgres
}

// NewPostgres returns a Store confined to a new schema, with a random name,
// in the database of PostgresURL, migrated. The schema is dropped and the
// Store closed when the test ends. When the server does not answer, the
// test fails if $CI is "true" and is skipped otherwise.
func NewPostgres(t testing.TB) *warehouse.Store {
	t.Helper()
	ctx := context.Background()
	url := PostgresURL()
	schema := EmptySchema(t)
	s, err := warehouse.OpenSchema(ctx, url, schema)
	if err != nil {
		t.Fatalf("open schema %s: %v", schema, err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate schema %s: %v", schema, err)
	}
	return s
}

// EmptySchema creates a new schema, with a random name and no tables, in
// the database of PostgresURL, and returns its name; it is dropped when the
// test ends. When the server does not answer, the test fails if $CI is
// "true" and is skipped otherwise.
func EmptySchema(t testing.TB) string {
	t.Helper()
	admin := adminDB(t, PostgresURL())
	schema := "crmkpi_test_" + randomSuffix(t)
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// Reopen opens a second Store on the database (and schema) of s, as a
// second process would; it is closed when the test ends.
func Reopen(t testing.TB, s *warehouse.Store) *warehouse.Store {
	t.Helper()
	var (
		s2  *warehouse.Store
		err error
	)
	if s.Dialect() == warehouse.DialectSQLite {
		s2, err = warehouse.Open(context.Background(), "sqlite:"+s.Path())
	} else {
		s2, err = warehouse.OpenSchema(context.Background(), PostgresURL(), s.Schema())
	}
	if err != nil {
		t.Fatalf("reopen store: %v", err)
	}
	t.Cleanup(func() { s2.Close() })
	return s2
}

// adminDB connects to url for creating and dropping schemas, skipping or
// failing the test when the server does not answer.
func adminDB(t testing.TB, url string) *sql.DB {
	t.Helper()
	c, err := pq.NewConnector(url)
	if err != nil {
		t.Fatalf("CRMKPI_TEST_POSTGRES: %s: %v", warehouse.RedactDSN(url), err)
	}
	db := sql.OpenDB(c)
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		msg := "PostgreSQL at " + warehouse.RedactDSN(url) + " does not answer (" + err.Error() +
			"); set CRMKPI_TEST_POSTGRES or start the server"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("SKIPPING POSTGRESQL TESTS: " + msg)
	}
	return db
}

// NewSQLite returns a Store on a new, migrated SQLite file in t.TempDir(),
// closed when the test ends. The file starts as a copy of one migrated
// once per test binary: migrating costs a tenth of a fault test's CPU
// under -race, and the copy is byte for byte what migrating would make.
func NewSQLite(t testing.TB) *warehouse.Store {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "crmkpi.db")
	if img, err := migratedSQLite(); err != nil {
		t.Fatalf("migrate the template sqlite: %v", err)
	} else if err := os.WriteFile(path, img, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := warehouse.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	// Nothing to apply: this checks the copy is at the newest version.
	if applied, err := s.Migrate(ctx); err != nil || len(applied) > 0 {
		t.Fatalf("migrate sqlite: applied %v to the copy of a migrated file: %v", applied, err)
	}
	return s
}

var template struct {
	once sync.Once
	img  []byte
	err  error
}

// migratedSQLite returns the bytes of a SQLite warehouse file migrated to
// the newest version and closed, its WAL checkpointed into it.
func migratedSQLite() ([]byte, error) {
	template.once.Do(func() {
		dir, err := os.MkdirTemp("", "crmkpi-warehousetest-")
		if err != nil {
			template.err = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "crmkpi.db")
		ctx := context.Background()
		s, err := warehouse.Open(ctx, "sqlite:"+path)
		if err != nil {
			template.err = err
			return
		}
		_, err = s.Migrate(ctx)
		if cerr := s.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			template.err = err
			return
		}
		// The last connection's close checkpoints the WAL into the file
		// and removes it; a WAL left holds pages the file lacks.
		if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
			template.err = fmt.Errorf("%s-wal left with %d bytes after close", path, fi.Size())
			return
		}
		template.img, template.err = os.ReadFile(path)
	})
	return template.img, template.err
}

// Each runs fn as a subtest on a fresh SQLite store ("sqlite") and a fresh
// PostgreSQL store ("postgres").
func Each(t *testing.T, fn func(t *testing.T, s *warehouse.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, NewSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, NewPostgres(t)) })
}

// EachParallel is Each with the two subtests run in parallel, with each
// other and with t's other parallel subtests, for an fn that shares
// nothing between them (it makes its own fakes): on a long end-to-end
// test the two stores then need not wait for each other. They run after
// the caller's function has returned, so nothing after EachParallel may
// depend on what they do.
func EachParallel(t *testing.T, fn func(t *testing.T, s *warehouse.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); fn(t, NewSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); fn(t, NewPostgres(t)) })
}

func randomSuffix(t testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
