package scoring

// Score statuses, decided on the unrounded score.
const (
	StatusGreen = "green" // score >= 100
	StatusAmber = "amber" // 80 <= score < 100
	StatusRed   = "red"   // score < 80
	StatusNone  = ""      // no KPI has data
)

// KPI is one KPI of one manager in one period. Value, Attainment and
// Previous are nil when there is no data; Reason then says why. Label, Unit
// and LowerIsBetter come from kpi.Table, so that a reader of the JSON needs
// nothing else to show or judge the figures. Every number keeps full
// precision.
type KPI struct {
	Label         string `json:"label"`
	Unit          string `json:"unit"`
	LowerIsBetter bool   `json:"lower_is_better"`

	Value      *float64       `json:"value"`
	Target     float64        `json:"target"`
	Attainment *float64       `json:"attainment"`
	Weight     float64        `json:"weight"`
	Previous   *float64       `json:"previous"`
	Reason     *string        `json:"reason"`
	Details    map[string]any `json:"details"`
	// Pace is, in the current period, the value the KPI is on pace for at
	// the period's end (see Paced); absent otherwise.
	Pace *float64 `json:"pace,omitempty"`
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
	// KPIs holds every key of kpi.Keys.
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
