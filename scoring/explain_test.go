package scoring

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// line is an explained record in one line, for the hand-written
// expectations: counts (Y or n), kind, connector/id, name, client, time
// in Moscow, stage, amount and currency → reporting amount, figure, why.
func line(r ExplainedRecord) string {
	var b strings.Builder
	if r.Counts {
		b.WriteString("Y ")
	} else {
		b.WriteString("n ")
	}
	fmt.Fprintf(&b, "%s %s/%s %q", r.Kind, r.Connector, r.ID, r.Name)
	if r.Client != "" {
		b.WriteString(" @" + r.Client)
	}
	if r.Time != nil {
		b.WriteString(" " + r.Time.Format("01-02 15:04"))
	}
	if r.Stage != "" {
		b.WriteString(" [" + r.Stage + "]")
	}
	if r.Amount != nil {
		fmt.Fprintf(&b, " %v %s", *r.Amount, r.Currency)
		if r.Reporting != nil {
			fmt.Fprintf(&b, "=%v", *r.Reporting)
		}
	}
	if r.Figure != nil {
		fmt.Fprintf(&b, " (%v)", *r.Figure)
	}
	b.WriteString(" | " + r.Why)
	return b.String()
}

// fixtureLinks are the record links of the fixture's two connectors, as
// amoCRM's and HubSpot's connectors give them.
var fixtureLinks = map[string][]connectors.RecordLink{
	"amo": {
		{Kind: "deal", URL: "https://example.amocrm.ru/leads/detail/{id}"},
		{Kind: "contact", URL: "https://example.amocrm.ru/contacts/detail/{id}"},
		{Kind: "company", URL: "https://example.amocrm.ru/companies/detail/{id}"},
	},
	"hub": {
		{Kind: "deal", URL: "https://app.hubspot.com/contacts/42/record/0-3/{id}"},
		{Kind: "company", URL: "https://app.hubspot.com/contacts/42/record/0-2/{id}"},
		{Kind: "contact", URL: "https://app.hubspot.com/contacts/42/record/0-1/{id}"},
		{Kind: "meeting", URL: "https://app.hubspot.com/contacts/42/record/0-47/{id}"},
		{Kind: "email", URL: "https://app.hubspot.com/contacts/42/record/0-49/{id}"},
	},
}

// storeExplainFixture stores the fixture with names, its deleted deal D10
// and the record links in s.
func storeExplainFixture(t *testing.T, s *warehouse.Store) {
	t.Helper()
	ctx := context.Background()
	storeNamed(t, s, fixtureData(), fixtureNames)
	if err := s.ApplyPage(ctx, "amo", connectors.ObjectDeals, fixtureGone()); err != nil {
		t.Fatalf("ApplyPage(amo, deals, D10 deleted): %v", err)
	}
	for conn, links := range fixtureLinks {
		if err := s.SaveRecordLinks(ctx, conn, links); err != nil {
			t.Fatal(err)
		}
	}
}

