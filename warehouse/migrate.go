package warehouse

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
)

//go:embed migrations
var migrationFiles embed.FS

// migration is one embedded NNN_name.up.sql file.
type migration struct {
	version int
	name    string
	sql     string
}

var migrationName = regexp.MustCompile(`^(\d+)_([a-z0-9_]+)\.up\.sql$`)

// loadMigrations reads the migrations in dir of fsys and checks that their
// versions run 1, 2, 3, ... with no gap and no duplicate, so that a
// misnamed file fails every test rather than a customer's upgrade.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration %s/%s: name is not NNN_name.up.sql", dir, e.Name())
		}
		v, err := strconv.Atoi(m[1])
		if err != nil {
			return nil, fmt.Errorf("migration %s/%s: %w", dir, e.Name(), err)
		}
		b, err := fs.ReadFile(fsys, dir+"/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read migration: %w", err)
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i, m := range ms {
		if i > 0 && ms[i-1].version == m.version {
			return nil, fmt.Errorf("migrations %s and %s: duplicate version %d", ms[i-1].name, m.name, m.version)
		}
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s/%s: version %d, want %d (a gap)", dir, m.name, m.version, i+1)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no migrations in %s", dir)
	}
	return ms, nil
}

// createMigrationsTable creates the table of applied versions; only the
// time type of applied_at differs between the engines.
func (d *dialect) createMigrationsTable() string {
	typ := "timestamptz"
	if d.name == DialectSQLite {
		typ = "TEXT"
	}
	return "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at " + typ + " NOT NULL)"
}

// Migrate applies the embedded migrations the database lacks, each in one
// transaction together with its schema_migrations row, and returns the
// versions it applied (none when the schema is current). A database newer
// than this binary is an error.
//
// Concurrent Migrate calls, from any number of processes, are safe: on
// PostgreSQL the whole of Migrate runs under an advisory lock of its own
// (keyed by the schema), so a second caller waits for the first and then
// finds nothing to do; even CREATE TABLE IF NOT EXISTS fails when two
// sessions run it at once. SQLite's transactions begin IMMEDIATE, which
// serialises them; each migration re-checks its version inside its
// transaction.
func (s *Store) Migrate(ctx context.Context) (applied []int, err error) {
	ms, err := loadMigrations(migrationFiles, "migrations/"+s.d.name)
	if err != nil {
		return nil, err
	}
	if s.d.name == DialectPostgres {
		unlock, err := s.lockMigrations(ctx)
		if err != nil {
			return nil, err
		}
		defer func() {
			if uerr := unlock(); uerr != nil && err == nil {
				err = uerr
			}
		}()
	}
	if _, err := s.db.ExecContext(ctx, s.d.createMigrationsTable()); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	cur, err := s.SchemaVersion(ctx)
	if err != nil {
		return nil, err
	}
	if cur > len(ms) {
		return nil, fmt.Errorf("warehouse schema version %d is newer than this crmkpi knows (%d); upgrade crmkpi", cur, len(ms))
	}
	for _, m := range ms[cur:] {
		done := false
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if s.d.name == DialectPostgres {
				if _, err := tx.ExecContext(ctx, "LOCK TABLE schema_migrations IN EXCLUSIVE MODE"); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, s.db.Rebind("SELECT count(*) FROM schema_migrations WHERE version = ?"), m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				done = true // another process applied it meanwhile
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, s.db.Rebind("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"),
				m.version, s.d.timeArg(s.now()))
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("apply migration %s: %w", m.name, err)
		}
		if !done {
			applied = append(applied, m.version)
		}
	}
	return applied, nil
}

// lockMigrations waits for the migration lock of the Store's schema, on a
// connection of its own, and returns the function that gives it back.
func (s *Store) lockMigrations(ctx context.Context) (unlock func() error, err error) {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	key := advisoryKey("crmkpi migrate", s.lockScope)
	if _, err := c.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		// Cut while waiting, the session may hold the lock all the same.
		discard(c)
		return nil, fmt.Errorf("lock migrations: %w", err)
	}
	return advisoryUnlock(c, key, "migrations"), nil
}

// SchemaVersion is the newest applied migration, 0 for an empty database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.d.tableExists(), "schema_migrations").Scan(&n); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v int
	if err := s.db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}
