// Package kpi is the one table of the nine KPIs of KPIS.md: each KPI's key,
// label, unit, direction and default target and weight. The scoring package
// computes them, the config validates KPI keys against it, and the JSON, the
// terminal table and Slack take their labels, units and directions from it;
// docs/kpis.md mirrors it, and a test holds the two together.
//
// It is a package of its own, importing nothing, so that config can read
// the keys without depending on scoring and the warehouse behind it. Adding
// a KPI is one entry in Table plus its computation in scoring.
package kpi

// The KPI keys of KPIS.md.
const (
	Satisfaction     = "satisfaction"
	Retention        = "retention"
	KeyClientGrowth  = "key_client_growth"
	Penetration      = "penetration"
	ClosedWon        = "closed_won"
	ResponseTime     = "response_time"
	TeamContribution = "team_contribution"
	NewDeals         = "new_deals"
	CostPerClient    = "cost_per_client"
)

// Units of KPI values, as the JSON writes them.
const (
	UnitNPS      = "nps_points" // NPS points, -100..100
	UnitPercent  = "percent"
	UnitDeals    = "deals"
	UnitHours    = "hours"
	UnitTasks    = "tasks"
	UnitCurrency = "currency" // the report's reporting currency
)

// Def defines one KPI.
type Def struct {
	// Key names the KPI in the config, the JSON and the scorecards table.
	Key string
	// Label is the KPI's seed name in KPIS.md, as people read it.
	Label string
	// Short heads narrow columns (the web leaderboard); Label is its tooltip.
	Short string
	// Unit is one of the Unit constants.
	Unit string
	// LowerIsBetter marks the KPIs whose attainment is target / value.
	LowerIsBetter bool
	// Target and Weight apply when the config sets none. Targets are per
	// period of the configured kind, sized for a month; the weights add up
	// to 100. Why these numbers is in docs/kpis.md.
	Target, Weight float64
	// Paced marks the KPIs that accumulate over the period, so that a
	// mid-period value has a pace (scoring/pace.go, notify --behind-pace).
	Paced bool
}

// Table lists every KPI in the order scorecards show them.
var Table = []Def{
	// An NPS of 50 is a good B2B account book; most sit at 30-40.
	{Key: Satisfaction, Short: "NPS", Label: "Customer satisfaction", Unit: UnitNPS, Target: 50, Weight: 10},
	// Keeping nine of ten paying clients over a year.
	{Key: Retention, Short: "Retention", Label: "Customer retention rate", Unit: UnitPercent, Target: 90, Weight: 15},
	// 10% more from the key accounts than in the period before.
	{Key: KeyClientGrowth, Short: "Key-client growth", Label: "Revenue growth from key clients", Unit: UnitPercent, Target: 10, Weight: 10, Paced: true},
	// A third of revenue from existing accounts.
	{Key: Penetration, Short: "Penetration", Label: "Account penetration", Unit: UnitPercent, Target: 30, Weight: 10},
	// DESIGN.md's example: 8 won deals a month, weight 15.
	{Key: ClosedWon, Short: "Won deals", Label: "Successfully closed deals", Unit: UnitDeals, Target: 8, Weight: 15, Paced: true},
	// DESIGN.md's example: answer within 4 hours, weight 10.
	{Key: ResponseTime, Short: "Response time", Label: "Communication effectiveness", Unit: UnitHours, LowerIsBetter: true, Target: 4, Weight: 10},
	// Two team-initiative tasks a month; a small weight, it is a soft goal.
	{Key: TeamContribution, Short: "Team tasks", Label: "Contribution to team initiatives", Unit: UnitTasks, Target: 2, Weight: 5, Paced: true},
	// 3 of the 8 won deals from new clients.
	{Key: NewDeals, Short: "New business", Label: "Deals concluded (new business)", Unit: UnitDeals, Target: 3, Weight: 15, Paced: true},
	// With the default activity costs a month of 20 calls, 40 e-mails and
	// 2 meetings for 3 clients is about 5,000 RUB.
	{Key: CostPerClient, Short: "Cost per client", Label: "Cost per client", Unit: UnitCurrency, LowerIsBetter: true, Target: 5000, Weight: 10},
}

// Keys lists the keys of Table, in its order.
var Keys = keys()

func keys() []string {
	out := make([]string, len(Table))
	for i, d := range Table {
		out[i] = d.Key
	}
	return out
}

// Lookup returns the definition of the KPI with key; ok is false for a key
// not in Table.
func Lookup(key string) (d Def, ok bool) {
	for _, d := range Table {
		if d.Key == key {
			return d, true
		}
	}
	return Def{}, false
}