// explainCases are the explanations of the fixture (fixture_test.go),
// worked out from its comment: every KPI of the four managers with a
// scorecard, each with its formula and its records in the order Explain
// gives them (those that count first, each part by time). Anna's are the
// nine KPIs with data; Carl's and amo:99's hold the n/a cases (no NPS
// answer, no active client, no key client, no revenue, no inbound, no
// client served); Boris's team contribution is entered by hand.
var explainCases = []struct {
	manager, kpi, formula string
	records               []string
}{
	{"anna@example.com", "satisfaction", "100 × (2 promoters − 1 detractor) / 3 answers = 33.3", []string{
		"Y contact amo/K1 \"Kim\" @Acme 10-05 12:00 (10) | promoter (9-10)",
		"Y contact amo/K2 \"Kai\" @Acme 10-10 12:00 (6) | detractor (0-6)",
		"Y contact hub/HK1 \"Hana\" @Delta 10-31 23:00 (9) | promoter (9-10)",
	}},
	{"anna@example.com", "retention", "100 × 2 retained / 2 clients active at the start = 100", []string{
		"Y client hub/H1 \"Delta\" @Delta 10-10 10:00 | retained: active at the start and at the end (won deal HD2 closed 2026-10-10 10:00)",
		"Y client amo/C1 \"Acme\" @Acme 10-20 10:00 | retained: active at the start and at the end (won deal D3 closed 2026-10-20 10:00)",
		"n client amo/C5 \"Zeta\" @Zeta 10-15 10:00 | not active at the start: no won deal in the 365 days before it",
		"n client amo/C2 \"Beta\" @Beta 10-31 23:59 | not active at the start: no won deal in the 365 days before it",
	}},
	{"anna@example.com", "key_client_growth", "100 × (230,000 − 45,000) / 45,000 RUB = 411.1, over 2 key clients", []string{
		"Y deal hub/HD1 \"Delta pilot\" @Delta 09-05 10:00 [Won] 500 USD=45000 | won in the previous period",
		"Y deal amo/D2 \"Acme renewal\" @Acme 10-01 01:00 [Won] 50000 RUB=50000 | won in the period",
		"Y deal hub/HD2 \"Delta rollout\" @Delta 10-10 10:00 [Won] 1000 USD=90000 | won in the period",
		"Y deal amo/D3 \"Acme upsell\" @Acme 10-20 10:00 [Won] 1000 USD=90000 | won in the period",
		"Y client amo/C1 \"Acme\" @Acme | key client: #1 by revenue in the 365 days before the period (100,000 RUB); 140,000 RUB in the period, 0 RUB in the previous",
		"Y client hub/H1 \"Delta\" @Delta | key client: flagged in the CRM; 90,000 RUB in the period, 45,000 RUB in the previous",
	}},
	{"anna@example.com", "penetration", "100 × 140,000 RUB expansion / 200,000 RUB revenue = 70", []string{
		"Y deal amo/D2 \"Acme renewal\" @Acme 10-01 01:00 [Won] 50000 RUB=50000 | expansion: counts in expansion revenue and in revenue (D1, closed 2025-12-15 10:00)",
		"Y deal hub/HD2 \"Delta rollout\" @Delta 10-10 10:00 [Won] 1000 USD=90000 | expansion: counts in expansion revenue and in revenue (HD1, closed 2026-09-05 10:00)",
		"Y deal amo/D12 \"Zeta start\" @Zeta 10-15 10:00 [Won] 60000 RUB=60000 | new business: counts in revenue only",
		"n deal amo/D10 \"\" @Acme 10-10 10:00 [won] 999999 RUB=999999 | deleted in the CRM",
		"n deal amo/D3 \"Acme upsell\" @Acme 10-20 10:00 [Won] 1000 USD=90000 | owned by boris@example.com (on a client of this manager): it counts for its owner",
		"n deal amo/D5 \"Beta euro\" @Beta 10-31 23:59 [Won] 2000 EUR | no fx rate for EUR into RUB: left out of revenue",
	}},
	{"anna@example.com", "closed_won", "4 won deals", []string{
		"Y deal amo/D2 \"Acme renewal\" @Acme 10-01 01:00 [Won] 50000 RUB=50000 | won in the period",
		"Y deal hub/HD2 \"Delta rollout\" @Delta 10-10 10:00 [Won] 1000 USD=90000 | won in the period",
		"Y deal amo/D12 \"Zeta start\" @Zeta 10-15 10:00 [Won] 60000 RUB=60000 | won in the period",
		"Y deal amo/D5 \"Beta euro\" @Beta 10-31 23:59 [Won] 2000 EUR | won in the period; no fx rate for EUR into RUB, so it is left out of revenue only",
		"n deal amo/D10 \"\" @Acme 10-10 10:00 [won] 999999 RUB=999999 | deleted in the CRM",
		"n deal amo/D3 \"Acme upsell\" @Acme 10-20 10:00 [Won] 1000 USD=90000 | owned by boris@example.com (on a client of this manager): it counts for its owner",
	}},
	{"anna@example.com", "response_time", "median of 4 inbound (2 unanswered, counted as 168 h) [2.5, 36, 168, 168] = (36 + 168) / 2 = 102 h", []string{
		"Y activity amo/0 \"inbound email: Question\" @Acme 10-05 10:00 (2.5) | answered after 2.5 h by call 1 at 2026-10-05 12:30",
		"Y activity amo/5 \"inbound call: Missed call\" @Beta 10-10 09:00 (168) | no answer by the client's owner: counts as 168 h",
		"Y activity amo/6 \"inbound email: Complaint\" @Acme 10-20 08:00 (168) | answered 216 h later, over 168 h: counts as 168 h",
		"Y activity hub/3 \"inbound message: Chat\" @Delta 10-31 22:00 (36) | answered after 36 h by meeting 4 at 2026-11-02 10:00",
		"n activity hub/8 \"inbound email: Question\" @Delta 09-30 23:30 | received before the period",
		"n activity amo/2 \"outbound email: Reply\" @Acme 10-05 11:00 | an answer by boris@example.com: only the client owner's answers count",
	}},
	{"anna@example.com", "team_contribution", "1 completed task tagged #team", []string{
		"Y activity amo/12 \"task: Prepare #team offsite\" 10-07 18:00 | completed, and its text has #team",
		"n activity amo/15 \"task: #team retro\" 09-28 18:00 | due before the period",
		"n activity hub/13 \"task: #Team sync\" 10-08 18:00 | its text has no #team (the tag is case-sensitive)",
		"n activity hub/14 \"task: #team review\" 10-09 18:00 | not completed",
	}},
	{"anna@example.com", "new_deals", "1 new-business deal", []string{
		"Y deal amo/D12 \"Zeta start\" @Zeta 10-15 10:00 [Won] 60000 RUB=60000 | new business: the client's first won deal",
		"n deal amo/D2 \"Acme renewal\" @Acme 10-01 01:00 [Won] 50000 RUB=50000 | expansion: the client had a won deal before (D1, closed 2025-12-15 10:00)",
		"n deal amo/D10 \"\" @Acme 10-10 10:00 [won] 999999 RUB=999999 | deleted in the CRM",
		"n deal hub/HD2 \"Delta rollout\" @Delta 10-10 10:00 [Won] 1000 USD=90000 | expansion: the client had a won deal before (HD1, closed 2026-09-05 10:00)",
		"n deal amo/D3 \"Acme upsell\" @Acme 10-20 10:00 [Won] 1000 USD=90000 | owned by boris@example.com (on a client of this manager): it counts for its owner",
		"n deal amo/D5 \"Beta euro\" @Beta 10-31 23:59 [Won] 2000 EUR | expansion: the client had a won deal before (closed before 2025-09-01 00:00)",
	}},
	{"anna@example.com", "cost_per_client", "(400 activities + 1,500 deal expenses + 3,000 fixed) RUB / 4 clients = 1,225", []string{
		"Y activity hub/9 \"outbound email: Reply\" @Delta 10-01 01:30 (50) | email: costs 50 RUB",
		"Y activity amo/1 \"outbound call: Call back\" @Acme 10-05 12:30 (300) | call: costs 300 RUB",
		"Y activity amo/12 \"task: Prepare #team offsite\" 10-07 18:00 (0) | task: costs 0 RUB",
		"Y activity hub/13 \"task: #Team sync\" 10-08 18:00 (0) | task: costs 0 RUB",
		"Y activity hub/14 \"task: #team review\" 10-09 18:00 (0) | task: costs 0 RUB",
		"Y deal amo/D12 \"Zeta start\" @Zeta 10-15 10:00 [Won] 1500 RUB=1500 | expense of a deal won in the period",
		"Y activity amo/7 \"outbound email: Late reply\" @Acme 10-29 08:00 (50) | email: costs 50 RUB",
		"Y client amo/C1 \"Acme\" @Acme | served in the period: 2 activities, 1 won deal",
		"Y client amo/C2 \"Beta\" @Beta | served in the period: 0 activities, 1 won deal",
		"Y client amo/C5 \"Zeta\" @Zeta | served in the period: 0 activities, 1 won deal",
		"Y client hub/H1 \"Delta\" @Delta | served in the period: 1 activity, 1 won deal",
		"n activity amo/15 \"task: #team retro\" 09-28 18:00 | occurred before the period",
		"n deal amo/D5 \"Beta euro\" @Beta 10-31 23:59 [Won] 100 EUR | expense of a deal won in the period; no fx rate for EUR into RUB: left out",
		"n activity hub/4 \"meeting: Review\" @Delta 11-02 10:00 | occurred after the period",
	}},
	{"boris@example.com", "satisfaction", "100 × (0 promoters − 1 detractor) / 2 answers = -50", []string{
		"Y contact amo/K3 \"Kurt\" @Gamma 10-03 12:00 (8) | passive (7-8): counts in the answers only",
		"Y contact amo/K5 \"Karl\" @Karl 10-20 12:00 (3) | detractor (0-6)",
	}},
	{"boris@example.com", "retention", "100 × 1 retained / 1 client active at the start = 100", []string{
		"Y client amo/C3 \"Gamma\" @Gamma 10-25 10:00 | retained: active at the start and at the end (won deal D9 closed 2026-10-25 10:00)",
		"n client amo/K5 \"Karl\" @Karl | not active at the start: no won deal in the 365 days before it",
	}},
	{"boris@example.com", "key_client_growth", "100 × (60,000 − 40,000) / 40,000 RUB = 50, over 1 key client", []string{
		"Y deal amo/D6 \"Gamma pilot\" @Gamma 09-10 10:00 [Won] 40000 RUB=40000 | won in the previous period",
		"Y deal amo/D9 \"Gamma rollout\" @Gamma 10-25 10:00 [Won] 60000 RUB=60000 | won in the period",
		"Y client amo/C3 \"Gamma\" @Gamma | key client: #1 by revenue in the 365 days before the period (40,000 RUB); 60,000 RUB in the period, 40,000 RUB in the previous",
	}},
	{"boris@example.com", "penetration", "100 × 150,000 RUB expansion / 150,000 RUB revenue = 100", []string{
		"Y deal amo/D3 \"Acme upsell\" @Acme 10-20 10:00 [Won] 1000 USD=90000 | expansion: counts in expansion revenue and in revenue (D2, closed 2026-10-01 01:00)",
		"Y deal amo/D9 \"Gamma rollout\" @Gamma 10-25 10:00 [Won] 60000 RUB=60000 | expansion: counts in expansion revenue and in revenue (D6, closed 2026-09-10 10:00)",
		"n deal amo/D8 \"Karl deal\" @Karl 11-01 00:30 [Won] 20000 RUB=20000 | closed after the period",
	}},
	{"boris@example.com", "closed_won", "2 won deals", []string{
		"Y deal amo/D3 \"Acme upsell\" @Acme 10-20 10:00 [Won] 1000 USD=90000 | won in the period",
		"Y deal amo/D9 \"Gamma rollout\" @Gamma 10-25 10:00 [Won] 60000 RUB=60000 | won in the period",
		"n deal amo/D7 \"Gamma lost\" @Gamma 10-15 10:00 [Lost] 70000 RUB=70000 | lost in the period: counts in the win rate only",
		"n deal amo/D8 \"Karl deal\" @Karl 11-01 00:30 [Won] 20000 RUB=20000 | closed after the period",
	}},
	{"boris@example.com", "response_time", "median of 1 inbound [0] = 0 h", []string{
		"Y activity amo/10 \"inbound message: Chat\" @Karl 10-12 10:00 (0) | answered after 0 h by meeting 11 at 2026-10-12 10:00",
	}},
	{"boris@example.com", "team_contribution", "entered by hand in scoring.manual for 2026-10: 3; the records give 0 completed tasks tagged #team", nil},
	{"boris@example.com", "new_deals", "0 new-business deals", []string{
		"n deal amo/D3 \"Acme upsell\" @Acme 10-20 10:00 [Won] 1000 USD=90000 | expansion: the client had a won deal before (D2, closed 2026-10-01 01:00)",
		"n deal amo/D9 \"Gamma rollout\" @Gamma 10-25 10:00 [Won] 60000 RUB=60000 | expansion: the client had a won deal before (D6, closed 2026-09-10 10:00)",
		"n deal amo/D8 \"Karl deal\" @Karl 11-01 00:30 [Won] 20000 RUB=20000 | closed after the period",
	}},
	{"boris@example.com", "cost_per_client", "(2,120 activities + 2,000 deal expenses + 3,000 fixed) RUB / 3 clients = 2,373", []string{
		"Y activity amo/0 \"inbound email: Question\" @Acme 10-05 10:00 (50) | email: costs 50 RUB",
		"Y activity amo/2 \"outbound email: Reply\" @Acme 10-05 11:00 (50) | email: costs 50 RUB",
		"Y activity amo/10 \"inbound message: Chat\" @Karl 10-12 10:00 (20) | message: costs 20 RUB",
		"Y activity amo/11 \"meeting: Visit\" @Karl 10-12 10:00 (2000) | meeting: costs 2,000 RUB",
		"Y deal amo/D9 \"Gamma rollout\" @Gamma 10-25 10:00 [Won] 2000 RUB=2000 | expense of a deal won in the period",
		"Y client amo/C1 \"Acme\" @Acme | served in the period: 2 activities, 1 won deal",
		"Y client amo/C3 \"Gamma\" @Gamma | served in the period: 0 activities, 1 won deal",
		"Y client amo/K5 \"Karl\" @Karl | served in the period: 2 activities, 0 won deals",
	}},
	{"hub:11", "satisfaction", "n/a: no NPS answers in the period", []string{
		"n contact hub/HK2 \"Hugo\" @Eps 10-02 12:00 (11) | score 11 is not an NPS answer (0-10)",
		"n contact hub/HK3 \"Hedy\" @Eps 11-01 00:00 (0) | answered after the period",
	}},
	{"hub:11", "retention", "100 × 0 retained / 1 client active at the start = 0", []string{
		"Y client hub/H3 \"Eta\" @Eta 10-20 10:00 | lost: active at the start (won deal HD6 closed 2025-10-20 10:00), no won deal in the 365 days before the end",
		"n client hub/H2 \"Eps\" @Eps 10-12 10:00 | not active at the start: no won deal in the 365 days before it",
	}},
	{"hub:11", "key_client_growth", "n/a: no key clients", nil},
	{"hub:11", "penetration", "n/a: no revenue in the period", []string{
		"n deal hub/HD3 \"Eps deal\" @Eps 10-12 10:00 [Won] 10000  | its currency is unknown: left out of revenue",
	}},
	{"hub:11", "closed_won", "1 won deal", []string{
		"Y deal hub/HD3 \"Eps deal\" @Eps 10-12 10:00 [Won] 10000  | won in the period; its currency is unknown, so it is left out of revenue only",
		"n deal hub/HD5 \"Eps open\" @Eps 10-20 10:00 [Open] 9000 RUB=9000 | open: not closed",
	}},
	{"hub:11", "response_time", "n/a: no inbound activity in the period", nil},
	{"hub:11", "team_contribution", "0 completed tasks tagged #team", nil},
	{"hub:11", "new_deals", "1 new-business deal", []string{
		"Y deal hub/HD3 \"Eps deal\" @Eps 10-12 10:00 [Won] 10000  | new business: the client's first won deal",
	}},
	{"hub:11", "cost_per_client", "(0 activities + 0 deal expenses + 3,000 fixed) RUB / 1 client = 3,000", []string{
		"Y client hub/H2 \"Eps\" @Eps | served in the period: 0 activities, 1 won deal",
	}},
	{"amo:99", "satisfaction", "n/a: no NPS answers in the period", nil},
	{"amo:99", "retention", "n/a: no active clients at the start of the period", nil},
	{"amo:99", "key_client_growth", "n/a: no key clients", nil},
	{"amo:99", "penetration", "n/a: no revenue in the period", nil},
	{"amo:99", "closed_won", "0 won deals", []string{
		"n deal amo/D13 \"Zeta next\" @Zeta 10-20 10:00 [Open] 10000 RUB=10000 | open: not closed",
	}},
	{"amo:99", "response_time", "n/a: no inbound activity in the period", nil},
	{"amo:99", "team_contribution", "0 completed tasks tagged #team", nil},
	{"amo:99", "new_deals", "0 new-business deals", nil},
	{"amo:99", "cost_per_client", "n/a: no client served in the period", nil},
}

