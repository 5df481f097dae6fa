package warehouse

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
)

// lockTimeout bounds each statement that takes, renews or gives back a
// lock. They run under context.WithoutCancel: a pg_try_advisory_lock cut by
// the caller's cancellation may have taken the lock on the server while the
// client reports an error, and the session would then keep a lock nobody
// knows of (the next TryLock of the process would call it another
// process's). A statement that does time out ends its session.
const lockTimeout = 10 * time.Second

// defaultHeartbeat is how often a held lease records that its holder is
// alive, for crmkpi status.
const defaultHeartbeat = 30 * time.Second

// Lease is a sync's hold on one connector: the lock (a PostgreSQL advisory
// lock on a connection of its own, or a lock file next to a SQLite
// database) and the fencing token it took in sync_leases. The writes made
// with a lease (ApplyPageFenced, SetCursorFenced, MarkMissingDeletedFenced,
// InterruptOrphanRuns) first check, in their own transaction, that Token is
// still the connector's current token, so a sync that lost its lock can
// never write beside the sync that took it over.
type Lease struct {
	Connector string
	Holder    string
	// Token is bumped by every new holder of the connector.
	Token int64
	// Previous is the holder of the lease before this one, "" for the
	// connector's first.
	Previous string

	s        *Store
	stopBeat func()
	once     sync.Once
	release  func() error
	rerr     error
}

// leaseDB is a pool or one connection of it.
type leaseDB interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Release gives the lock back and records the lease released. It is safe
// to call more than once and does not depend on any caller's ctx. When the
// unlock cannot be confirmed, the connection that holds the lock is closed,
// which ends the session and so the lock.
func (l *Lease) Release() error {
	l.once.Do(func() {
		if l.stopBeat != nil {
			l.stopBeat()
		}
		l.rerr = l.release()
	})
	return l.rerr
}

// Heartbeat records in sync_leases that the holder is alive. A held lease
// calls it every 30 s by itself; it fails with a *LostLeaseError once
// another holder has taken the connector.
func (l *Lease) Heartbeat(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lockTimeout)
	defer cancel()
	s := l.s
	res, err := s.db.ExecContext(ctx, s.d.q("UPDATE sync_leases SET heartbeat_at = $3 WHERE connector = $1 AND token = $2 AND released_at IS NULL"),
		l.Connector, l.Token, s.d.timeArg(s.now()))
	if err != nil {
		return fmt.Errorf("renew %s lease: %w", l.Connector, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return s.lostLease(ctx, l)
	}
	return nil
}

// beat calls Heartbeat every interval until Release.
func (l *Lease) beat(every time.Duration) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				// A failed heartbeat only leaves status an older time:
				// the fence, not the heartbeat, keeps a lost lease from
				// writing.
				l.Heartbeat(context.Background())
			}
		}
	}()
	l.stopBeat = func() {
		close(done)
		<-stopped
	}
}

// LockedError is TryLock's answer when another holder has the connector.
type LockedError struct {
	Connector string
	// Holder names the holder ("another process" when it has not written
	// its name yet).
	Holder string
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s is locked by %s", e.Connector, e.Holder)
}

// LostLeaseError is the error of a fenced write whose lease is no longer
// the connector's: another sync took the connector over (after this one's
// lock was lost with its connection, say), or the lease was released.
// Nothing of the write was stored.
type LostLeaseError struct {
	Connector string
	// Holder is who holds the connector now.
	Holder string
	// Token is the lost lease's, Current the connector's now.
	Token, Current int64
}

func (e *LostLeaseError) Error() string {
	return fmt.Sprintf("lost the lease on %s to %s", e.Connector, e.Holder)
}

// TryLock takes the sync lock of connector for holder (a description such
// as "crmkpi serve on host-1") without waiting, and with it a new lease
// token. When another holder has the lock, it returns a *LockedError naming
// it, and records the skip in sync_leases for crmkpi status.
//
// On PostgreSQL the lock is a session advisory lock, keyed by a hash of the
// schema the Store works in and the connector name, held on a connection of its own
// until Release; if the process dies, the server drops the lock with the
// session. Taking and giving it back do not depend on ctx (see
// lockTimeout).
//
// On SQLite it is a lock file next to the database, created atomically
// with the holder, pid and host in it. A file whose process no longer
// exists on this host is stale and taken over. Locks within this process
// are also tracked in memory, which both makes TryLock answer without the
// file system and tells a live lock of ours from a stale file that a
// previous process with our pid left (a container's pid 1, say).
func (s *Store) TryLock(ctx context.Context, connector, holder string) (*Lease, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lockTimeout)
	defer cancel()
	if s.d.name == DialectPostgres {
		return s.tryLockPostgres(ctx, connector, holder)
	}
	return s.tryLockSQLite(ctx, connector, holder)
}

