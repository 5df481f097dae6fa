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
		if _, err := tx.ExecContext(ctx, s.db.Rebind("DELETE FROM scorecards WHERE period_kind = ? AND period_start = ?"),
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
	var rs []struct {
		PeriodKind  string         `db:"period_kind"`
		PeriodStart nullTime       `db:"period_start"`
		Manager     string         `db:"manager"`
		KPI         string         `db:"kpi"`
		Value       *float64       `db:"value"`
		Target      *float64       `db:"target"`
		Attainment  *float64       `db:"attainment"`
		Reason      sql.NullString `db:"reason"`
		ComputedAt  nullTime       `db:"computed_at"`
	}
	q := s.db.Rebind("SELECT " + scorecardCols + " FROM scorecards WHERE period_kind = ? AND period_start = ? ORDER BY manager, kpi")
	if err := s.db.SelectContext(ctx, &rs, q, kind, s.d.timeArg(start)); err != nil {
		return nil, fmt.Errorf("read scorecards: %w", err)
	}
	var out []rows.Scorecard
	for _, r := range rs {
		out = append(out, rows.Scorecard{PeriodKind: r.PeriodKind, PeriodStart: r.PeriodStart.T, Manager: r.Manager, KPI: r.KPI,
			Value: r.Value, Target: r.Target, Attainment: r.Attainment, Reason: r.Reason.String, ComputedAt: r.ComputedAt.T})
	}
	return out, nil
}
