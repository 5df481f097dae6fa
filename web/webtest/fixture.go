package webtest

import (
	"math"
	"time"

	"github.com/crmkpi/crmkpi/period"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/web"
)

// CRM strings that must reach the page as text, never as markup, and a
// spreadsheet as text, never as a formula.
const (
	ScriptName  = `<script>alert(1)</script>`
	ImgName     = `"><img src=x onerror=alert(1)>`
	FormulaName = `=HYPERLINK("https://evil.example/","click")`
	// BadLink is a record link no page may make clickable.
	BadLink = `javascript:alert(1)`
)

// Manager keys of the fixture. Carl's is a CONNECTOR:USER_ID whose id
// carries every character a path, query or attribute could trip on.
const (
	Anna  = "anna@example.com"
	Boris = "boris@example.com"
	Dana  = "dana@example.com"
	Carl  = `amo:9/0"1?x=<b>#&`
)

// MSK is the fixture's time zone.
var MSK = time.FixedZone("MSK", 3*3600)

// October is the period the fixture scores, the default one at its Now.
var October = period.Period{Kind: period.Month, Start: time.Date(2026, 10, 1, 0, 0, 0, 0, MSK), End: time.Date(2026, 11, 1, 0, 0, 0, 0, MSK)}

var nan = math.NaN()

func ptr(v float64) *float64 {
	if math.IsNaN(v) {
		return nil
	}
	return &v
}

func str(s string) *string { return &s }

// kp is one KPI of a scorecard: value, target, weight, attainment and the
// value of the period before; NaN is none.
func kp(key string, value, target, weight, att, prev float64) *scoring.KPI {
	d, _ := kpi.Lookup(key)
	return &scoring.KPI{Label: d.Label, Unit: d.Unit, LowerIsBetter: d.LowerIsBetter,
		Value: ptr(value), Target: target, Attainment: ptr(att), Weight: weight, Previous: ptr(prev)}
}

// na is a KPI without data.
func na(key string, target, weight float64, reason string, prev float64) *scoring.KPI {
	k := kp(key, nan, target, weight, nan, prev)
	k.Reason = str(reason)
	return k
}