// TestExplainFixture explains every KPI of every manager of the fixture,
// stored in each warehouse with names, the deleted deal D10 and record
// links, and checks that each explained value and reason are the scored
// ones exactly, and the formula and records those worked out by hand.
func TestExplainFixture(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		storeExplainFixture(t, s)
		r, err := Compute(ctx, s, fixtureOptions(), fixturePeriod())
		if err != nil {
			t.Fatal(err)
		}
		scored := map[string]map[string]*KPI{}
		for _, sc := range r.Managers {
			scored[sc.Manager] = sc.KPIs
		}
		for _, tc := range explainCases {
			t.Run(tc.manager+"/"+tc.kpi, func(t *testing.T) {
				e, err := Explain(ctx, s, fixtureOptions(), fixturePeriod(), tc.manager, tc.kpi)
				if err != nil {
					t.Fatalf("Explain: %v", err)
				}
				k := scored[tc.manager][tc.kpi]
				if !sameValue(e.Value, k.Value) || !sameReason(e.Reason, k.Reason) {
					t.Errorf("explained %v (%v), scored %v (%v): want them equal", show(e.Value), showS(e.Reason), show(k.Value), showS(k.Reason))
				}
				if e.Formula != tc.formula {
					t.Errorf("formula = %q, want %q", e.Formula, tc.formula)
				}
				var got []string
				for _, rec := range e.Records {
					got = append(got, line(rec))
				}
				if diff := cmp.Diff(tc.records, got); diff != "" {
					t.Errorf("records mismatch (-want +got):\n%s", diff)
				}
			})
		}
	})
}

