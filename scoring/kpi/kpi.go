// Package kpi is the one table of the KPIs of KPIS.md: each KPI's key,
// label, unit, direction, default target and weight, pacing, the details
// its scorecard carries and how people read them. The scoring package
// computes them, the config validates KPI keys against it, and the JSON, the
// terminal table, Slack and the web pages take their labels, units,
// directions and notes from it; docs/kpis.md mirrors it, and a test holds
// the two together.
//
// It is a package of its own, importing nothing, so that config can read
// the keys without depending on scoring and the warehouse behind it; its
// notes write numbers through a Writer that the caller brings. Adding a KPI
// is one entry in Table plus its measure in scoring (scoring/measure.go).
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

// Nouns names what the units that count things count, singular and plural,
// as people read their values: "1 deal", "7 deals". A unit not here is no
// count; the terminal, Slack and the web pages write those their own way.
var Nouns = map[string][2]string{UnitDeals: {"deal", "deals"}, UnitTasks: {"task", "tasks"}}

// Detail keys name the figures behind a value in a scorecard KPI's
// details (the JSON's "details"); scoring writes them and notify reads them.
const (
	DetailAnswers          = "answers"           // NPS answers in the period
	DetailPromoters        = "promoters"         // answers of 9 or 10
	DetailDetractors       = "detractors"        // answers of 0 to 6
	DetailActiveStart      = "active_start"      // clients active at the period's start
	DetailRetained         = "retained"          // of those, still active at its end
	DetailKeyClients       = "key_clients"       // the manager's key clients
	DetailRevenue          = "revenue"           // won revenue in the period (of key clients for key_client_growth)
	DetailRevenuePrevious  = "revenue_previous"  // key clients' won revenue in the period before
	DetailExpansionRevenue = "expansion_revenue" // won revenue from existing accounts
	DetailWon              = "won"               // deals won
	DetailLost             = "lost"              // deals lost
	DetailWinRate          = "win_rate"          // won of closed, percent; null when none closed
	DetailInbound          = "inbound"           // inbound messages
	DetailUnanswered       = "unanswered"        // of those, never answered
	DetailTasks            = "tasks"             // team-initiative tasks done
	DetailManual           = "manual"            // the value was entered by hand
	DetailCost             = "cost"              // activity and fixed cost
	DetailClients          = "clients"           // clients served
)

// Details reads a scorecard KPI's details, whatever their Go types
// (numbers after a JSON round trip are float64).
type Details interface {
	// Number is the numeric detail key; ok is false when it is absent,
	// null or not a finite number.
	Number(key string) (v float64, ok bool)
	// Flag is the boolean detail key, false when absent.
	Flag(key string) bool
}

// Writer writes numbers for people, the way the caller (Slack, the
// terminal) writes all of its numbers.
type Writer interface {
	// Count is a counted quantity with its noun: "1 deal", "7 deals".
	Count(n float64, one, many string) string
	// Number is v with the given decimals: "1,234".
	Number(v float64, decimals int) string
	// Money is v in the report's currency: "1,234 RUB".
	Money(v float64) string
	// Percent is v, a percentage: "87.5%".
	Percent(v float64) string
}

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
	// Details are the keys of the scorecard's details of this KPI, every
	// one scoring writes and no other (the Detail constants).
	Details []string
	// Note is a short line from the details (win rate, sample size) shown
	// beside the value; "" for none. Nil for a KPI without one.
	Note func(d Details, w Writer) string
	// Sample is the sample size for a scorecard's context line, e.g. "12
	// NPS answers"; "" for none. Nil for a KPI without one.
	Sample func(d Details, w Writer) string
	// FigureLabel heads the column of an explained record's figure, whose
	// meaning depends on the KPI; "" where the KPI's records have no
	// figure of their own.
	FigureLabel string
}

// Table lists every KPI in the order scorecards show them.
var Table = []Def{
	// An NPS of 50 is a good B2B account book; most sit at 30-40.
	{Key: Satisfaction, Short: "NPS", Label: "Customer satisfaction", Unit: UnitNPS, Target: 50, Weight: 10,
		Details: []string{DetailAnswers, DetailPromoters, DetailDetractors},
		Note:    satisfactionNote, Sample: sampleOf(DetailAnswers, "NPS answer", "NPS answers"), FigureLabel: "Answer (0-10)"},
	// Keeping nine of ten paying clients over a year.
	{Key: Retention, Short: "Retention", Label: "Customer retention rate", Unit: UnitPercent, Target: 90, Weight: 15,
		Details: []string{DetailActiveStart, DetailRetained},
		Note:    retentionNote, Sample: sampleOf(DetailActiveStart, "active client", "active clients")},
	// 10% more from the key accounts than in the period before.
	{Key: KeyClientGrowth, Short: "Key-client growth", Label: "Revenue growth from key clients", Unit: UnitPercent, Target: 10, Weight: 10, Paced: true,
		Details: []string{DetailKeyClients, DetailRevenue, DetailRevenuePrevious},
		Note:    keyClientGrowthNote, Sample: sampleOf(DetailKeyClients, "key client", "key clients")},
	// A third of revenue from existing accounts.
	{Key: Penetration, Short: "Penetration", Label: "Account penetration", Unit: UnitPercent, Target: 30, Weight: 10,
		Details: []string{DetailRevenue, DetailExpansionRevenue},
		Note:    penetrationNote},
	// DESIGN.md's example: 8 won deals a month, weight 15.
	{Key: ClosedWon, Short: "Won deals", Label: "Successfully closed deals", Unit: UnitDeals, Target: 8, Weight: 15, Paced: true,
		Details: []string{DetailWon, DetailLost, DetailWinRate, DetailRevenue},
		Note:    closedWonNote, Sample: closedWonSample},
	// DESIGN.md's example: answer within 4 hours, weight 10.
	{Key: ResponseTime, Short: "Response time", Label: "Communication effectiveness", Unit: UnitHours, LowerIsBetter: true, Target: 4, Weight: 10,
		Details: []string{DetailInbound, DetailUnanswered},
		Note:    responseTimeNote, Sample: sampleOf(DetailInbound, "inbound message", "inbound messages"), FigureLabel: "Hours to answer"},
	// Two team-initiative tasks a month; a small weight, it is a soft goal.
	{Key: TeamContribution, Short: "Team tasks", Label: "Contribution to team initiatives", Unit: UnitTasks, Target: 2, Weight: 5, Paced: true,
		Details: []string{DetailTasks, DetailManual},
		Note:    teamContributionNote},
	// 3 of the 8 won deals from new clients.
	{Key: NewDeals, Short: "New business", Label: "Deals concluded (new business)", Unit: UnitDeals, Target: 3, Weight: 15, Paced: true},
	// With the default activity costs a month of 20 calls, 40 e-mails and
	// 2 meetings for 3 clients is about 5,000 RUB.
	{Key: CostPerClient, Short: "Cost per client", Label: "Cost per client", Unit: UnitCurrency, LowerIsBetter: true, Target: 5000, Weight: 10,
		Details: []string{DetailCost, DetailClients},
		Note:    costPerClientNote, Sample: sampleOf(DetailClients, "client served", "clients served"), FigureLabel: "Cost"},
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