// october returns the four scorecards of October 2026. Attainments are
// value/target (target/value where lower is better) × 100, capped at 150;
// each score is Σ weight × attainment / Σ weight over the KPIs with data,
// written out so the arithmetic can be checked by hand.
func october() []scoring.Scorecard {
	anna := scoring.Scorecard{Manager: Anna, Name: "Anna Petrova", Team: "enterprise", Email: Anna,
		Score: ptr((80*10 + 13.0/14*100/90*100*15 + 125*10 + 112*10 + 112.5*15 + 125*10 + 150*5 + 100*15 + 5000.0/5600*100*10) / 100),
		KPIs: map[string]*scoring.KPI{
			kpi.Satisfaction:     kp(kpi.Satisfaction, 40, 50, 10, 80, 35),
			kpi.Retention:        kp(kpi.Retention, 13.0/14*100, 90, 15, 13.0/14*100/90*100, 90),
			kpi.KeyClientGrowth:  kp(kpi.KeyClientGrowth, 12.5, 10, 10, 125, 8),
			kpi.Penetration:      kp(kpi.Penetration, 33.6, 30, 10, 112, 36),
			kpi.ClosedWon:        kp(kpi.ClosedWon, 9, 8, 15, 112.5, 7),
			kpi.ResponseTime:     kp(kpi.ResponseTime, 3.2, 4, 10, 125, 4.5),
			kpi.TeamContribution: kp(kpi.TeamContribution, 3, 2, 5, 150, 2),
			kpi.NewDeals:         kp(kpi.NewDeals, 3, 3, 15, 100, 4),
			kpi.CostPerClient:    kp(kpi.CostPerClient, 5600, 5000, 10, 5000.0/5600*100, 5100),
		}}
	anna.KPIs[kpi.TeamContribution].Manual = true

	// 99.959…: amber, and it must read 99.9%, never 100.0%.
	boris := scoring.Scorecard{Manager: Boris, Name: `Boris ` + ImgName + ` Ivanov`, Team: "smb & mid", Email: Boris,
		Score: ptr((96*15 + 115*10 + 100*15 + 4.0/9*100*10 + 100*5 + 4.0/3*100*15 + 5000.0/5196*100*10) / 80),
		KPIs: map[string]*scoring.KPI{
			kpi.Satisfaction:     na(kpi.Satisfaction, 50, 10, "no survey answers in the period", nan),
			kpi.Retention:        kp(kpi.Retention, 86.4, 90, 15, 96, nan),
			kpi.KeyClientGrowth:  na(kpi.KeyClientGrowth, 10, 10, "no key-client revenue in the previous period", nan),
			kpi.Penetration:      kp(kpi.Penetration, 34.5, 30, 10, 115, nan),
			kpi.ClosedWon:        kp(kpi.ClosedWon, 8, 8, 15, 100, 9),
			kpi.ResponseTime:     kp(kpi.ResponseTime, 9, 4, 10, 4.0/9*100, 6),
			kpi.TeamContribution: kp(kpi.TeamContribution, 2, 2, 5, 100, nan),
			kpi.NewDeals:         kp(kpi.NewDeals, 4, 3, 15, 4.0/3*100, nan),
			kpi.CostPerClient:    kp(kpi.CostPerClient, 5196, 5000, 10, 5000.0/5196*100, nan),
		}}

	dana := scoring.Scorecard{Manager: Dana, Name: "Dana Orlova", Team: "enterprise", Email: Dana,
		Score: ptr((20*10 + 75.0/90*100*15 + 0*10 + 40*10 + 62.5*15 + 4.0/6*100*10 + 0*5 + 2.0/3*100*15 + 5000.0/7000*100*10) / 100),
		KPIs: map[string]*scoring.KPI{
			kpi.Satisfaction:     kp(kpi.Satisfaction, 10, 50, 10, 20, nan),
			kpi.Retention:        kp(kpi.Retention, 75, 90, 15, 75.0/90*100, nan),
			kpi.KeyClientGrowth:  kp(kpi.KeyClientGrowth, -5, 10, 10, 0, nan),
			kpi.Penetration:      kp(kpi.Penetration, 12, 30, 10, 40, nan),
			kpi.ClosedWon:        kp(kpi.ClosedWon, 5, 8, 15, 62.5, 6),
			kpi.ResponseTime:     kp(kpi.ResponseTime, 6, 4, 10, 4.0/6*100, nan),
			kpi.TeamContribution: kp(kpi.TeamContribution, 0, 2, 5, 0, nan),
			kpi.NewDeals:         kp(kpi.NewDeals, 2, 3, 15, 2.0/3*100, nan),
			kpi.CostPerClient:    kp(kpi.CostPerClient, 7000, 5000, 10, 5000.0/7000*100, nan),
		}}

	carl := scoring.Scorecard{Manager: Carl, Team: "smb & mid", Status: scoring.StatusNone, KPIs: map[string]*scoring.KPI{}}
	for _, d := range kpi.Table {
		carl.KPIs[d.Key] = na(d.Key, d.Target, d.Weight, "no activity in the period", nan)
	}
	out := []scoring.Scorecard{dana, carl, boris, anna}
	for i := range out {
		if out[i].Score != nil {
			out[i].Status = status(*out[i].Score)
		}
	}
	return out
}

func status(score float64) string {
	switch {
	case score >= 100:
		return scoring.StatusGreen
	case score >= 80:
		return scoring.StatusAmber
	}
	return scoring.StatusRed
}

