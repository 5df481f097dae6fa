package notify

import (
	"math"
	"time"

	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
)

func f(v float64) *float64 { return &v }
func s(v string) *string   { return &v }

var msk = time.FixedZone("MSK", 3*3600)

// sampleReport is a small October 2026 report: a green manager with every
// KPI, an amber one with a few n/a KPIs and CRM text that needs escaping,
// and a manager with no data at all.
func sampleReport() *scoring.Report {
	full := func(score float64, status string, won float64) scoring.Scorecard {
		return scoring.Scorecard{
			Score: f(score), Status: status,
			KPIs: map[string]*scoring.KPI{
				kpi.Satisfaction: {Value: f(42.5), Target: 30, Attainment: f(141.7), Weight: 10, Previous: f(40),
					Details: map[string]any{"answers": 12, "promoters": 7, "detractors": 2}},
				kpi.Retention: {Value: f(85.7), Target: 90, Attainment: f(95.2), Weight: 15, Previous: f(90),
					Details: map[string]any{"active_start": 14, "retained": 12}},
				kpi.KeyClientGrowth: {Value: f(12.3), Target: 10, Attainment: f(123), Weight: 15, Previous: f(12.3),
					Details: map[string]any{"key_clients": 5, "revenue": 1234567.0, "revenue_previous": 1099347.0}},
				kpi.Penetration: {Value: f(30), Target: 25, Attainment: f(120), Weight: 10,
					Details: map[string]any{"revenue": 1500000.0, "expansion_revenue": 450000.0}},
				kpi.ClosedWon: {Value: f(won), Target: 8, Attainment: f(won / 8 * 100), Weight: 15, Previous: f(5),
					Details: map[string]any{"won": won, "lost": 10, "win_rate": 100 * won / (won + 10), "revenue": 1500000.0}},
				kpi.ResponseTime: {Value: f(3.5), Target: 4, Attainment: f(114.3), Weight: 10, Previous: f(5.25),
					Details: map[string]any{"inbound": 23, "unanswered": 2}},
				kpi.TeamContribution: {Value: f(5), Target: 4, Attainment: f(125), Weight: 5, Previous: f(5),
					Details: map[string]any{"tasks": 5, "manual": true}},
				kpi.NewDeals: {Value: f(3), Target: 2, Attainment: f(150), Weight: 10, Previous: f(1),
					Details: map[string]any{}},
				kpi.CostPerClient: {Value: f(13333.33), Target: 15000, Attainment: f(112.5), Weight: 10, Previous: f(14100),
					Details: map[string]any{"cost": 120000.0, "clients": 9}},
			},
		}
	}
	anna := full(104.2, scoring.StatusGreen, 12)
	anna.Manager, anna.Name, anna.Team, anna.Email, anna.SlackID = "anna@example.com", "Anna Petrova", "enterprise", "anna@example.com", "U0ANNA"

	boris := full(86.4, scoring.StatusAmber, 7)
	boris.Manager, boris.Name, boris.Team, boris.Email = "boris@example.com", "Boris <AT&T> Ivanov", "smb & mid", "boris@example.com"
	boris.KPIs[kpi.Satisfaction] = &scoring.KPI{Target: 30, Weight: 10, Reason: s("no survey answers in the period"),
		Details: map[string]any{"answers": 0, "promoters": 0, "detractors": 0}}
	boris.KPIs[kpi.KeyClientGrowth] = &scoring.KPI{Target: 10, Weight: 15, Previous: f(4), Reason: s("no key-client revenue in the previous period"),
		Details: map[string]any{"key_clients": 3, "revenue": 20000.0, "revenue_previous": 0.0}}
	boris.KPIs[kpi.ResponseTime] = &scoring.KPI{Value: f(9), Target: 4, Attainment: f(44.4), Weight: 10, Previous: f(6),
		Details: map[string]any{"inbound": 8, "unanswered": 1}}

	carl := scoring.Scorecard{Manager: "hubspot-eu:901", Name: "Carl", Team: "enterprise", Email: "carl@example.com", Status: scoring.StatusNone, KPIs: map[string]*scoring.KPI{}}
	for _, k := range kpi.Keys {
		carl.KPIs[k] = &scoring.KPI{Target: 1, Weight: 1, Reason: s("no activity in the period")}
	}
	return &scoring.Report{
		Period:   scoring.Period{Kind: scoring.Month, Start: time.Date(2026, 10, 1, 0, 0, 0, 0, msk), End: time.Date(2026, 11, 1, 0, 0, 0, 0, msk)},
		Currency: "RUB",
		Managers: []scoring.Scorecard{boris, anna, carl},
	}
}

func sampleInput(r *scoring.Report) RenderInput {
	return RenderInput{
		Period:   r.Period,
		Currency: r.Currency,
		History: map[string][]float64{
			"anna@example.com":  {88, 92.5, math.NaN(), 97, 99.1, 101},
			"boris@example.com": {70.2, 75},
		},
		LastSync:    time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC),
		HasLastSync: true,
	}
}
