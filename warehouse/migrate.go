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
// versions it applied (none when the schema is current). Concurrent
// Migrate calls are safe: each migration transaction first locks
// schema_migrations (PostgreSQL) or the database (SQLite, whose
// transactions begin IMMEDIATE) and re-checks. A database newer than this
// binary is an error.
func (s *Store) Migrate(ctx context.Context) (applied []int, err error) {
	ms, err := loadMigrations(migrationFiles, "migrations/"+s.d.name)
	if err != nil {
		return nil, err
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