// history holds the eleven months before October 2026 (November 2025 to
// September 2026) of each manager: the score, then KPI values; NaN is a
// month without data. The last of each is October's Previous.
var history = map[string]map[string][11]float64{
	Anna: {
		"score":              {88.2, 91.5, nan, 95, 97.3, 99.1, 101.4, 100.2, 103.8, 102.5, 105.1},
		kpi.Satisfaction:     {30, 32, nan, 28, 33, 35, 38, 36, 37, 34, 35},
		kpi.Retention:        {88, 88.5, 89, 89, 90, 91, 90.5, 91, 90, 89.5, 90},
		kpi.KeyClientGrowth:  {3, 5, nan, 6, 4, 7, 9, 8, 10, 9, 8},
		kpi.Penetration:      {25, 26, 27, 28, 30, 31, 33, 34, 35, 36, 36},
		kpi.ClosedWon:        {6, 7, 4, 6, 7, 8, 8, 9, 7, 8, 7},
		kpi.ResponseTime:     {6.5, 6, 5.8, 5.5, 5.2, 5, 4.8, 4.9, 4.6, 4.4, 4.5},
		kpi.TeamContribution: {1, 2, 0, 1, 2, 2, 3, 2, 2, 1, 2},
		kpi.NewDeals:         {2, 3, 1, 2, 3, 3, 4, 3, 2, 3, 4},
		kpi.CostPerClient:    {6200, 6000, 6400, 5900, 5800, 5600, 5500, 5300, 5200, 5000, 5100},
	},
	Boris: {
		"score":          {80.1, 84, 86.5, 90.2, 92, 95.5, 94.1, 97, 98.2, 99, 98.7},
		kpi.ClosedWon:    {5, 6, 6, 7, 7, 8, 7, 8, 9, 8, 9},
		kpi.ResponseTime: {12, 11, 10.5, 10, 9, 8.5, 8, 7, 7.5, 6.5, 6},
	},
	Dana: {
		"score":       {75, 72, 70, 68, 66, 65, 64, 63, 61, 60, 66},
		kpi.ClosedWon: {7, 6, 8, 7, 6, 5, 6, 7, 6, 5, 6},
	},
}

// historyReports builds the reports of the eleven months before October
// from history, with October's targets and weights.
func historyReports(oct []scoring.Scorecard) []*scoring.Report {
	var out []*scoring.Report
	p := October
	for i := 10; i >= 0; i-- {
		p = p.Previous()
		r := &scoring.Report{Period: p, Currency: "RUB"}
		for _, cur := range oct {
			h, ok := history[cur.Manager]
			if !ok {
				continue
			}
			sc := scoring.Scorecard{Manager: cur.Manager, Name: cur.Name, Team: cur.Team, Score: ptr(h["score"][i]), KPIs: map[string]*scoring.KPI{}}
			if sc.Score != nil {
				sc.Status = status(*sc.Score)
			}
			for _, d := range kpi.Table {
				v := nan
				if series, ok := h[d.Key]; ok {
					v = series[i]
				}
				// A KPI the October fixture lacks keeps its defaults.
				target, weight := d.Target, d.Weight
				if k := cur.KPIs[d.Key]; k != nil {
					target, weight = k.Target, k.Weight
				}
				sc.KPIs[d.Key] = kp(d.Key, v, target, weight, nan, nan)
			}
			r.Managers = append(r.Managers, sc)
		}
		out = append([]*scoring.Report{r}, out...)
	}
	return out
}

func at(day, hour, minute int) *time.Time {
	t := time.Date(2026, 10, day, hour, minute, 0, 0, MSK)
	return &t
}

const (
	hubspotContact = "https://app.hubspot.com/contacts/4711/record/0-1/"
	hubspotDeal    = "https://app.hubspot.com/contacts/4711/record/0-3/"
	amoDeal        = "https://example.amocrm.ru/leads/detail/"
)

