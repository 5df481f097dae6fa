package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/crmkpi/crmkpi/warehouse/rows"
)

// scorecardCols is the column order of scorecard writes and reads.
const scorecardCols = "period_kind, period_start, manager, kpi, value, target, attainment, reason, computed_at"

// SaveScorecards replaces the scorecards of the period (kind, start) with
// rs, in one transaction, so a reader sees the old set or the new one.
// Each row's PeriodKind and PeriodStart are taken from kind and start.
func (s *Store) SaveScorecards(ctx context.Context, kind string, start time.Time, rs []rows.Scorecard) error {
	const ncols = 9
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.q("DELETE FROM scorecards WHERE period_kind = $1 AND period_start = $2"),
			kind, s.d.timeArg(start)); err != nil {
			return err
		}
		for chunk := range slices.Chunk(rs, s.d.maxParams/ncols) {
			args := make([]any, 0, len(chunk)*ncols)
			for _, r := range chunk {
				args = append(args, kind, s.d.timeArg(start), r.Manager, r.KPI, nullFloat(r.Value), nullFloat(r.Target),
					nullFloat(r.Attainment), nullStr(r.Reason), s.d.timeArg(r.ComputedAt))
			}
			if _, err := tx.ExecContext(ctx, s.d.insert("scorecards", scorecardCols, ncols, len(chunk)), args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save %s %s scorecards: %w", kind, start.Format(time.DateOnly), err)
	}
	return nil
}

// Scorecards returns the stored scorecards of the period (kind, start),
// sorted by manager and KPI.
func (s *Store) Scorecards(ctx context.Context, kind string, start time.Time) ([]rows.Scorecard, error) {
	var out []rows.Scorecard
	q := s.d.q("SELECT " + scorecardCols + " FROM scorecards WHERE period_kind = $1 AND period_start = $2 ORDER BY manager, kpi")
	err := s.query(ctx, "scorecards", q, []any{kind, s.d.timeArg(start)}, func(rs *sql.Rows) error {
		var (
			r                         rows.Scorecard
			periodStart, computed     nullTime
			value, target, attainment sql.NullFloat64
			reason                    sql.NullString
		)
		if err := rs.Scan(&r.PeriodKind, &periodStart, &r.Manager, &r.KPI, &value, &target, &attainment, &reason, &computed); err != nil {
			return err
		}
		r.PeriodStart, r.ComputedAt = periodStart.T, computed.T
		r.Value, r.Target, r.Attainment, r.Reason = floatPtr(value), floatPtr(target), floatPtr(attainment), reason.String
		out = append(out, r)
		return nil
	})
	return out, err
}
