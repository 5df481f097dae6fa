package scoring

import (
	"database/sql"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/warehouse/rows"
)

// The fixture: October 2026 in Europe/Moscow (UTC+3), two connectors "amo"
// and "hub", reporting currency RUB with USD at 90 and no rate for EUR,
// lookback 365 days.
//
// P   = [2026-10-01 00:00 MSK, 2026-11-01 00:00 MSK) = [09-30 21:00Z, 10-31 21:00Z)
// P-1 = [2026-09-01 00:00 MSK, 2026-10-01 00:00 MSK)
// active at 10-01: won closed in [2025-10-01, 2026-10-01) MSK
// active at 11-01: won closed in [2025-11-01, 2026-11-01) MSK
// active at 09-01: won closed in [2025-09-01, 2026-09-01) MSK
//
// Managers
//   anna@example.com = amo/1 "Anna@Example.com" + hub/10 "anna@example.com";
//                      config: Anna Petrova, team enterprise, U1
//   boris@example.com = amo/2 (no config entry: name from the CRM)
//   hub:11 = hub/11 Carl, no e-mail
//   amo:99 = an owner id with no user record
//   dora@example.com = amo/3, deleted, nothing recent: no scorecard
//   hub:12 = hub/12 Eve, no e-mail, owns nothing: no scorecard
//
// Clients and their owners
//   amo C1 Acme   owner amo/1 → Anna
//   amo C2 Beta   owner ""    → owner of its newest deal D5 (amo/1) → Anna
//   amo C3 Gamma  owner amo/2 → Boris
//   amo C4 Old    owner amo/3 → Dora
//   amo C5 Zeta   owner amo/1 → Anna
//   amo K5 (contact, no company) owner amo/2 → Boris
//   hub H1 Delta  owner hub/10 → Anna, key_client flag true (hub maps it)
//   hub H2 Eps    owner hub/11 → Carl
//   hub H3 Eta    owner hub/11 → Carl
//
// Won deals (revenue in RUB), in close order per client
//   C1: D1 100000 closed 2025-12-15 (new), D2 50000 closed 10-01 01:00 MSK
//       = 09-30 22:00Z (in P, expansion, Anna), D3 1000 USD = 90000 closed
//       10-20 (P, expansion, owned by Boris), D10 deleted: ignored
//   C2: D4 30000 closed 2025-02-01 (new, Boris), D5 2000 EUR closed 10-31
//       23:59 MSK (P, expansion, Anna, no rate; expense 100 EUR, no rate)
//   C3: D6 40000 closed 09-10 (P-1, new, Boris, expense 5000), D9 60000
//       closed 10-25 (P, expansion, Boris, expense 2000); D7 lost 10-15 (Boris)
//   C4: D11 closed 2024-05-01 (Dora)
//   C5: D12 60000 closed 10-15 (P, new, Anna, expense 1500); D13 open,
//       created 10-20, owner amo/99
//   K5: D8 20000 closed 11-01 00:30 MSK = 10-31 21:30Z (not in P; Boris)
//   H1: HD1 500 USD = 45000 closed 09-05 (P-1, new, Anna), HD2 1000 USD =
//       90000 closed 10-10 (P, expansion, Anna)
//   H2: HD3 10000 with no currency (unknown: left out of money) closed 10-12
//       (P, new, Carl); HD4
//       lost 09-20 (P-1, Carl); HD5 open created 10-20
//   H3: HD6 7000 closed 2025-10-20 (new, Carl)
//
// Costs: defaults plus monthly_per_manager 3000; P is one month, so 3000.
// Targets: defaults (sat 50/10, ret 90/15, kcg 10/10, pen 30/10, cw 8/15,
// rt 4/10, tc 2/5, nd 3/15, cpc 5000/10) with config overrides kcg target
// 100 and nd target 2, and for team enterprise cw 4, pen 80, cpc 1000.
// Weights add up to 100.
//
// Anna (enterprise)
//   satisfaction: K1 10 (10-05), K2 6 (10-10), HK1 9 (10-31 23:00 MSK) → 3
//     answers, 2 promoters, 1 detractor → 100×(2-1)/3 = 33.333…; HK4 has no
//     date: ignored. Attainment 33.333/50 = 66.667%. P-1: K4 9 (09-15) → 100.
//   retention: active at 10-01: C1 (D1), H1 (HD1); not C2 (D4 too old), not
//     C5. Both active at 11-01 → 2/2 = 100; 100/90 = 111.111%. P-1: at 09-01
//     only C1 (HD1 closed 09-05), still active 10-01 → 100.
//   key_client_growth: amo ranked by revenue in lookback: C1 100000 (C2 0,
//     C5 0); hub: flagged H1 → {C1, H1}. P: D2 50000 + D3 90000 + HD2 90000
//     = 230000; P-1: HD1 45000 → 100×185000/45000 = 411.111… → 411% → cap
//     150. P-1 value: key clients {C1, H1}, Sep 45000 but Aug 0 → n/a → nil.
//   penetration: own deals won in P: D2 50000 exp, D5 EUR left out, HD2 90000
//     exp, D12 60000 new → 140000/200000 = 70 → 70/80 = 87.5%. P-1: HD1 new
//     → 0.
//   closed_won: D2, D5, HD2, D12 = 4, lost 0, win rate 100, revenue 200000
//     → 4/4 = 100%. P-1: 1.
//   response_time: A1 inbound C1 10-05 10:00 → Anna's call A2 12:30 = 2.5 h
//     (Boris's A3 at 11:00 does not count); A7 inbound C1 10-20 08:00 → A8
//     10-29 08:00 = 216 h → 168; A6 inbound C2 10-10, never answered → 168;
//     A4 inbound via contact HK1 → H1, 10-31 22:00 → meeting A5 on deal HD2
//     11-02 10:00 = 36 h (after P, counts). [2.5, 36, 168, 168] → (36+168)/2
//     = 102; unanswered 2. 4/102 = 3.9216%. P-1: A9 09-30 23:30 MSK → A10
//     10-01 01:30 = 2 h → 2.
//   team_contribution: T1 "#team" done 10-07 → 1 (T2 "#Team", T3 not done);
//     1/2 = 50%. P-1: T4 09-28 → 1.
//   new_deals: D12 → 1 → 1/2 = 50%. P-1: HD1 → 1.
//   cost_per_client: A2 call 300 + A8 email 50 + A10 email 50 + tasks 0 = 400,
//     + 3000 monthly + D12 expense 1500 (D5's EUR expense left out) = 4900;
//     clients C1, H1 (activities), C2, C5 (won deals) = 4 → 1225 →
//     1000/1225 = 81.633%. P-1: T4 0 + 3000, HD1 → {H1} → 3000.
//   score: (10×66.667 + 15×111.111 + 10×150 + 10×87.5 + 15×100 + 10×3.9216
//     + 5×50 + 15×50 + 10×81.633)/100 = 80.639 → amber.
//
// Boris (no team)
//   satisfaction: K3 8 (C3) passive, K5 3 (contact client) detractor → 2
//     answers → -50 → 0%. P-1 nil.
//   retention: C3 active 10-01 (D6) and 11-01 → 1/1 = 100 → 111.111%; K5's
//     D8 closes in November. P-1 nil (C3 won first 09-10).
//   key_client_growth: ranked C3 40000 (K5 0) → {C3}: P D9 60000, P-1 D6
//     40000 → 50 → 50/100 = 50%. P-1 nil (no revenue before 09-01).
//   penetration: D3 90000 exp + D9 60000 exp → 100 → cap 150. P-1: D6 new → 0.
//   closed_won: D3, D9 = 2, lost D7 → win rate 66.667, revenue 150000 →
//     2/8 = 25%. P-1: 1.
//   response_time: B1 inbound message via contact K5 10-12 10:00 → meeting B2
//     at the same instant = 0 h → value 0 attains the cap, 150%. P-1 nil.
//   team_contribution: no tasks; manual "2026-10" Boris@Example.com = 3 →
//     3/2 = 150%. P-1: 0.
//   new_deals: 0 → 0%. P-1: D6 → 1.
//   cost_per_client: A1 email 50 + A3 email 50 + B1 message 20 + B2 meeting
//     2000 = 2120 + 3000 + D9 expense 2000 = 7120; clients C1, K5, C3 = 3 →
//     2373.333 → 5000/2373.333 = 210.7% → cap 150. P-1: 3000 + D6 5000 =
//     8000 over {C3} → 8000.
//   score: (10×0 + 15×111.111 + 10×50 + 10×150 + 15×25 + 10×150 + 5×150
//     + 15×0 + 10×150)/100 = 77.917 → red.
//
// Carl (hub:11)
//   satisfaction n/a: HK2 scored 11 (ignored), HK3 answered 11-01 00:00 MSK.
//   retention: H3 active 10-01 (HD6 2025-10-20), not 11-01; H2 not active
//     10-01 → 0/1 = 0 → 0%. P-1: H3 active 09-01 and 10-01 → 100.
//   key_client_growth n/a: hub maps key_client and flags none of his.
//   penetration n/a: HD3's currency is unknown, so no revenue in P. P-1 nil.
//   closed_won: HD3 still counts → 1, win rate 100, revenue 0 → 12.5%.
//     P-1: 0.
//   response_time n/a. team_contribution 0 → 0%. new_deals: HD3 still new
//     business → 1 → 50%; P-1 0.
//   cost_per_client: 3000 over {H2} (HD3 still serves it) = 3000 → 166.7%
//     → cap 150. P-1 nil.
//   score: (15×0 + 15×12.5 + 5×0 + 15×50 + 10×150)/60 = 2437.5/60
//     = 40.625 → red.
//
// amo:99: D13 created in P makes it eligible. closed_won, team_contribution,
// new_deals are 0 (0%), everything else n/a (cost 3000 but no client) →
// score 0, red. Previous: the three counts 0.
//
// Warnings: one line for HD3's unknown currency, one for EUR (D5).

