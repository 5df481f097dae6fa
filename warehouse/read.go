package warehouse

import (
	"context"
	"database/sql"
	"fmt"
)

// query runs q and calls scan for every row, closing the rows before it
// returns (the SQLite Store has one connection, so nothing else can run
// while rows are open).
func (s *Store) query(ctx context.Context, what, q string, args []any, scan func(*sql.Rows) error) error {
	rs, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	defer rs.Close()
	for rs.Next() {
		if err := scan(rs); err != nil {
			return fmt.Errorf("read %s: %w", what, err)
		}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("read %s: %w", what, err)
	}
	return nil
}

func floatPtr(f sql.NullFloat64) *float64 {
	if !f.Valid {
		return nil
	}
	v := f.Float64
	return &v
}
