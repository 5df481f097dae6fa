// Package warehouse owns the crmkpi warehouse: the schema and its migrations
// on PostgreSQL and embedded SQLite, the bulk upserts the sync engine makes,
// and the reads of scoring and notify.
//
// All SQL of crmkpi lives here; what differs between the engines is built by
// one small dialect type.
//
// Times: PostgreSQL stores timestamptz; SQLite stores TEXT in the fixed-width
// UTC format 2006-01-02T15:04:05.000000000Z, so that text order is time
// order and range scans use the indexes. On both engines times are truncated
// to the microsecond (PostgreSQL's precision) and come back in UTC; a zero
// time.Time is stored as NULL (except in updated_at, which is never NULL).
package warehouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"
)

// Store is the warehouse. It is safe for concurrent use.
type Store struct {
	// db is sqlx over database/sql: Get and Select scan into structs by
	// their db tags, Rebind turns the ? of a query into $N on PostgreSQL.
	db *sqlx.DB
	d  *dialect
	// path is the SQLite database file, next to which TryLock keeps its
	// lock files.
	path string
	// schema is the PostgreSQL schema the Store is confined to by
	// OpenSchema ("" for the search_path default).
	schema string
	// lockScope is the schema the Store's connections work in, read from
	// the server (a search_path in the DSN counts): it scopes advisory lock
	// keys, so that warehouses in schemas of one database share no locks.
	lockScope string
	// copyUpsert makes big PostgreSQL upserts go through COPY and a
	// staging table instead of multi-row INSERTs.
	copyUpsert bool
	// now is the clock for synced_at and similar bookkeeping times.
	now func() time.Time
	// heartbeat is how often a held lease renews heartbeat_at; 0 means
	// defaultHeartbeat.
	heartbeat time.Duration
}

// Open connects to the warehouse named by dsn:
//
//   - postgres://... or postgresql://... : PostgreSQL through lib/pq;
//   - sqlite:PATH : an embedded SQLite database file (created if missing).
//
// Open checks that the database answers. It does not migrate; call Migrate.
// Errors never contain the DSN's password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	return OpenSchema(ctx, dsn, "")
}

// ErrNoDatabase is what OpenReadOnly returns for a SQLite warehouse whose
// file does not exist yet.
var ErrNoDatabase = errors.New("the warehouse file does not exist yet")

// OpenReadOnly is Open for a caller that must write nothing, crmkpi check:
// a SQLite file is opened immutable (no -wal or -shm file is created; what
// another process has in its WAL and not yet checkpointed is not seen,
// which is fine for a check), and a missing one is ErrNoDatabase rather
// than an empty file created on disk.
// PostgreSQL opens as with Open; the caller only reads.
func OpenReadOnly(ctx context.Context, dsn string) (*Store, error) {
	path, ok := sqlitePath(dsn)
	if !ok {
		return Open(ctx, dsn)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open warehouse %q: %w", dsn, err)
	}
	if _, err := os.Stat(abs); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open warehouse %q: %w", dsn, ErrNoDatabase)
	} else if err != nil {
		return nil, fmt.Errorf("open warehouse %q: %w", dsn, err)
	}
	c, err := sqlite.NewConnector("file:" + abs + "?mode=ro&immutable=1")
	if err != nil {
		return nil, fmt.Errorf("open warehouse %q: %w", dsn, err)
	}
	db := sqlx.NewDb(sql.OpenDB(c), sqliteDriver)
	db.SetMaxOpenConns(1)
	st := &Store{db: db, d: sqliteDialect, path: abs, now: time.Now}
	if err := st.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return st, nil
}

// sqlitePath returns the file of a sqlite: DSN; ok is false for any other.
func sqlitePath(dsn string) (string, bool) {
	if !strings.HasPrefix(dsn, "sqlite:") {
		return "", false
	}
	return strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//"), true // sqlite:///abs/path
}