// annaSatisfaction explains Anna's NPS of 40: ten answers in October on
// her clients, six promoters (9-10), two passives (7-8), two detractors
// (0-6); one answer from September and one on Boris's client left out.
func annaSatisfaction() *scoring.Explanation {
	answer := func(id, name, client string, score float64, t *time.Time, counts bool, why string) scoring.ExplainedRecord {
		return scoring.ExplainedRecord{Kind: "contact", Connector: "hubspot-eu", ID: id, Name: name, Client: client,
			Time: t, Figure: ptr(score), Counts: counts, Why: why, Link: hubspotContact + id}
	}
	recs := []scoring.ExplainedRecord{
		answer("5101", "Olga Smirnova", "Romashka LLC", 10, at(3, 11, 20), true, "promoter (9-10)"),
		answer("5102", ScriptName, FormulaName, 9, at(5, 9, 5), true, "promoter (9-10)"),
		answer("5103", "Ivan Kuznetsov", "Vostok Trade", 10, at(7, 14, 0), true, "promoter (9-10)"),
		answer("5104", "Maria Lebedeva", "Sever JSC", 9, at(9, 10, 30), true, "promoter (9-10)"),
		answer("5105", "Pavel Orlov", "Sever JSC", 9, at(12, 16, 45), true, "promoter (9-10)"),
		answer("5106", "Elena Popova", "Romashka LLC", 10, at(15, 12, 0), true, "promoter (9-10)"),
		answer("5107", "Sergei Volkov", "Delta Group", 8, at(18, 17, 10), true, "passive (7-8)"),
		answer("5108", "Anton Sokolov", "Delta Group", 7, at(21, 8, 55), true, "passive (7-8)"),
		answer("5109", "Nina Morozova", "@risk Holdings", 5, at(24, 13, 40), true, "detractor (0-6)"),
		answer("5110", "Dmitry Fedorov", "-Minus Ltd", 3, at(29, 19, 15), true, "detractor (0-6)"),
		answer("5111", "Yuri Pavlov", "Romashka LLC", 2, ptr2(time.Date(2026, 9, 28, 10, 0, 0, 0, MSK)), false, "outside the period"),
		answer("5112", "Kate Belova", "Omega", 10, at(11, 11, 11), false, "other owner (boris@example.com)"),
	}
	recs[1].Link = BadLink
	return &scoring.Explanation{Manager: Anna, Name: "Anna Petrova", KPI: kpi.Satisfaction, Label: "Customer satisfaction",
		Unit: kpi.UnitNPS, Period: October, Currency: "RUB", Value: ptr(40),
		Formula: "(6 promoters − 2 detractors) / 10 answers × 100 = 40", Records: recs}
}

func ptr2(t time.Time) *time.Time { return &t }