func lockKey(schema, connector string) int64 {
	return advisoryKey("crmkpi sync lock", schema, connector)
}

// advisoryKey is the PostgreSQL advisory lock key of one named thing: a
// hash of its parts, so that locks of different kinds and schemas never
// share a key.
func advisoryKey(parts ...string) int64 {
	h := fnv.New64a()
	h.Write([]byte(strings.Join(parts, "\x00")))
	return int64(h.Sum64())
}

// advisoryUnlock returns the function that gives back the session advisory
// lock key held on c and releases c. It does not depend on the caller's
// context: a cancelled run must still give its lock back. If the unlock
// cannot be confirmed, c is discarded, since ending the session is the sure
// way to drop the lock.
func advisoryUnlock(c *sql.Conn, key int64, what string) func() error {
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), lockTimeout)
		defer cancel()
		var unlocked bool
		err := c.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", key).Scan(&unlocked)
		if err == nil && !unlocked {
			err = errors.New("the session did not hold it")
		}
		if err != nil {
			discard(c)
			return fmt.Errorf("unlock %s: %w", what, err)
		}
		return c.Close()
	}
}

func (s *Store) tryLockPostgres(ctx context.Context, connector, holder string) (*Lease, error) {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", connector, err)
	}
	key := lockKey(s.lockScope, connector)
	var ok bool
	if err := c.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		// The server may have granted the lock all the same.
		discard(c)
		return nil, fmt.Errorf("lock %s: %w", connector, err)
	}
	if !ok {
		defer c.Close()
		return nil, s.recordSkip(ctx, c, connector, holder, "")
	}
	unlock := advisoryUnlock(c, key, connector)
	l, err := s.takeLease(ctx, c, connector, holder, "pg_backend_pid()")
	if err != nil {
		return nil, errors.Join(err, unlock())
	}
	l.release = func() error {
		return errors.Join(s.markReleased(l), unlock())
	}
	l.beat(s.heartbeatEvery())
	return l, nil
}

func (s *Store) tryLockSQLite(ctx context.Context, connector, holder string) (*Lease, error) {
	release, heldBy, ok, err := tryLockFile(s.path+".lock."+safeName(connector), holder)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", connector, err)
	}
	if !ok {
		return nil, s.recordSkip(ctx, s.db, connector, holder, heldBy)
	}
	l, err := s.takeLease(ctx, s.db, connector, holder, fmt.Sprint(os.Getpid()))
	if err != nil {
		return nil, errors.Join(err, release())
	}
	l.release = func() error {
		return errors.Join(s.markReleased(l), release())
	}
	l.beat(s.heartbeatEvery())
	return l, nil
}

func (s *Store) heartbeatEvery() time.Duration {
	if s.heartbeat > 0 {
		return s.heartbeat
	}
	return defaultHeartbeat
}