// OpenSchema is Open for PostgreSQL confined to one schema: every connection
// gets search_path=schema, so tables are created and found there. The schema
// must exist. schema must be "" for SQLite.
func OpenSchema(ctx context.Context, dsn, schema string) (*Store, error) {
	s, err := open(dsn, schema)
	if err != nil {
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	if s.d.name == DialectPostgres {
		if err := s.db.QueryRowContext(ctx, "SELECT coalesce(current_schema(), '')").Scan(&s.lockScope); err != nil {
			s.db.Close()
			return nil, fmt.Errorf("read warehouse schema: %w", err)
		}
	}
	return s, nil
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func open(dsn, schema string) (*Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		cfg, err := pq.NewConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("parse warehouse dsn %s: %w", RedactDSN(dsn), redactErr(err, dsn))
		}
		if schema != "" {
			if !schemaName.MatchString(schema) {
				return nil, fmt.Errorf("invalid schema name %q", schema)
			}
			if cfg.Runtime == nil {
				cfg.Runtime = map[string]string{}
			}
			// lib/pq sends unknown connection parameters as run-time
			// parameters in the startup message, as PostgreSQL's
			// options=-csearch_path=... would.
			cfg.Runtime["search_path"] = schema
		}
		c, err := pq.NewConnectorConfig(cfg)
		if err != nil {
			return nil, fmt.Errorf("open warehouse %s: %w", RedactDSN(dsn), redactErr(err, dsn))
		}
		// COPY into a staging table then one merge measured about twice
		// as fast as multi-row INSERTs for 1000-record pages (BENCHMARKS.md).
		return &Store{db: sqlx.NewDb(sql.OpenDB(c), "postgres"), d: postgresDialect, schema: schema, copyUpsert: true, now: time.Now}, nil
	case strings.HasPrefix(dsn, "sqlite:"):
		if schema != "" {
			return nil, errors.New("open warehouse: schemas are for PostgreSQL only")
		}
		path, _ := sqlitePath(dsn)
		if path == "" || strings.ContainsAny(path, "?#") {
			return nil, fmt.Errorf("open warehouse %q: want sqlite:PATH with no ? or #", dsn)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("open warehouse %q: %w", dsn, err)
		}
		// WAL lets readers (crmkpi status, score) run beside a sync;
		// busy_timeout makes another process's writer a wait, not an
		// error; _txlock=immediate takes the write lock at BEGIN, so two
		// processes never deadlock upgrading read transactions (which
		// SQLite reports as SQLITE_BUSY at once, whatever the timeout).
		// foreign_keys stays off: the schema declares none, and record
		// tables reference ids the CRM may send in any order.
		// synchronous=NORMAL is safe in WAL mode (a power cut may lose
		// the last commits, never corrupt); a lost page and its cursor go
		// together and are pulled again.
		c, err := sqlite.NewConnector(abs + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)" +
			"&_pragma=foreign_keys(0)&_pragma=synchronous(NORMAL)&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("open warehouse %q: %w", dsn, err)
		}
		db := sqlx.NewDb(sql.OpenDB(c), sqliteDriver)
		// One connection: SQLite has a single writer anyway, and with one
		// connection database/sql queues this process's statements rather
		// than letting two of its connections collide with SQLITE_BUSY.
		// It also keeps temporary tables and pragmas on the one session.
		db.SetMaxOpenConns(1)
		return &Store{db: db, d: sqliteDialect, path: abs, now: time.Now}, nil
	default:
		return nil, fmt.Errorf("open warehouse %s: unknown scheme, want postgres://, postgresql:// or sqlite:PATH", RedactDSN(dsn))
	}
}

// sqliteDriver is the name modernc.org/sqlite registers. sqlx knows no
// bind type for it, so Rebind leaves its queries' ? as they are, which is
// SQLite's placeholder.
const sqliteDriver = "sqlite"

// RedactDSN returns dsn with any password replaced by "xxxxx", for messages.
func RedactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.String()
	}
	return dsnPassword.ReplaceAllString(dsn, "${1}xxxxx${2}")
}

// dsnPassword finds the password of a DSN that net/url cannot parse.
var dsnPassword = regexp.MustCompile(`(://[^:/@]*:)[^@]*(@)|(password=)[^&\s]*()`)

// redactErr scrubs any password of dsn out of err's text. url.Parse errors,
// for one, quote the whole URL.
func redactErr(err error, dsn string) error {
	var secrets []string
	if u, perr := url.Parse(dsn); perr == nil {
		if p, ok := u.User.Password(); ok && p != "" {
			secrets = append(secrets, p, url.QueryEscape(p), url.PathEscape(p))
		}
		if p := u.Query().Get("password"); p != "" {
			secrets = append(secrets, p)
		}
	} else if m := dsnPassword.FindStringSubmatch(dsn); m != nil {
		// The URL does not parse, so neither does its password: remove
		// the whole DSN and whatever of it the error quotes.
		secrets = append(secrets, dsn)
	}
	msg := err.Error()
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}

// Close closes the database. Locks still held are released by the server
// when their sessions end (PostgreSQL) or stay as lock files until their
// holder is seen to be gone (SQLite); release them first.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the warehouse answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping warehouse: %w", err)
	}
	return nil
}

// Schema is the PostgreSQL schema the Store is confined to (OpenSchema),
// "" when none.
func (s *Store) Schema() string { return s.schema }

// Path is the absolute path of the SQLite database file, "" on PostgreSQL.
func (s *Store) Path() string { return s.path }

// Dialect is "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.d.name }

// inTx runs fn in one transaction and commits it when fn succeeds.
//
// database/sql's Tx.Rollback takes no context, so the rollback of a failed
// fn goes through even when ctx is already cancelled (the equivalent of
// rolling back under context.WithoutCancel); when ctx ends mid-transaction
// database/sql rolls back by itself.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return inTxOn(ctx, s.db, fn)
}

// inTxOn is inTx on db, a pool or one connection of it.
func inTxOn(ctx context.Context, db leaseDB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
			return errors.Join(err, fmt.Errorf("roll back: %w", rerr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// nullTime scans a time column of either engine: time.Time from
// PostgreSQL, the fixed-width text from SQLite, or NULL. T is in UTC.
type nullTime struct {
	T     time.Time
	Valid bool
}

// Scan implements sql.Scanner.
func (n *nullTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		n.T, n.Valid = time.Time{}, false
		return nil
	case time.Time:
		n.T, n.Valid = v.UTC(), true
		return nil
	case string:
		return n.parse(v)
	case []byte:
		return n.parse(string(v))
	}
	return fmt.Errorf("scan time: unsupported type %T", src)
}

func (n *nullTime) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("scan time: %w", err)
	}
	n.T, n.Valid = t.UTC(), true
	return nil
}

// ptr is the time, or nil for NULL.
func (n nullTime) ptr() *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.T
	return &t
}
