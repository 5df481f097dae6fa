package warehouse

import "time"

// SetNow replaces s's clock, so tests can expect exact synced_at and
// nps_seen_at values.
func SetNow(s *Store, now func() time.Time) { s.now = now }