// takeLease bumps connector's token for holder, who has just taken the
// lock; pid is the SQL of the pid column's value. On PostgreSQL db is the
// lock's connection, so pg_backend_pid() names the backend holding it.
func (s *Store) takeLease(ctx context.Context, db leaseDB, connector, holder, pid string) (*Lease, error) {
	l := &Lease{Connector: connector, Holder: holder, s: s}
	now := s.d.timeArg(s.now())
	err := inTxOn(ctx, db, func(tx *sql.Tx) error {
		// FOR UPDATE waits for the page transactions of the previous
		// holder that checked the lease (FOR KEY SHARE), and makes those
		// after this one see the new token.
		q := "SELECT holder FROM sync_leases WHERE connector = $1"
		if s.d.name == DialectPostgres {
			q += " FOR UPDATE"
		}
		var prev sql.NullString
		err := tx.QueryRowContext(ctx, s.d.q(q), connector).Scan(&prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		l.Previous = prev.String
		return tx.QueryRowContext(ctx, s.d.q("INSERT INTO sync_leases (connector, token, holder, pid, acquired_at, heartbeat_at)\n"+
			"VALUES ($1, 1, $2, "+pid+", $3, $3)\n"+
			"ON CONFLICT (connector) DO UPDATE SET token = sync_leases.token + 1, holder = excluded.holder, pid = excluded.pid,\n"+
			"  acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at, released_at = NULL\n"+
			"RETURNING token"), connector, holder, now).Scan(&l.Token)
	})
	if err != nil {
		return nil, fmt.Errorf("take %s lease: %w", connector, err)
	}
	return l, nil
}

// markReleased records l released, unless another holder has the
// connector by now.
func (s *Store) markReleased(l *Lease) error {
	ctx, cancel := context.WithTimeout(context.Background(), lockTimeout)
	defer cancel()
	if _, err := s.db.ExecContext(ctx, s.d.q("UPDATE sync_leases SET released_at = $3 WHERE connector = $1 AND token = $2"),
		l.Connector, l.Token, s.d.timeArg(s.now())); err != nil {
		return fmt.Errorf("record %s lease released: %w", l.Connector, err)
	}
	return nil
}

// recordSkip notes in sync_leases that holder was skipped because the lock
// of connector is held, and returns the *LockedError naming the lock's
// holder: heldBy when known (from the lock file), else the lease's.
func (s *Store) recordSkip(ctx context.Context, db leaseDB, connector, holder, heldBy string) error {
	le := &LockedError{Connector: connector, Holder: heldBy}
	if heldBy == "" {
		le.Holder = "another process"
	}
	err := inTxOn(ctx, db, func(tx *sql.Tx) error {
		var h string
		var released nullTime
		err := tx.QueryRowContext(ctx, s.d.q("SELECT holder, released_at FROM sync_leases WHERE connector = $1"), connector).Scan(&h, &released)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // the holder has not written its lease yet
		}
		if err != nil {
			return err
		}
		if heldBy == "" && !released.Valid {
			// A released row means the holder took the lock but has not
			// bumped the lease yet: its name is not known.
			le.Holder = h
		}
		_, err = tx.ExecContext(ctx, s.d.q("UPDATE sync_leases SET skipped_at = $2, skipped_by = $3, skipped_holder = $4 WHERE connector = $1"),
			connector, s.d.timeArg(s.now()), holder, le.Holder)
		return err
	})
	if err != nil {
		// The skip stands; only crmkpi status will not show it.
		return errors.Join(le, fmt.Errorf("record %s skipped: %w", connector, err))
	}
	return le
}

// checkLease fails with a *LostLeaseError unless l is still the current
// lease of its connector. On PostgreSQL it key-share-locks the lease row
// until tx ends, so that a new holder's bump (which locks the row FOR
// UPDATE) waits for tx and every transaction after the bump sees it, while
// heartbeats and recorded skips, which change no key, need not wait;
// SQLite's transactions are serial already.
func (s *Store) checkLease(ctx context.Context, tx *sql.Tx, l *Lease) error {
	q := "SELECT token, holder, released_at FROM sync_leases WHERE connector = $1"
	if s.d.name == DialectPostgres {
		q += " FOR KEY SHARE"
	}
	var tok int64
	var holder string
	var released nullTime
	err := tx.QueryRowContext(ctx, s.d.q(q), l.Connector).Scan(&tok, &holder, &released)
	if errors.Is(err, sql.ErrNoRows) {
		return &LostLeaseError{Connector: l.Connector, Holder: "nobody (its lease row is gone)", Token: l.Token}
	}
	if err != nil {
		return fmt.Errorf("check %s lease: %w", l.Connector, err)
	}
	if tok != l.Token {
		return &LostLeaseError{Connector: l.Connector, Holder: holder, Token: l.Token, Current: tok}
	}
	if released.Valid {
		return &LostLeaseError{Connector: l.Connector, Holder: "nobody (it was released)", Token: l.Token, Current: tok}
	}
	return nil
}

// lostLease reads who holds l's connector now.
func (s *Store) lostLease(ctx context.Context, l *Lease) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("check %s lease: %w", l.Connector, err)
	}
	defer tx.Rollback()
	if err := s.checkLease(ctx, tx, l); err != nil {
		return err
	}
	return fmt.Errorf("renew %s lease: no row updated", l.Connector)
}

// LeaseStatus is a connector's row of sync_leases, for crmkpi status.
type LeaseStatus struct {
	Connector   string
	Token       int64
	Holder      string
	AcquiredAt  time.Time
	HeartbeatAt time.Time
	// ReleasedAt is nil while the lease is held (or its holder died
	// holding it).
	ReleasedAt *time.Time
	// SkippedAt is the last time a sync was skipped because the lock was
	// held; SkippedBy names that sync and SkippedHolder who held the lock.
	SkippedAt     *time.Time
	SkippedBy     string
	SkippedHolder string
}

