package warehouse

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
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

// upsertCopy is upsert on PostgreSQL by COPY into a temporary staging
// table, then one INSERT ... SELECT ... ON CONFLICT into the record table.
func (s *Store) upsertCopy(ctx context.Context, tx *sql.Tx, connector string, now time.Time, src rowSource) error {
	// The staging table lives as long as the session, emptied at every
	// commit: creating one per page cost catalog writes on every page.
	// LIKE copies the columns as they are at creation, so the name carries
	// the schema version, and a session that outlives a migration makes a
	// new one.
	staging := fmt.Sprintf("staging_%s_v%d", src.t.name, postgresVersion)
	if _, err := tx.ExecContext(ctx, "CREATE TEMPORARY TABLE IF NOT EXISTS "+staging+" (LIKE "+src.t.name+") ON COMMIT DELETE ROWS"); err != nil {
		return fmt.Errorf("create %s: %w", staging, err)
	}
	st, err := tx.PrepareContext(ctx, "COPY "+staging+" ("+strings.Join(src.t.allColumns(), ", ")+") FROM STDIN")
	if err != nil {
		return fmt.Errorf("copy into %s: %w", staging, err)
	}
	defer st.Close()
	synced := s.d.timeArg(now)
	args := make([]any, 0, len(src.t.allColumns()))
	for i := range src.n {
		args = s.rowArgs(args[:0], connector, src, i, synced)
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("copy into %s: %w", staging, err)
		}
	}
	if _, err := st.ExecContext(ctx); err != nil {
		return fmt.Errorf("copy into %s: %w", staging, err)
	}
	if _, err := tx.ExecContext(ctx, s.d.upsertFrom(src.t, staging)); err != nil {
		return err
	}
	return nil
}

// postgresVersion is the newest embedded PostgreSQL migration.
var postgresVersion = func() int {
	ms, err := loadMigrations(migrationFiles, "migrations/postgres")
	if err != nil {
		return 0 // Migrate reports the error
	}
	return len(ms)
}()