// sameValue is exact equality of two KPI values: the same bits, or both
// nil.
func sameValue(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func sameReason(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func show(v *float64) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprint(*v)
}

func showS(v *string) string {
	if v == nil {
		return "nil"
	}
	return *v
}

// TestExplainRecords checks what the one-line form leaves out, on SQLite:
// the explanation's own fields, a record whole (its close time in the
// configured zone, its link), and the links of records of every kind,
// an activity without a page of its own opening through its company or
// contact.
func TestExplainRecords(t *testing.T) {
	s := warehousetest.NewSQLite(t)
	storeExplainFixture(t, s)
	ctx := context.Background()
	e, err := Explain(ctx, s, fixtureOptions(), fixturePeriod(), "Anna@Example.com", kpi.ClosedWon)
	if err != nil {
		t.Fatal(err)
	}
	head := *e
	head.Records = nil
	want := Explanation{Manager: "anna@example.com", Name: "Anna Petrova", KPI: "closed_won", Label: "Successfully closed deals",
		Unit: "deals", Period: fixturePeriod(), Currency: "RUB", Value: f64(4), Formula: "4 won deals"}
	if diff := cmp.Diff(want, head); diff != "" {
		t.Errorf("explanation mismatch (-want +got):\n%s", diff)
	}
	closed := mskTime(2026, 10, 1, 1, 0)
	wantD2 := ExplainedRecord{Kind: "deal", Connector: "amo", ID: "D2", Name: "Acme renewal", Client: "Acme", Time: &closed,
		Stage: "Won", Amount: f64(50000), Currency: "RUB", Reporting: f64(50000), Owner: "anna@example.com",
		Counts: true, Why: "won in the period", Link: "https://example.amocrm.ru/leads/detail/D2"}
	if diff := cmp.Diff(wantD2, e.Records[0]); diff != "" {
		t.Errorf("record D2 mismatch (-want +got):\n%s", diff)
	}
	if loc := e.Records[0].Time.Location(); loc.String() != "Europe/Moscow" {
		t.Errorf("close time in %s, want Europe/Moscow", loc)
	}

	links := map[string]string{}
	for _, key := range kpi.Keys {
		e, err := Explain(ctx, s, fixtureOptions(), fixturePeriod(), "anna@example.com", key)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range e.Records {
			links[r.Kind+" "+r.Connector+"/"+r.ID] = r.Link
		}
	}
	for rec, link := range map[string]string{
		"deal hub/HD2":    "https://app.hubspot.com/contacts/42/record/0-3/HD2",
		"client hub/H1":   "https://app.hubspot.com/contacts/42/record/0-2/H1",
		"client amo/C1":   "https://example.amocrm.ru/companies/detail/C1",
		"contact amo/K1":  "https://example.amocrm.ru/contacts/detail/K1",
		"contact hub/HK1": "https://app.hubspot.com/contacts/42/record/0-1/HK1",
		// HubSpot's meetings and e-mails have pages of their own.
		"activity hub/4": "https://app.hubspot.com/contacts/42/record/0-47/4",
		"activity hub/9": "https://app.hubspot.com/contacts/42/record/0-49/9",
		// A HubSpot message has none: it opens through its contact; an
		// amoCRM e-mail through its company.
		"activity hub/3": "https://app.hubspot.com/contacts/42/record/0-1/HK1",
		"activity amo/0": "https://example.amocrm.ru/companies/detail/C1",
		// A task with nothing to open through has no link.
		"activity amo/12": "",
	} {
		if got, ok := links[rec]; !ok || got != link {
			t.Errorf("link of %s = %q (listed %v), want %q", rec, got, ok, link)
		}
	}
}

// TestExplainNoScorecard explains managers without a scorecard: no value,
// as score has none, and the reason why.
func TestExplainNoScorecard(t *testing.T) {
	d := fixtureData()
	opts := fixtureOptions()
	opts.Exclude = []string{"Boris@example.com"}
	for _, tt := range []struct{ manager, reason string }{
		// Dora is deleted and owns only a deal of 2024; Eve owns nothing.
		{"dora@example.com", reasonIneligible},
		{"hub:12", reasonIneligible},
		{"boris@example.com", reasonExcluded},
	} {
		e, err := Explain(context.Background(), d, opts, fixturePeriod(), tt.manager, kpi.ClosedWon)
		if err != nil {
			t.Fatalf("Explain(%s): %v", tt.manager, err)
		}
		if e.Value != nil || e.Reason == nil || *e.Reason != tt.reason || e.Formula != tt.reason {
			t.Errorf("Explain(%s) = %v, %s, %q; want no value and %q", tt.manager, show(e.Value), showS(e.Reason), e.Formula, tt.reason)
		}
	}
}

// TestExplainErrors: an unknown KPI and a manager no CRM user is are
// typed errors, which crmkpi explain turns into usage errors.
func TestExplainErrors(t *testing.T) {
	ctx := context.Background()
	_, err := Explain(ctx, fixtureData(), fixtureOptions(), fixturePeriod(), "anna@example.com", "closed_lost")
	var uk *UnknownKPIError
	if !errors.As(err, &uk) || uk.Key != "closed_lost" {
		t.Errorf("Explain(closed_lost) = %v, want an UnknownKPIError", err)
	}
	_, err = Explain(ctx, fixtureData(), fixtureOptions(), fixturePeriod(), "nobody@example.com", kpi.ClosedWon)
	var um *UnknownManagerError
	if !errors.As(err, &um) || um.Key != "nobody@example.com" {
		t.Errorf("Explain(nobody) = %v, want an UnknownManagerError", err)
	}
}

// TestExplainMatchesCompute explains every KPI of every manager of random
// warehouses (the fuzz test's generator) and checks that each value and
// reason is the scored one bit for bit, and that the records that count
// are as many as the figure says where it is a count of records.
func TestExplainMatchesCompute(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(12) {
		d := unique(randomDataset(rand.New(rand.NewPCG(seed, 99)), 25))
		opts := Options{Currency: "RUB", FXRates: map[string]float64{"USD": 90}, KeyClientsTop: 2, Now: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
			KeyClientConnectors: map[string]bool{"b": true}, Costs: map[string]float64{CostMonthly: 100}}
		p := Period{Kind: Month, Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
		r := computeFrom(d, opts, p)
		if len(r.Managers) == 0 {
			t.Fatalf("seed %d: no scorecards", seed)
		}
		for _, sc := range r.Managers {
			for _, key := range kpi.Keys {
				e, err := Explain(ctx, d, opts, p, sc.Manager, key)
				if err != nil {
					t.Fatalf("seed %d: Explain(%s, %s): %v", seed, sc.Manager, key, err)
				}
				k := sc.KPIs[key]
				if !sameValue(e.Value, k.Value) || !sameReason(e.Reason, k.Reason) {
					t.Errorf("seed %d %s %s: explained %s (%s), scored %s (%s)", seed, sc.Manager, key, show(e.Value), showS(e.Reason), show(k.Value), showS(k.Reason))
				}
				n := 0
				for _, rec := range e.Records {
					if rec.Counts {
						n++
					}
				}
				var want any
				switch key {
				case kpi.ClosedWon, kpi.NewDeals, kpi.TeamContribution:
					if !k.Manual {
						want = *k.Value
					}
				case kpi.Satisfaction:
					want = k.Details["answers"]
				case kpi.Retention:
					want = k.Details["active_start"]
				case kpi.ResponseTime:
					want = k.Details["inbound"]
				}
				if want != nil && fmt.Sprint(want) != fmt.Sprint(n) {
					t.Errorf("seed %d %s %s: %d records count, the figure says %v", seed, sc.Manager, key, n, want)
				}
			}
		}
	}
}
