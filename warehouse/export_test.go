package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// SetNow replaces s's clock, so tests can expect exact synced_at and
// nps_seen_at values.
func SetNow(s *Store, now func() time.Time) { s.now = now }

// CopyDeals COPYs deals, converted as ApplyPage converts them, into an
// unindexed temporary copy of crm_deals in one transaction: the benchmark's
// yardstick of how fast PostgreSQL can take rows at all. With indexed, the
// target is instead an ordinary table like crm_deals with all its indexes,
// created empty for each call: a plain COPY into the same kind of table.
func CopyDeals(ctx context.Context, s *Store, connector string, deals []connectors.Deal, indexed bool) error {
	now := s.now()
	src := sources(s.d, &connectors.Page{Deals: deals}, now)[0]
	table, create := "bench_deals", "CREATE TEMPORARY TABLE bench_deals (LIKE crm_deals) ON COMMIT DROP"
	if indexed {
		table, create = "bench_deals_indexed", "CREATE TABLE bench_deals_indexed (LIKE crm_deals INCLUDING ALL)"
		defer s.db.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS bench_deals_indexed")
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, create); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, "COPY "+table+" ("+strings.Join(src.t.allColumns(), ", ")+") FROM STDIN")
		if err != nil {
			return err
		}
		defer st.Close()
		args := make([]any, 0, 32)
		synced := s.d.timeArg(now)
		for i := range src.n {
			args = s.rowArgs(args[:0], connector, src, i, synced)
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return err
			}
		}
		_, err = st.ExecContext(ctx)
		return err
	})
}

// SetCopyUpsert switches s's PostgreSQL upserts between COPY and
// multi-row INSERT, for the benchmark that picks one.
func SetCopyUpsert(s *Store, on bool) { s.copyUpsert = on }

// BreakLock takes l's lock away from it as a crash of its connection
// would: on PostgreSQL it terminates the backend holding the advisory lock
// and waits for it to end; on SQLite it removes the lock file, as a person
// clearing a lock by hand does. The lease itself is left as it was.
func BreakLock(ctx context.Context, l *Lease) error {
	s := l.s
	if s.d.name == DialectPostgres {
		var ok bool
		if err := s.db.QueryRowContext(ctx, "SELECT pg_terminate_backend(pid, 10000) FROM sync_leases WHERE connector = $1",
			l.Connector).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("backend of %s lease not terminated", l.Connector)
		}
		return nil
	}
	return os.Remove(s.path + ".lock." + safeName(l.Connector))
}

// Exec runs one statement on s's database, for tests that set up what an
// older version of crmkpi left behind.
func Exec(ctx context.Context, s *Store, q string) error {
	_, err := s.db.ExecContext(ctx, q)
	return err
}
