package scoring

import (
	"time"

	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/warehouse/rows"
)

// KPIScore is the KPI name under which Rows stores a manager's overall
// score.
const KPIScore = "score"

// reasonNoScore is the reason stored with a score that no KPI has data for.
const reasonNoScore = "no KPI has data"

// Rows flattens r into scorecards table rows: per manager every KPI in
// kpi.Keys order, then the overall score as KPI "score" with a nil target.
// Values keep full precision.
func Rows(r *Report, computedAt time.Time) []rows.Scorecard {
	out := make([]rows.Scorecard, 0, len(r.Managers)*(len(kpi.Keys)+1))
	for _, sc := range r.Managers {
		for _, key := range kpi.Keys {
			k := sc.KPIs[key]
			if k == nil {
				continue
			}
			row := rows.Scorecard{
				PeriodKind: string(r.Period.Kind), PeriodStart: r.Period.Start, Manager: sc.Manager, KPI: key,
				Value: k.Value, Target: ptr(k.Target), Attainment: k.Attainment, ComputedAt: computedAt,
			}
			if k.Reason != nil {
				row.Reason = *k.Reason
			}
			out = append(out, row)
		}
		row := rows.Scorecard{
			PeriodKind: string(r.Period.Kind), PeriodStart: r.Period.Start, Manager: sc.Manager, KPI: KPIScore,
			Value: sc.Score, ComputedAt: computedAt,
		}
		if sc.Score == nil {
			row.Reason = reasonNoScore
		}
		out = append(out, row)
	}
	return out
}