// Leases reads sync_leases, sorted by connector.
func (s *Store) Leases(ctx context.Context) ([]LeaseStatus, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT connector, token, holder, acquired_at, heartbeat_at, released_at, skipped_at, skipped_by, skipped_holder\n"+
		"FROM sync_leases ORDER BY connector")
	if err != nil {
		return nil, fmt.Errorf("read leases: %w", err)
	}
	defer rows.Close()
	var out []LeaseStatus
	for rows.Next() {
		var l LeaseStatus
		var acquired, beat, released, skipped nullTime
		var by, held sql.NullString
		if err := rows.Scan(&l.Connector, &l.Token, &l.Holder, &acquired, &beat, &released, &skipped, &by, &held); err != nil {
			return nil, fmt.Errorf("read leases: %w", err)
		}
		l.AcquiredAt, l.HeartbeatAt, l.ReleasedAt, l.SkippedAt = acquired.T, beat.T, released.ptr(), skipped.ptr()
		l.SkippedBy, l.SkippedHolder = by.String, held.String
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read leases: %w", err)
	}
	return out, nil
}

// discard closes c's session instead of returning it to the pool, so that
// a session lock it may hold dies with it.
func discard(c *sql.Conn) {
	c.Raw(func(any) error { return driver.ErrBadConn })
	c.Close()
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// safeName makes a connector name usable in a file name.
func safeName(s string) string { return unsafeChars.ReplaceAllString(s, "_") }

// lockInfo is the content of a SQLite lock file.
type lockInfo struct {
	Holder string `json:"holder"`
	PID    int    `json:"pid"`
	Host   string `json:"host"`
	// ID tells two locks of one holder apart.
	ID string `json:"id,omitempty"`
}

func (l lockInfo) String() string {
	return fmt.Sprintf("%s (pid %d on %s)", l.Holder, l.PID, l.Host)
}

// heldFile is a lock file this process holds, with the content it wrote.
type heldFile struct {
	info    lockInfo
	content []byte
}

// fileLocks are the lock files this process holds, by path: several Stores
// of one process on one database share them.
var fileLocks = struct {
	sync.Mutex
	held map[string]heldFile
}{held: map[string]heldFile{}}

func tryLockFile(path, holder string) (func() error, string, bool, error) {
	fileLocks.Lock()
	defer fileLocks.Unlock()
	if h, ok := fileLocks.held[path]; ok {
		if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, h.content) {
			return nil, h.info.String(), false, nil
		}
		// Our lock file was removed (by hand) or taken over: this
		// process no longer holds it, whatever it remembers.
		delete(fileLocks.held, path)
	}
	host, _ := os.Hostname()
	id := make([]byte, 8)
	rand.Read(id)
	me := lockInfo{Holder: holder, PID: os.Getpid(), Host: host, ID: hex.EncodeToString(id)}
	content, err := json.Marshal(me)
	if err != nil {
		return nil, "", false, err
	}
	for range 2 {
		err := createExclusive(path, content)
		if err == nil {
			fileLocks.held[path] = heldFile{info: me, content: content}
			return fileRelease(path, content), "", true, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, "", false, fmt.Errorf("lock: %w", err)
		}
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // released meanwhile
		}
		if err != nil {
			return nil, "", false, fmt.Errorf("lock: %w", err)
		}
		var other lockInfo
		if err := json.Unmarshal(b, &other); err != nil {
			return nil, "", false, fmt.Errorf("lock: %s is not a crmkpi lock file; remove it if no sync runs", path)
		}
		// Our pid but not in fileLocks: left by an earlier process that
		// had the same pid.
		stale := other.Host == host && (other.PID == me.PID || !processAlive(other.PID))
		if !stale {
			return nil, other.String(), false, nil
		}
		// Remove it only if it is still the stale file we read; another
		// process may have taken it over meanwhile.
		if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, b) {
			os.Remove(path)
		}
	}
	return nil, "another process", false, nil
}

// createExclusive creates path with content, failing with fs.ErrExist if
// it exists. The content is written to a temporary file that is then
// hard-linked into place, so that nobody ever reads a half-written lock.
func createExclusive(path string, content []byte) error {
	suffix := make([]byte, 8)
	rand.Read(suffix)
	tmp := path + ".tmp" + hex.EncodeToString(suffix)
	if err := os.WriteFile(tmp, content, 0o644); err != nil {
		return err
	}
	defer os.Remove(tmp)
	return os.Link(tmp, path)
}

func fileRelease(path string, content []byte) func() error {
	var once sync.Once
	var rerr error
	return func() error {
		once.Do(func() {
			fileLocks.Lock()
			defer fileLocks.Unlock()
			if h, ok := fileLocks.held[path]; ok && bytes.Equal(h.content, content) {
				delete(fileLocks.held, path) // not a newer lock of this process
			}
			cur, err := os.ReadFile(path)
			if err != nil || !bytes.Equal(cur, content) {
				rerr = fmt.Errorf("unlock: lock file %s was removed or taken over", path)
				return
			}
			if err := os.Remove(path); err != nil {
				rerr = fmt.Errorf("unlock: %w", err)
			}
		})
		return rerr
	}
}