func mskTime(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, fixtureLoc)
}

var fixtureLoc = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Moscow")
	if err != nil {
		panic(err)
	}
	return loc
}()

func f64(v float64) *float64 { return &v }

func tp(t time.Time) *time.Time { return &t }

// nf and nt are v and t as the nullable columns of a row.
func nf(v float64) sql.NullFloat64 { return sql.NullFloat64{Float64: v, Valid: true} }

func nt(t time.Time) sql.NullTime { return sql.NullTime{Time: t, Valid: true} }

// user is an active CRM user as ScanUsers passes it.
func user(conn, id, email, name string) rows.User {
	return rows.User{Connector: conn, ID: id, Email: email, Name: name, Active: true}
}

// fixtureNow is when the fixture is scored: the day after P.
var fixtureNow = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func fixturePeriod() Period {
	return Period{Kind: Month, Start: mskTime(2026, 10, 1, 0, 0), End: mskTime(2026, 11, 1, 0, 0)}
}

func fixtureOptions() Options {
	return Options{
		Now:      fixtureNow,
		Location: fixtureLoc,
		Currency: "RUB",
		FXRates:  map[string]float64{"USD": 90},
		Costs:    map[string]float64{CostMonthly: 3000},
		KPIs: map[string]Target{
			kpi.KeyClientGrowth: {Target: f64(100)},
			kpi.NewDeals:        {Target: f64(2)},
		},
		Teams: map[string]map[string]Target{
			"enterprise": {
				kpi.ClosedWon:     {Target: f64(4)},
				kpi.Penetration:   {Target: f64(80)},
				kpi.CostPerClient: {Target: f64(1000)},
			},
		},
		Manual: map[string]map[string]map[string]float64{
			"2026-10": {"Boris@Example.com": {kpi.TeamContribution: 3}},
		},
		Managers:            []Manager{{Email: "anna@example.com", Name: "Anna Petrova", Team: "enterprise", SlackID: "U1"}},
		KeyClientConnectors: map[string]bool{"hub": true},
	}
}

