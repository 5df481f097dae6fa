package scoring

import "time"

// Explanation is the records behind one KPI value of one manager in one
// period, each with why it counts or was left out, and the arithmetic
// that gives the value (crmkpi explain, the web page's explanation). Value
// and Reason equal the scored KPI's exactly.
type Explanation struct {
	Manager string `json:"manager"`
	Name    string `json:"name"`
	KPI     string `json:"kpi"`
	Label   string `json:"label"`
	Unit    string `json:"unit"`
	Period  Period `json:"period"`
	// Currency is the reporting currency of money figures.
	Currency string   `json:"currency"`
	Value    *float64 `json:"value"`
	// Reason says why there is no value (n/a), nil when there is one.
	Reason *string `json:"reason"`
	// Formula is the arithmetic that gives Value, for people: "7 won
	// deals", "sum 1,234,000 RUB / 12 clients = 102,833".
	Formula string            `json:"formula"`
	Records []ExplainedRecord `json:"records"`
}

// ExplainedRecord is one record an Explanation weighed.
type ExplainedRecord struct {
	// Kind is "deal", "activity", "contact" or "client".
	Kind      string `json:"kind"`
	Connector string `json:"connector"`
	ID        string `json:"id"`
	// Name is the deal's name, the activity's type and subject, the
	// contact's name, or the client's.
	Name string `json:"name"`
	// Client is the name of the record's client ("" when it has none).
	Client string `json:"client"`
	// Time is what placed the record in or out of the period: a deal's
	// close time, an activity's time, an NPS answer's date.
	Time  *time.Time `json:"time"`
	Stage string     `json:"stage,omitempty"`
	// Amount is in Currency, the record's own; Reporting is it in the
	// report's currency (nil without a rate).
	Amount    *float64 `json:"amount,omitempty"`
	Currency  string   `json:"currency,omitempty"`
	Reporting *float64 `json:"amount_reporting,omitempty"`
	// Figure is what the record adds to the KPI where that is not an
	// amount: hours to the answer, an NPS score, an activity's cost.
	Figure *float64 `json:"figure,omitempty"`
	// Counts is true when the record is part of the value; Why says why it
	// counts or was left out (deleted, other owner, currency without a
	// rate, outside the period, ...).
	Counts bool   `json:"counts"`
	Why    string `json:"why"`
	// Link opens the record in its CRM ("" when the connector's portal is
	// not known yet).
	Link string `json:"link,omitempty"`
}
