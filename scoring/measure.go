package scoring

import "github.com/crmkpi/crmkpi/scoring/kpi"

// measure is how scoring computes and explains one KPI of kpi.Table; what
// the KPI is (label, unit, direction, details, pacing) is its kpi.Def.
type measure struct {
	// value is the KPI's value for one manager's figures of a period,
	// with the details its kpi.Def lists.
	value func(s *stats) kpiValue
	// explain adds the records behind the value to x and returns the
	// arithmetic that gives it.
	explain func(x *explainer) string
	// pace projects a paced KPI's value v to the period's end, factor
	// being W / E (pace.go); nil projects linearly, v × factor.
	pace func(v float64, s *stats, factor float64) float64
}

// measures has a measure for every key of kpi.Table and no other.
var measures = map[string]measure{
	kpi.Satisfaction:     {value: satisfactionValue, explain: (*explainer).satisfaction},
	kpi.Retention:        {value: retentionValue, explain: (*explainer).retention},
	kpi.KeyClientGrowth:  {value: keyClientGrowthValue, explain: (*explainer).keyClientGrowth, pace: keyClientGrowthPace},
	kpi.Penetration:      {value: penetrationValue, explain: (*explainer).penetration},
	kpi.ClosedWon:        {value: closedWonValue, explain: (*explainer).closedWon},
	kpi.ResponseTime:     {value: responseTimeValue, explain: (*explainer).responseTime},
	kpi.TeamContribution: {value: teamContributionValue, explain: (*explainer).teamContribution},
	kpi.NewDeals:         {value: newDealsValue, explain: (*explainer).newDeals},
	kpi.CostPerClient:    {value: costPerClientValue, explain: (*explainer).costPerClient},
}