// fixtureData is the fixture as the warehouse's scans pass it; the deleted
// deal D10 is not among its rows (fixtureGone has it).
func fixtureData() *dataset {
	deal := func(conn, id, owner, company, contact, status string, amount float64, currency string, created time.Time, closed *time.Time) rows.Deal {
		d := rows.Deal{Connector: conn, ID: id, Status: status, Amount: nf(amount), Currency: currency,
			OwnerID: owner, CompanyID: company, ContactID: contact, CreatedAt: created}
		if closed != nil {
			d.ClosedAt = nt(*closed)
		}
		return d
	}
	act := func(conn, typ, dir, owner, company, contact, dealID string, at time.Time) rows.Activity {
		return rows.Activity{Connector: conn, Type: typ, Direction: dir, OwnerID: owner, CompanyID: company,
			ContactID: contact, DealID: dealID, OccurredAt: at, Completed: true}
	}
	task := func(conn, owner, subject string, done bool, at time.Time) rows.Activity {
		a := act(conn, rows.ActivityTask, "", owner, "", "", "", at)
		a.Subject, a.Completed = subject, done
		return a
	}
	nps := func(conn, id, company, owner string, score float64, at *time.Time) rows.Contact {
		c := rows.Contact{Connector: conn, ID: id, CompanyID: company, OwnerID: owner, NPSScore: nf(score)}
		if at != nil {
			c.NPSAt = nt(*at)
		}
		return c
	}
	company := func(conn, id, owner string, key bool) rows.Company {
		return rows.Company{Connector: conn, ID: id, OwnerID: owner, KeyClient: key}
	}
	const (
		won, lost, open = rows.DealWon, rows.DealLost, rows.DealOpen
		in, out         = rows.DirectionInbound, rows.DirectionOutbound
	)

	d := &dataset{
		Users: []rows.User{
			user("hub", "10", "anna@example.com", "Anna P. (HubSpot)"),
			user("amo", "1", "Anna@Example.com", "Anna"),
			user("amo", "2", "boris@example.com", "Boris"),
			{Connector: "hub", ID: "11", Name: "Carl"}, // inactive, first seen so
			{Connector: "amo", ID: "3", Email: "dora@example.com", Name: "Dora", Deleted: true},
			user("hub", "12", "", "Eve"),
		},
		Companies: []rows.Company{
			company("amo", "C1", "1", false),
			company("amo", "C2", "", false),
			company("amo", "C3", "2", false),
			company("amo", "C4", "3", false),
			company("amo", "C5", "1", false),
			company("hub", "H1", "10", true),
			company("hub", "H2", "11", false),
			company("hub", "H3", "11", false),
		},
		Contacts: []rows.Contact{
			nps("amo", "K1", "C1", "1", 10, tp(mskTime(2026, 10, 5, 12, 0))),
			nps("amo", "K2", "C1", "1", 6, tp(mskTime(2026, 10, 10, 12, 0))),
			nps("amo", "K3", "C3", "2", 8, tp(mskTime(2026, 10, 3, 12, 0))),
			nps("amo", "K4", "C1", "1", 9, tp(mskTime(2026, 9, 15, 12, 0))),
			nps("amo", "K5", "", "2", 3, tp(mskTime(2026, 10, 20, 12, 0))),
			nps("hub", "HK1", "H1", "10", 9, tp(mskTime(2026, 10, 31, 23, 0))),
			nps("hub", "HK2", "H2", "11", 11, tp(mskTime(2026, 10, 2, 12, 0))),
			nps("hub", "HK3", "H2", "11", 0, tp(mskTime(2026, 11, 1, 0, 0))),
			nps("hub", "HK4", "H1", "10", 10, nil),
		},
		Deals: []rows.Deal{
			deal("amo", "D1", "1", "C1", "K1", won, 100000, "RUB", mskTime(2025, 6, 1, 10, 0), tp(mskTime(2025, 12, 15, 10, 0))),
			deal("amo", "D2", "1", "C1", "", won, 50000, "RUB", mskTime(2026, 9, 20, 10, 0), tp(time.Date(2026, 9, 30, 22, 0, 0, 0, time.UTC))),
			deal("amo", "D3", "2", "C1", "", won, 1000, "USD", mskTime(2026, 10, 5, 10, 0), tp(mskTime(2026, 10, 20, 10, 0))),
			deal("amo", "D4", "2", "C2", "", won, 30000, "RUB", mskTime(2025, 1, 10, 10, 0), tp(mskTime(2025, 2, 1, 10, 0))),
			deal("amo", "D5", "1", "C2", "", won, 2000, "EUR", mskTime(2026, 9, 25, 10, 0), tp(mskTime(2026, 10, 31, 23, 59))),
			deal("amo", "D6", "2", "C3", "", won, 40000, "RUB", mskTime(2026, 8, 1, 10, 0), tp(mskTime(2026, 9, 10, 10, 0))),
			deal("amo", "D7", "2", "C3", "", lost, 70000, "RUB", mskTime(2026, 10, 2, 10, 0), tp(mskTime(2026, 10, 15, 10, 0))),
			deal("amo", "D8", "2", "", "K5", won, 20000, "RUB", mskTime(2026, 10, 3, 10, 0), tp(time.Date(2026, 10, 31, 21, 30, 0, 0, time.UTC))),
			deal("amo", "D9", "2", "C3", "", won, 60000, "RUB", mskTime(2026, 10, 6, 10, 0), tp(mskTime(2026, 10, 25, 10, 0))),
			deal("amo", "D11", "3", "C4", "", won, 5000, "RUB", mskTime(2024, 4, 1, 10, 0), tp(mskTime(2024, 5, 1, 10, 0))),
			deal("amo", "D12", "1", "C5", "", won, 60000, "RUB", mskTime(2026, 10, 2, 10, 0), tp(mskTime(2026, 10, 15, 10, 0))),
			deal("amo", "D13", "99", "C5", "", open, 10000, "RUB", mskTime(2026, 10, 20, 10, 0), nil),
			deal("hub", "HD1", "10", "H1", "", won, 500, "USD", mskTime(2026, 8, 1, 10, 0), tp(mskTime(2026, 9, 5, 10, 0))),
			deal("hub", "HD2", "10", "H1", "", won, 1000, "USD", mskTime(2026, 10, 1, 10, 0), tp(mskTime(2026, 10, 10, 10, 0))),
			deal("hub", "HD3", "11", "H2", "", won, 10000, "", mskTime(2026, 9, 1, 10, 0), tp(mskTime(2026, 10, 12, 10, 0))),
			deal("hub", "HD4", "11", "H2", "", lost, 8000, "RUB", mskTime(2026, 9, 2, 10, 0), tp(mskTime(2026, 9, 20, 10, 0))),
			deal("hub", "HD5", "11", "H2", "", open, 9000, "RUB", mskTime(2026, 10, 20, 10, 0), nil),
			deal("hub", "HD6", "11", "H3", "", won, 7000, "RUB", mskTime(2025, 10, 1, 10, 0), tp(mskTime(2025, 10, 20, 10, 0))),
		},
		Activities: []rows.Activity{
			act("amo", rows.ActivityEmail, in, "2", "C1", "", "", mskTime(2026, 10, 5, 10, 0)),     // A1
			act("amo", rows.ActivityCall, out, "1", "C1", "", "", mskTime(2026, 10, 5, 12, 30)),    // A2
			act("amo", rows.ActivityEmail, out, "2", "C1", "", "", mskTime(2026, 10, 5, 11, 0)),    // A3
			act("hub", rows.ActivityMessage, in, "", "", "HK1", "", mskTime(2026, 10, 31, 22, 0)),  // A4
			act("hub", rows.ActivityMeeting, "", "10", "", "", "HD2", mskTime(2026, 11, 2, 10, 0)), // A5
			act("amo", rows.ActivityCall, in, "", "C2", "", "", mskTime(2026, 10, 10, 9, 0)),       // A6
			act("amo", rows.ActivityEmail, in, "", "C1", "", "", mskTime(2026, 10, 20, 8, 0)),      // A7
			act("amo", rows.ActivityEmail, out, "1", "C1", "", "", mskTime(2026, 10, 29, 8, 0)),    // A8
			act("hub", rows.ActivityEmail, in, "", "H1", "", "", mskTime(2026, 9, 30, 23, 30)),     // A9
			act("hub", rows.ActivityEmail, out, "10", "H1", "", "", mskTime(2026, 10, 1, 1, 30)),   // A10
			act("amo", rows.ActivityMessage, in, "2", "", "K5", "", mskTime(2026, 10, 12, 10, 0)),  // B1
			act("amo", rows.ActivityMeeting, "", "2", "", "K5", "", mskTime(2026, 10, 12, 10, 0)),  // B2
			task("amo", "1", "Prepare #team offsite", true, mskTime(2026, 10, 7, 18, 0)),           // T1
			task("hub", "10", "#Team sync", true, mskTime(2026, 10, 8, 18, 0)),                     // T2
			task("hub", "10", "#team review", false, mskTime(2026, 10, 9, 18, 0)),                  // T3
			task("amo", "1", "#team retro", true, mskTime(2026, 9, 28, 18, 0)),                     // T4
		},
	}
	// Expense fields.
	for i := range d.Deals {
		switch d.Deals[i].ID {
		case "D5":
			d.Deals[i].Expense = nf(100)
		case "D6":
			d.Deals[i].Expense = nf(5000)
		case "D9":
			d.Deals[i].Expense = nf(2000)
		case "D12":
			d.Deals[i].Expense = nf(1500)
		}
	}
	return d
}

