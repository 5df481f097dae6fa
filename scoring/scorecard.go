package scoring

// The nine KPI keys of KPIS.md, in scorecard order.
const (
	KPISatisfaction     = "satisfaction"
	KPIRetention        = "retention"
	KPIKeyClientGrowth  = "key_client_growth"
	KPIPenetration      = "penetration"
	KPIClosedWon        = "closed_won"
	KPIResponseTime     = "response_time"
	KPITeamContribution = "team_contribution"
	KPINewDeals         = "new_deals"
	KPICostPerClient    = "cost_per_client"
)

// KPIKeys lists every KPI in the order scorecards show them.
var KPIKeys = []string{
	KPISatisfaction, KPIRetention, KPIKeyClientGrowth, KPIPenetration, KPIClosedWon,
	KPIResponseTime, KPITeamContribution, KPINewDeals, KPICostPerClient,
}

// Score statuses.
const (
	StatusGreen = "green" // score >= 100
	StatusAmber = "amber" // 80 <= score < 100
	StatusRed   = "red"   // score < 80
	StatusNone  = ""      // no KPI has data
)

// KPI is one KPI of one manager in one period. Value, Attainment and
// Previous are nil when there is no data; Reason then says why.
type KPI struct {
	Value      *float64       `json:"value"`
	Target     float64        `json:"target"`
	Attainment *float64       `json:"attainment"`
	Weight     float64        `json:"weight"`
	Previous   *float64       `json:"previous"`
	Reason     *string        `json:"reason"`
	Details    map[string]any `json:"details"`
	// Manual is true when the value is a figure entered by hand in the
	// config's scoring.manual, which replaces the computed one.
	Manual bool `json:"manual,omitempty"`
}

// Scorecard is one manager's scorecard for one period.
type Scorecard struct {
	Manager string   `json:"manager"` // lower-case e-mail, or CONNECTOR:USER_ID
	Name    string   `json:"name"`
	Team    string   `json:"team"`
	Email   string   `json:"-"`
	SlackID string   `json:"-"`
	Score   *float64 `json:"score"`
	Status  string   `json:"status"`
	// KPIs holds all nine keys of KPIKeys.
	KPIs map[string]*KPI `json:"kpis"`
}

// Report is the result of scoring one period: the JSON of
// `crmkpi score --format json`.
type Report struct {
	Period   Period      `json:"period"`
	Currency string      `json:"currency"`
	Managers []Scorecard `json:"managers"`
	// Warnings are said once per run (a currency with no rate, ...).
	Warnings []string `json:"-"`
}
