package warehouse

import (
	"context"
	"database/sql"
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
