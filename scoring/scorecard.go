package scoring

import (
	"cmp"
	"encoding/json"
	"math"
	"strings"
)

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
	// the period's end (see Paced); null there for a KPI with no
	// projection, and absent in a period that is over.
	Pace *float64 `json:"pace,omitempty"`
	// Running is true in the current period: the JSON then has "pace" on
	// every KPI, null where there is none.
	Running bool `json:"-"`
	// Manual is true when the value is a figure entered by hand in the
	// config's scoring.manual, which replaces the computed one.
	Manual bool `json:"manual,omitempty"`
}

// MarshalJSON writes "pace": null, in the current period, for a KPI that
// has no projection (a ratio, the first working day, a figure entered by
// hand), so that every KPI of a running period has the key DESIGN.md names.
func (k KPI) MarshalJSON() ([]byte, error) {
	type plain KPI
	if !k.Running || k.Pace != nil {
		return json.Marshal(plain(k))
	}
	return json.Marshal(struct {
		plain
		Pace *float64 `json:"pace"`
	}{plain: plain(k)})
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

// MarshalJSON writes a scorecard without a status (no KPI has data, so no
// score) with "status": null, as its "score" is null, not as "": a script
// comparing statuses then meets the same null the score gives.
func (sc Scorecard) MarshalJSON() ([]byte, error) {
	var status *string
	if sc.Status != StatusNone {
		status = &sc.Status
	}
	return json.Marshal(struct {
		Manager string          `json:"manager"`
		Name    string          `json:"name"`
		Team    string          `json:"team"`
		Score   *float64        `json:"score"`
		Status  *string         `json:"status"`
		KPIs    map[string]*KPI `json:"kpis"`
	}{sc.Manager, sc.Name, sc.Team, sc.Score, status, sc.KPIs})
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

// StatusOf is the status of a score or an attainment, in percent, by the
// thresholds of KPIS.md: green from 100, amber from 80, red below. It is
// decided on the number itself, unrounded: 99.96 is amber (the table,
// Slack and the web pages cut, not round, scores for people, so they never
// show 100.0 beside amber). No number, or one that cannot be written (NaN,
// ±Inf), has no status.
func StatusOf(pct *float64) string {
	switch {
	case pct == nil || math.IsNaN(*pct) || math.IsInf(*pct, 0):
		return StatusNone
	case *pct >= 100:
		return StatusGreen
	case *pct >= 80:
		return StatusAmber
	}
	return StatusRed
}

// DisplayName is the manager as people read it: the name, else the key.
func (sc *Scorecard) DisplayName() string {
	if strings.TrimSpace(sc.Name) != "" {
		return sc.Name
	}
	return sc.Manager
}

// CompareBoard orders a leaderboard, Slack's and the web page's alike:
// the best score first, managers without a score last, equal scores by
// name, then by key.
func CompareBoard(a, b *Scorecard) int {
	va, vb := StatusOf(a.Score) != StatusNone, StatusOf(b.Score) != StatusNone
	switch {
	case va && vb && *a.Score != *b.Score:
		return cmp.Compare(*b.Score, *a.Score)
	case va != vb:
		if va {
			return -1
		}
		return 1
	}
	return cmp.Or(cmp.Compare(a.DisplayName(), b.DisplayName()), cmp.Compare(a.Manager, b.Manager))
}
