package connectors

import "time"

// NextWindow is where the next incremental window of a list starts after a
// run whose window began at from and was read up to end, our clock's now
// at its start; latest is the latest modified time of the records the run
// read, on the CRM's clock (zero when it read none).
//
// The next window starts overlap before end, so that the boundary, which
// may gain records after it was read (a search index's lag, a second
// stamped after we asked), is read again; or at latest when that is
// earlier. The CRM's clock stamps the records and need not agree with
// ours: one behind it (or a test server's fixed clock) stamps the next
// changes before our now, where a window from our now would never see
// them. A run that read nothing keeps from, for the same reason: nothing
// says where the CRM's clock is. Callers pass latest at their filter's
// precision: inclusive filters read the records at latest again, which
// costs nothing but those records where each list is asked once anyway.
func NextWindow(from, end time.Time, overlap time.Duration, latest time.Time) time.Time {
	if latest.IsZero() {
		return from
	}
	next := end.Add(-overlap)
	if latest.Before(next) {
		return latest
	}
	return next
}