// fixtureGone is the page of the fixture's deleted deal on C1, D10, that
// would change every figure if it counted: in a warehouse it is a row
// flagged deleted, which the scans leave out.
func fixtureGone() *connectors.Page {
	closed := mskTime(2026, 10, 10, 10, 0)
	return &connectors.Page{Deals: []connectors.Deal{{Meta: connectors.Meta{ID: "D10", UpdatedAt: updated, Deleted: true},
		Status: connectors.StatusWon, Amount: f64(999999), Currency: "RUB", OwnerID: "1", CompanyID: "C1",
		CreatedAt: mskTime(2026, 10, 1, 10, 0), ClosedAt: &closed}}}
}

// wantFixture is the Report the comment above computes.
func wantFixture() *Report {
	d := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	na := func(reason string, target, weight float64, prev *float64, details map[string]any) *KPI {
		return &KPI{Target: target, Weight: weight, Previous: prev, Reason: ptr(reason), Details: details}
	}
	v := func(value, target, att, weight float64, prev *float64, details map[string]any) *KPI {
		return &KPI{Value: f64(value), Target: target, Attainment: f64(att), Weight: weight, Previous: prev, Details: details}
	}
	boris := v(3, 2, 150, 5, f64(0), d("tasks", 0, "manual", true))
	boris.Manual = true
	return withDefs(&Report{
		Period:   fixturePeriod(),
		Currency: "RUB",
		Warnings: []string{
			"1 won deal(s) with unknown currency left out of revenue and cost figures",
			"no fx rate for EUR into RUB: 1 won deal(s) left out of revenue and cost figures",
		},
		Managers: []Scorecard{
			{
				Manager: "anna@example.com", Name: "Anna Petrova", Team: "enterprise", Email: "anna@example.com", SlackID: "U1",
				Score: f64(80.63875550220088), Status: StatusAmber,
				KPIs: map[string]*KPI{
					kpi.Satisfaction:     v(100.0/3, 50, 200.0/3, 10, f64(100), d("answers", 3, "promoters", 2, "detractors", 1)),
					kpi.Retention:        v(100, 90, 1000.0/9, 15, f64(100), d("active_start", 2, "retained", 2)),
					kpi.KeyClientGrowth:  v(100*185000.0/45000, 100, 150, 10, nil, d("key_clients", 2, "revenue", 230000.0, "revenue_previous", 45000.0)),
					kpi.Penetration:      v(70, 80, 87.5, 10, f64(0), d("revenue", 200000.0, "expansion_revenue", 140000.0)),
					kpi.ClosedWon:        v(4, 4, 100, 15, f64(1), d("won", 4, "lost", 0, "win_rate", 100.0, "revenue", 200000.0)),
					kpi.ResponseTime:     v(102, 4, 400.0/102, 10, f64(2), d("inbound", 4, "unanswered", 2)),
					kpi.TeamContribution: v(1, 2, 50, 5, f64(1), d("tasks", 1, "manual", false)),
					kpi.NewDeals:         v(1, 2, 50, 15, f64(1), d()),
					kpi.CostPerClient:    v(1225, 1000, 100000.0/1225, 10, f64(3000), d("cost", 4900.0, "clients", 4)),
				},
			},
			{
				Manager: "boris@example.com", Name: "Boris", Email: "boris@example.com",
				Score: f64(77.91666666666667), Status: StatusRed,
				KPIs: map[string]*KPI{
					kpi.Satisfaction:     v(-50, 50, 0, 10, nil, d("answers", 2, "promoters", 0, "detractors", 1)),
					kpi.Retention:        v(100, 90, 1000.0/9, 15, nil, d("active_start", 1, "retained", 1)),
					kpi.KeyClientGrowth:  v(50, 100, 50, 10, nil, d("key_clients", 1, "revenue", 60000.0, "revenue_previous", 40000.0)),
					kpi.Penetration:      v(100, 30, 150, 10, f64(0), d("revenue", 150000.0, "expansion_revenue", 150000.0)),
					kpi.ClosedWon:        v(2, 8, 25, 15, f64(1), d("won", 2, "lost", 1, "win_rate", 200.0/3, "revenue", 150000.0)),
					kpi.ResponseTime:     v(0, 4, 150, 10, nil, d("inbound", 1, "unanswered", 0)),
					kpi.TeamContribution: boris,
					kpi.NewDeals:         v(0, 2, 0, 15, f64(1), d()),
					kpi.CostPerClient:    v(7120.0/3, 5000, 150, 10, f64(8000), d("cost", 7120.0, "clients", 3)),
				},
			},
			{
				Manager: "hub:11", Name: "Carl",
				Score: f64(2437.5 / 60), Status: StatusRed,
				KPIs: map[string]*KPI{
					kpi.Satisfaction:     na(reasonNoAnswers, 50, 10, nil, d("answers", 0, "promoters", 0, "detractors", 0)),
					kpi.Retention:        v(0, 90, 0, 15, f64(100), d("active_start", 1, "retained", 0)),
					kpi.KeyClientGrowth:  na(reasonNoKeyClients, 100, 10, nil, d("key_clients", 0, "revenue", 0.0, "revenue_previous", 0.0)),
					kpi.Penetration:      na(reasonNoRevenue, 30, 10, nil, d("revenue", 0.0, "expansion_revenue", 0.0)),
					kpi.ClosedWon:        v(1, 8, 12.5, 15, f64(0), d("won", 1, "lost", 0, "win_rate", 100.0, "revenue", 0.0)),
					kpi.ResponseTime:     na(reasonNoInbound, 4, 10, nil, d("inbound", 0, "unanswered", 0)),
					kpi.TeamContribution: v(0, 2, 0, 5, f64(0), d("tasks", 0, "manual", false)),
					kpi.NewDeals:         v(1, 2, 50, 15, f64(0), d()),
					kpi.CostPerClient:    v(3000, 5000, 150, 10, nil, d("cost", 3000.0, "clients", 1)),
				},
			},
			{
				Manager: "amo:99", Name: "amo:99",
				Score: f64(0), Status: StatusRed,
				KPIs: map[string]*KPI{
					kpi.Satisfaction:     na(reasonNoAnswers, 50, 10, nil, d("answers", 0, "promoters", 0, "detractors", 0)),
					kpi.Retention:        na(reasonNoActive, 90, 15, nil, d("active_start", 0, "retained", 0)),
					kpi.KeyClientGrowth:  na(reasonNoKeyClients, 100, 10, nil, d("key_clients", 0, "revenue", 0.0, "revenue_previous", 0.0)),
					kpi.Penetration:      na(reasonNoRevenue, 30, 10, nil, d("revenue", 0.0, "expansion_revenue", 0.0)),
					kpi.ClosedWon:        v(0, 8, 0, 15, f64(0), d("won", 0, "lost", 0, "win_rate", nil, "revenue", 0.0)),
					kpi.ResponseTime:     na(reasonNoInbound, 4, 10, nil, d("inbound", 0, "unanswered", 0)),
					kpi.TeamContribution: v(0, 2, 0, 5, f64(0), d("tasks", 0, "manual", false)),
					kpi.NewDeals:         v(0, 2, 0, 15, f64(0), d()),
					kpi.CostPerClient:    na(reasonNoClientServed, 5000, 10, nil, d("cost", 3000.0, "clients", 0)),
				},
			},
		},
	})
}

// withDefs gives every KPI of r its label, unit and direction from
// kpi.Table, as every scorecard has them; TestReportJSON checks them
// spelled out.
func withDefs(r *Report) *Report {
	for _, sc := range r.Managers {
		for key, k := range sc.KPIs {
			d, _ := kpi.Lookup(key)
			k.Label, k.Unit, k.LowerIsBetter = d.Label, d.Unit, d.LowerIsBetter
		}
	}
	return r
}
