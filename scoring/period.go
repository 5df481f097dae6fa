package scoring

import (
	"time"

	"github.com/crmkpi/crmkpi/period"
)

// PeriodKind is week, month or quarter (period.Kind).
type PeriodKind = period.Kind

// Period kinds.
const (
	Week    = period.Week
	Month   = period.Month
	Quarter = period.Quarter
)

// Period is [Start, End) with boundaries at local midnight in the configured
// time zone (period.Period).
type Period = period.Period

// ParsePeriod resolves a period SPEC of `crmkpi score --period`; see
// period.Parse.
func ParsePeriod(spec string, kind PeriodKind, loc *time.Location, now time.Time) (Period, error) {
	return period.Parse(spec, kind, loc, now)
}
