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
// yardstick of how fast PostgreSQL can take rows at all.
func CopyDeals(ctx context.Context, s *Store, connector string, deals []connectors.Deal) error {
	now := s.now()
	src := sources(s.d, &connectors.Page{Deals: deals}, now)[0]
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "CREATE TEMPORARY TABLE bench_deals (LIKE crm_deals) ON COMMIT DROP"); err != nil {
			return err
		}
		st, err := tx.PrepareContext(ctx, "COPY bench_deals ("+strings.Join(src.t.allColumns(), ", ")+") FROM STDIN")
		if err != nil {
			return err
		}
		defer st.Close()
		args := make([]any, 0, 32)
		for i := range src.n {
			m := src.meta(i)
			args = append(args[:0], connector, m.ID)
			args = src.cols(i, args)
			args = append(args, s.d.rawArg(m.Raw), s.d.timeArg(m.UpdatedAt), m.Deleted, s.d.timeArg(now))
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
