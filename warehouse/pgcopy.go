package warehouse

import (
	"context"
	"database/sql"
	"fmt"
)

// copyLiveIDs fills the transaction's temporary table live_ids with ids by
// COPY, the fastest way into PostgreSQL, and analyses it so the planner
// knows its size. The table goes away at commit.
func copyLiveIDs(ctx context.Context, tx *sql.Tx, ids []string) error {
	if _, err := tx.ExecContext(ctx, "CREATE TEMPORARY TABLE live_ids (id text PRIMARY KEY) ON COMMIT DROP"); err != nil {
		return fmt.Errorf("create live_ids: %w", err)
	}
	st, err := tx.PrepareContext(ctx, "COPY live_ids (id) FROM STDIN")
	if err != nil {
		return fmt.Errorf("copy live ids: %w", err)
	}
	defer st.Close()
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		// A duplicate would violate the primary key and fail the COPY.
		if _, ok := seen[id]; ok {
			continue
		}
		seen[id] = struct{}{}
		if _, err := st.ExecContext(ctx, id); err != nil {
			return fmt.Errorf("copy live ids: %w", err)
		}
	}
	if _, err := st.ExecContext(ctx); err != nil {
		return fmt.Errorf("copy live ids: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "ANALYZE live_ids"); err != nil {
		return fmt.Errorf("analyze live_ids: %w", err)
	}
	return nil
}
