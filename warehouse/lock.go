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
	"sync"
)

// TryLock takes the sync lock of connector for holder (a description such
// as "crmkpi serve on host-1") without waiting. When another holder has it,
// ok is false and heldBy says who. release gives the lock back; it is safe
// to call more than once and does not depend on ctx.
//
// On PostgreSQL the lock is a session advisory lock, keyed by a hash of the
// Store's schema and the connector name, held on a connection of its own
// until release; if the process dies, the server drops the lock with the
// session. The holder's name is kept in sync_locks for others to read.
//
// On SQLite it is a lock file next to the database, created atomically
// with the holder, pid and host in it. A file whose process no longer
// exists on this host is stale and taken over. Locks within this process
// are also tracked in memory, which both makes TryLock answer without the
// file system and tells a live lock of ours from a stale file that a
// previous process with our pid left (a container's pid 1, say).
func (s *Store) TryLock(ctx context.Context, connector, holder string) (release func() error, heldBy string, ok bool, err error) {
	if s.d.name == DialectPostgres {
		return s.tryLockPostgres(ctx, connector, holder)
	}
	return tryLockFile(s.path+".lock."+safeName(connector), holder)
}

func lockKey(schema, connector string) int64 {
	h := fnv.New64a()
	h.Write([]byte("crmkpi sync lock\x00" + schema + "\x00" + connector))
	return int64(h.Sum64())
}

func (s *Store) tryLockPostgres(ctx context.Context, connector, holder string) (func() error, string, bool, error) {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, "", false, fmt.Errorf("lock %s: %w", connector, err)
	}
	key := lockKey(s.schema, connector)
	var ok bool
	if err := c.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		c.Close()
		return nil, "", false, fmt.Errorf("lock %s: %w", connector, err)
	}
	if !ok {
		defer c.Close()
		var h sql.NullString
		err := c.QueryRowContext(ctx, "SELECT holder FROM sync_locks WHERE connector = $1", connector).Scan(&h)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, "", false, fmt.Errorf("read %s lock holder: %w", connector, err)
		}
		if !h.Valid {
			// The holder took the lock but has not written its name yet.
			return nil, "another process", false, nil
		}
		return nil, h.String, false, nil
	}
	// This connection is ours until release; the row is only a name tag,
	// the advisory lock is the lock.
	_, err = c.ExecContext(ctx, "INSERT INTO sync_locks (connector, holder, backend_pid, acquired_at) VALUES ($1, $2, pg_backend_pid(), now())\n"+
		"ON CONFLICT (connector) DO UPDATE SET holder = excluded.holder, backend_pid = excluded.backend_pid, acquired_at = excluded.acquired_at",
		connector, holder)
	if err != nil {
		discard(c)
		return nil, "", false, fmt.Errorf("record %s lock holder: %w", connector, err)
	}
	var once sync.Once
	var rerr error
	release := func() error {
		once.Do(func() {
			ctx := context.Background()
			_, err1 := c.ExecContext(ctx, "DELETE FROM sync_locks WHERE connector = $1 AND backend_pid = pg_backend_pid()", connector)
			var unlocked bool
			err2 := c.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", key).Scan(&unlocked)
			if err2 == nil && !unlocked {
				err2 = errors.New("lock was not held")
			}
			if err1 != nil || err2 != nil {
				// Closing the session is the sure way to drop the lock.
				discard(c)
				rerr = fmt.Errorf("unlock %s: %w", connector, errors.Join(err1, err2))
				return
			}
			rerr = c.Close()
		})
		return rerr
	}
	return release, "", true, nil
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
}

func (l lockInfo) String() string {
	return fmt.Sprintf("%s (pid %d on %s)", l.Holder, l.PID, l.Host)
}

// fileLocks are the lock files this process holds, by path: several Stores
// of one process on one database share them.
var fileLocks = struct {
	sync.Mutex
	held map[string]lockInfo
}{held: map[string]lockInfo{}}

func tryLockFile(path, holder string) (func() error, string, bool, error) {
	fileLocks.Lock()
	defer fileLocks.Unlock()
	if l, ok := fileLocks.held[path]; ok {
		return nil, l.String(), false, nil
	}
	host, _ := os.Hostname()
	me := lockInfo{Holder: holder, PID: os.Getpid(), Host: host}
	content, err := json.Marshal(me)
	if err != nil {
		return nil, "", false, err
	}
	for range 2 {
		err := createExclusive(path, content)
		if err == nil {
			fileLocks.held[path] = me
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
			delete(fileLocks.held, path)
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