// annaClosedWon explains Anna's 9 won deals; a deal in EUR without a rate
// still counts (closed_won counts deals, not money).
func annaClosedWon() *scoring.Explanation {
	deal := func(conn, link, id, name, client string, amount float64, cur string, reporting float64, t *time.Time, stage string, counts bool, why string) scoring.ExplainedRecord {
		return scoring.ExplainedRecord{Kind: "deal", Connector: conn, ID: id, Name: name, Client: client, Time: t, Stage: stage,
			Amount: ptr(amount), Currency: cur, Reporting: ptr(reporting), Counts: counts, Why: why, Link: link + id}
	}
	won := "won in the period"
	recs := []scoring.ExplainedRecord{
		deal("hubspot-eu", hubspotDeal, "9001", "Annual licence renewal", "Romashka LLC", 12000, "USD", 12000*95.5, at(2, 15, 30), "Closed won", true, won),
		deal("hubspot-eu", hubspotDeal, "9002", ScriptName, "Vostok Trade", 4500, "USD", 4500*95.5, at(6, 11, 0), "Closed won", true, won),
		deal("amo", amoDeal, "31337", "Поставка оборудования", "Север АО", 1250000, "RUB", 1250000, at(8, 18, 20), "Успешно реализовано", true, won),
		deal("amo", amoDeal, "31338", "+Upsell support", "Sever JSC", 310000, "RUB", 310000, at(13, 10, 5), "Успешно реализовано", true, won),
		deal("hubspot-eu", hubspotDeal, "9003", "Consulting block", "Delta Group", 2500, "USD", 2500*95.5, at(16, 9, 45), "Closed won", true, won),
		deal("amo", amoDeal, "31340", "Training", "Romashka LLC", 99500.5, "RUB", 99500.5, at(20, 16, 0), "Успешно реализовано", true, won),
		deal("hubspot-eu", hubspotDeal, "9004", "EU expansion", "Omega GmbH", 8000, "EUR", nan, at(22, 12, 0), "Closed won", true, won+"; EUR has no rate, so it adds no revenue"),
		deal("amo", amoDeal, "31341", "Maintenance 2027", "Vostok Trade", 640000, "RUB", 640000, at(27, 13, 30), "Успешно реализовано", true, won),
		deal("hubspot-eu", hubspotDeal, "9005", "Pilot", "@risk Holdings", 1500, "USD", 1500*95.5, at(31, 23, 50), "Closed won", true, won),
		deal("hubspot-eu", hubspotDeal, "9006", "Renewal (duplicate)", "Romashka LLC", 12000, "USD", 12000*95.5, at(4, 10, 0), "Closed won", false, "deleted in the CRM"),
		deal("amo", amoDeal, "31342", "Hardware", "Sever JSC", 450000, "RUB", 450000, ptr2(time.Date(2026, 9, 30, 23, 59, 0, 0, MSK)), "Успешно реализовано", false, "outside the period"),
		deal("hubspot-eu", hubspotDeal, "9007", "Boris's deal", "Omega", 3000, "USD", 3000*95.5, at(19, 14, 0), "Closed won", false, "other owner (boris@example.com)"),
	}
	return &scoring.Explanation{Manager: Anna, Name: "Anna Petrova", KPI: kpi.ClosedWon, Label: "Successfully closed deals",
		Unit: kpi.UnitDeals, Period: October, Currency: "RUB", Value: ptr(9), Formula: "9 won deals", Records: recs}
}

// noAnswers is an n/a explanation of satisfaction: nothing weighed.
func noAnswers(manager, name, reason string) *scoring.Explanation {
	return &scoring.Explanation{Manager: manager, Name: name, KPI: kpi.Satisfaction, Label: "Customer satisfaction",
		Unit: kpi.UnitNPS, Period: October, Currency: "RUB", Reason: str(reason), Formula: "no NPS answers"}
}

// Fixture returns the hand-written world: October 2026 in Moscow time
// with four managers (green, amber at 99.959…, red, and one without data
// under a key full of URL and HTML characters), eleven months of history,
// explanations of Anna's satisfaction and won deals and of two n/a
// values, and three connectors (ok, stale, failing). Its Now is 15
// November 2026, so the default period is October. Each call returns a
// fresh copy.
func Fixture() *Source {
	oct := october()
	s := &Source{
		Reports:      map[string]*scoring.Report{October.Key(): {Period: October, Currency: "RUB", Managers: oct}},
		Explanations: map[string]*scoring.Explanation{},
		Connectors: []web.Freshness{
			{Connector: "hubspot-eu", LastSuccess: time.Date(2026, 11, 15, 9, 30, 0, 0, MSK), State: web.StateOK},
			{Connector: "amo", LastSuccess: time.Date(2026, 11, 13, 8, 0, 0, 0, MSK), State: web.StateStale},
			{Connector: "b24", LastSuccess: time.Date(2026, 11, 14, 22, 10, 0, 0, MSK), State: web.StateFailing},
		},
		Currency: "RUB",
		Kind:     period.Month,
		Location: MSK,
		Now:      time.Date(2026, 11, 15, 10, 0, 0, 0, MSK),
	}
	for _, r := range historyReports(oct) {
		s.Reports[r.Period.Key()] = r
	}
	for _, e := range []*scoring.Explanation{annaSatisfaction(), annaClosedWon(), noAnswers(Boris, oct[2].Name, "no survey answers in the period"),
		noAnswers(Carl, "", "no activity in the period")} {
		s.Explanations[ExplanationKey(October, e.Manager, e.KPI)] = e
	}
	return s
}
