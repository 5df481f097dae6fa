package scoring

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/warehouse/rows"
)

// October 2026 in UTC, for the small cases below.
var (
	octUTC = Period{Kind: Month, Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	oct    = func(d, h int) time.Time { return time.Date(2026, 10, d, h, 0, 0, 0, time.UTC) }
)

// mini is one manager "m@x" (amo/1) with company C1 of their own and the
// given deals and activities.
func mini(deals []rows.Deal, acts []rows.Activity) *dataset {
	return &dataset{
		Users:      []rows.User{user("amo", "1", "m@x", "M")},
		Companies:  []rows.Company{{Connector: "amo", ID: "C1", OwnerID: "1"}},
		Deals:      deals,
		Activities: acts,
	}
}

func wonDeal(id string, amount float64, currency string, closed time.Time) rows.Deal {
	return rows.Deal{Connector: "amo", ID: id, Status: rows.DealWon, Amount: nf(amount), Currency: currency,
		OwnerID: "1", CompanyID: "C1", CreatedAt: closed.Add(-24 * time.Hour), ClosedAt: nt(closed)}
}

// TestNotEnoughData has one case per "n/a" rule of KPIS.md: the KPI has no
// value, no attainment, the reason, and its weight is left out of the score.
func TestNotEnoughData(t *testing.T) {
	inP := wonDeal("D1", 1000, "RUB", oct(10, 12))
	tests := []struct {
		name   string
		data   *dataset
		kpi    string
		reason string
	}{
		{"no NPS answers", mini([]rows.Deal{inP}, nil), kpi.Satisfaction, reasonNoAnswers},
		{"no active clients at start", mini([]rows.Deal{inP}, nil), kpi.Retention, reasonNoActive},
		{"no key clients", mini([]rows.Deal{inP}, nil), kpi.KeyClientGrowth, reasonNoKeyClients},
		{"no key-client revenue in P-1", mini([]rows.Deal{wonDeal("D0", 500, "RUB", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)), inP}, nil),
			kpi.KeyClientGrowth, reasonNoKeyRevenue},
		{"no revenue in P: nothing won", mini(nil, []rows.Activity{{Connector: "amo", Type: "call", Direction: "outbound", OwnerID: "1", CompanyID: "C1", OccurredAt: oct(3, 10)}}),
			kpi.Penetration, reasonNoRevenue},
		{"no revenue in P: only a currency with no rate", mini([]rows.Deal{wonDeal("D1", 1000, "EUR", oct(10, 12))}, nil), kpi.Penetration, reasonNoRevenue},
		{"no inbound activity", mini([]rows.Deal{inP}, nil), kpi.ResponseTime, reasonNoInbound},
		{"no client served", mini([]rows.Deal{wonDeal("D0", 500, "RUB", time.Date(2026, 9, 15, 0, 0, 0, 0, time.UTC))}, nil), kpi.CostPerClient, reasonNoClientServed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := computeFrom(tt.data, Options{Currency: "RUB"}, octUTC)
			if len(r.Managers) != 1 {
				t.Fatalf("got %d scorecards, want 1", len(r.Managers))
			}
			sc := r.Managers[0]
			k := sc.KPIs[tt.kpi]
			if k.Value != nil || k.Attainment != nil || k.Reason == nil || *k.Reason != tt.reason {
				t.Errorf("%s = value %v, attainment %v, reason %v; want nil, nil, %q", tt.kpi, k.Value, k.Attainment, k.Reason, tt.reason)
			}
			checkScore(t, sc)
		})
	}
}

// checkScore recomputes the weighted score from the KPIs shown.
func checkScore(t *testing.T, sc Scorecard) {
	t.Helper()
	var sum, w float64
	for _, key := range kpi.Keys {
		k := sc.KPIs[key]
		if k.Value != nil && k.Weight > 0 {
			sum += k.Weight * *k.Attainment
			w += k.Weight
		}
	}
	if w == 0 {
		if sc.Score != nil {
			t.Errorf("score = %v with no weighted KPI, want nil", *sc.Score)
		}
		return
	}
	if sc.Score == nil || math.Abs(*sc.Score-sum/w) > 1e-9 {
		t.Errorf("score = %v, want %v", sc.Score, sum/w)
	}
}

// TestNoRateStillCounts: a won deal in a currency with no rate counts in
// closed_won and new_deals, and the run warns once per currency.
func TestNoRateStillCounts(t *testing.T) {
	d := mini([]rows.Deal{wonDeal("D1", 1000, "eur", oct(10, 12)), wonDeal("D2", 1000, "EUR", oct(11, 12)), wonDeal("D3", 10, "CNY", oct(12, 12))}, nil)
	r := computeFrom(d, Options{Currency: "RUB"}, octUTC)
	sc := r.Managers[0]
	if got := *sc.KPIs[kpi.ClosedWon].Value; got != 3 {
		t.Errorf("closed_won = %v, want 3", got)
	}
	if got := *sc.KPIs[kpi.NewDeals].Value; got != 1 {
		t.Errorf("new_deals = %v, want 1", got)
	}
	want := []string{
		"no fx rate for CNY into RUB: 1 won deal(s) left out of revenue and cost figures",
		"no fx rate for EUR into RUB: 2 won deal(s) left out of revenue and cost figures",
	}
	if diff := cmp.Diff(want, r.Warnings); diff != "" {
		t.Errorf("Warnings mismatch (-want +got):\n%s", diff)
	}
}

// TestUnknownCurrency: a won deal with no currency is of unknown currency,
// never the reporting currency at rate 1. It counts in closed_won and
// new_deals and is left out of every money figure, with one warning.
//
// m@x owns C1, C2 and C3 (UTC, October 2026, key_clients.top 1):
//
//	D0  C1 50000 RUB closed 03-01: C1's lookback revenue 50000
//	D0b C2 80000 ""  closed 04-01: unknown, so C2 ranks with 0 and C1 is
//	    the one key client (at rate 1, C2 would be)
//	D3  C1   500 RUB closed 09-10 (P-1)
//	D1  C1  1000 RUB closed 10-10 (P, expansion)
//	D2  C2  5000 ""  closed 10-12 (P, expansion, expense 700 left out)
//	D4  C3  3000 " " closed 10-15 (P, new business: C3's first win)
//
// closed_won 3, new_deals 1; revenue 1000 (D1) all expansion → penetration
// 100; key clients {C1}: 1000 vs 500 → growth 100; cost 0 over C1, C2, C3
// → 0. D0b, D2 and D4 are left out: one warning, 3 deals.
func TestUnknownCurrency(t *testing.T) {
	d := mini([]rows.Deal{
		wonDeal("D0", 50000, "RUB", time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
		wonDeal("D3", 500, "RUB", time.Date(2026, 9, 10, 12, 0, 0, 0, time.UTC)),
		wonDeal("D1", 1000, "RUB", oct(10, 12)),
	}, nil)
	d.Companies = append(d.Companies, rows.Company{Connector: "amo", ID: "C2", OwnerID: "1"}, rows.Company{Connector: "amo", ID: "C3", OwnerID: "1"})
	on := func(dl rows.Deal, company string) rows.Deal { dl.CompanyID = company; return dl }
	d2 := on(wonDeal("D2", 5000, "", oct(12, 12)), "C2")
	d2.Expense = nf(700)
	d.Deals = append(d.Deals, on(wonDeal("D0b", 80000, "", time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)), "C2"), d2,
		on(wonDeal("D4", 3000, " ", oct(15, 12)), "C3"))
	r := computeFrom(d, Options{Currency: "RUB", KeyClientsTop: 1}, octUTC)
	if len(r.Managers) != 1 {
		t.Fatalf("got %d scorecards, want 1", len(r.Managers))
	}
	got := map[string]any{}
	for key, k := range r.Managers[0].KPIs {
		if k.Value != nil {
			got[key] = *k.Value
		}
	}
	want := map[string]any{
		kpi.ClosedWon: 3.0, kpi.NewDeals: 1.0, kpi.Penetration: 100.0, kpi.KeyClientGrowth: 100.0,
		kpi.CostPerClient: 0.0, kpi.Retention: 100.0, kpi.TeamContribution: 0.0,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values mismatch (-want +got):\n%s", diff)
	}
	ks := r.Managers[0].KPIs
	wantDetails := map[string]map[string]any{
		kpi.ClosedWon:       {"won": 3, "lost": 0, "win_rate": 100.0, "revenue": 1000.0},
		kpi.Penetration:     {"revenue": 1000.0, "expansion_revenue": 1000.0},
		kpi.KeyClientGrowth: {"key_clients": 1, "revenue": 1000.0, "revenue_previous": 500.0},
		kpi.CostPerClient:   {"cost": 0.0, "clients": 3},
	}
	for key, w := range wantDetails {
		if diff := cmp.Diff(w, ks[key].Details); diff != "" {
			t.Errorf("%s details mismatch (-want +got):\n%s", key, diff)
		}
	}
	wantWarn := []string{"3 won deal(s) with unknown currency left out of revenue and cost figures"}
	if diff := cmp.Diff(wantWarn, r.Warnings); diff != "" {
		t.Errorf("Warnings mismatch (-want +got):\n%s", diff)
	}
}

func TestAttainment(t *testing.T) {
	tests := []struct {
		v, target float64
		lower     bool
		want      float64
	}{
		{8, 8, false, 100},
		{4, 8, false, 50},
		{20, 8, false, 150},
		{0, 8, false, 0},
		{-30, 50, false, 0},
		{2, 4, true, 150},
		{8, 4, true, 50},
		{0, 4, true, 150},
		{5, 0, false, 150},
		{0, 0, false, 0},
		{5, 0, true, 0},
		{0, 0, true, 150},
		{math.MaxFloat64, 1e-300, false, 150},
	}
	for _, tt := range tests {
		if got := attainment(tt.v, tt.target, tt.lower, 150); got != tt.want {
			t.Errorf("attainment(%v, %v, lower=%v) = %v, want %v", tt.v, tt.target, tt.lower, got, tt.want)
		}
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		score *float64
		want  string
	}{
		{nil, StatusNone},
		{f64(150), StatusGreen},
		{f64(100), StatusGreen},
		{f64(99.96), StatusAmber}, // decided unrounded, whatever a table shows
		{f64(99.999999), StatusAmber},
		{f64(80), StatusAmber},
		{f64(79.999), StatusRed},
		{f64(0), StatusRed},
		{f64(-5), StatusRed},
		// No number that can be written, no status.
		{f64(math.NaN()), StatusNone},
		{f64(math.Inf(1)), StatusNone},
		{f64(math.Inf(-1)), StatusNone},
	}
	for _, tt := range tests {
		if got := StatusOf(tt.score); got != tt.want {
			t.Errorf("StatusOf(%v) = %q, want %q", tt.score, got, tt.want)
		}
	}
}

// TestCompareBoard: best first, the unscored last, ties by name then key,
// a blank name read as the key.
func TestCompareBoard(t *testing.T) {
	board := []Scorecard{
		{Manager: "u5", Name: "Eve"},
		{Manager: "u2", Name: "Bob", Score: f64(90)},
		{Manager: "u4", Name: "Ann", Score: f64(90)},
		{Manager: "u1", Name: "Cid", Score: f64(101.5)},
		{Manager: "u3", Name: " ", Score: f64(90)}, // reads "u3"
		{Manager: "u6", Name: "Ann", Score: f64(90)},
		{Manager: "u7", Name: "Dan", Score: f64(math.NaN())},
		{Manager: "u0", Name: "Eve"},
	}
	slices.SortStableFunc(board, func(a, b Scorecard) int { return CompareBoard(&a, &b) })
	var got []string
	for _, sc := range board {
		got = append(got, sc.Manager)
	}
	want := []string{"u1", "u4", "u6", "u2", "u3", "u7", "u0", "u5"}
	if !slices.Equal(got, want) {
		t.Errorf("board order %v, want %v", got, want)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{
		{[]float64{5}, 5},
		{[]float64{168, 1}, 84.5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.xs); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

func TestMonthShare(t *testing.T) {
	msk := fixtureLoc
	tests := []struct {
		spec string
		want float64
	}{
		{"2026-10", 1},
		{"2026-02", 1},
		{"2026-Q3", 3},
		{"2026-W43", 7.0 / 31},        // 19-25 October
		{"2026-W44", 6.0/31 + 1.0/30}, // 26 October - 1 November
		{"2026-W01", 4.0/31 + 3.0/31}, // 29 December 2025 - 4 January 2026
		{"2024-W09", 4.0/29 + 3.0/31}, // 26 February - 3 March 2024, a leap year
		{"2026-W13", 7.0 / 31},        // 23-29 March, across no DST in Moscow
		{"2026-W14", 2.0/31 + 5.0/30}, // 30 March - 5 April
		{"2026-Q1", 3},
	}
	for _, tt := range tests {
		p, err := ParsePeriod(tt.spec, Month, msk, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got := monthShare(p, msk); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("monthShare(%s) = %v, want %v", tt.spec, got, tt.want)
		}
	}
	// A week across the Berlin DST change still counts whole days.
	berlin := mustLoad(t, "Europe/Berlin")
	p, _ := ParsePeriod("2026-W13", Month, berlin, time.Now()) // 23-29 March, DST on the 29th
	if got := monthShare(p, berlin); math.Abs(got-7.0/31) > 1e-12 {
		t.Errorf("monthShare(2026-W13 Berlin) = %v, want 7/31", got)
	}
}

// TestResponseTimeRules checks the answer rules one by one on client C1.
func TestResponseTimeRules(t *testing.T) {
	inbound := rows.Activity{Connector: "amo", Type: "email", Direction: "inbound", CompanyID: "C1", OccurredAt: oct(31, 20)}
	answer := func(typ, dir, owner string, at time.Time) rows.Activity {
		return rows.Activity{Connector: "amo", Type: typ, Direction: dir, OwnerID: owner, CompanyID: "C1", OccurredAt: at}
	}
	dial := func(connected bool, at time.Time) rows.Activity {
		a := answer("call", "outbound", "1", at)
		a.DidNotConnect = !connected
		return a
	}
	tests := []struct {
		name       string
		acts       []rows.Activity
		want       float64
		unanswered int
	}{
		{"same instant", []rows.Activity{answer("call", "outbound", "1", oct(31, 20))}, 0, 0},
		{"after P", []rows.Activity{answer("message", "outbound", "1", oct(31, 20).Add(30*time.Hour))}, 30, 0},
		{"meeting", []rows.Activity{answer("meeting", "", "1", oct(31, 21))}, 1, 0},
		{"colleague's answer", []rows.Activity{answer("call", "outbound", "2", oct(31, 21))}, 168, 1},
		{"inbound is no answer", []rows.Activity{answer("call", "inbound", "1", oct(31, 20).Add(5*time.Hour))}, 168, 1},
		{"note is no answer", []rows.Activity{answer("note", "", "1", oct(31, 21))}, 168, 1},
		{"earlier answer", []rows.Activity{answer("call", "outbound", "1", oct(31, 19))}, 168, 1},
		{"exactly 168 h", []rows.Activity{answer("email", "outbound", "1", oct(31, 20).Add(168*time.Hour))}, 168, 0},
		{"after 168 h", []rows.Activity{answer("email", "outbound", "1", oct(31, 20).Add(169*time.Hour))}, 168, 1},
		{"dial that did not connect", []rows.Activity{dial(false, oct(31, 21))}, 168, 1},
		{"call that connected", []rows.Activity{dial(true, oct(31, 21))}, 1, 0},
		{"failed dial, then a connected call", []rows.Activity{dial(false, oct(31, 21)), dial(true, oct(31, 23))}, 3, 0},
		{"task is no answer", []rows.Activity{answer("task", "", "1", oct(31, 21))}, 168, 1},
		{"first of several", []rows.Activity{answer("email", "outbound", "1", oct(31, 23)), answer("email", "outbound", "1", oct(31, 22))}, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A client active at the start makes m@x eligible whatever
			// the activities.
			d := mini([]rows.Deal{wonDeal("D0", 1, "RUB", oct(1, 0).AddDate(0, -1, 0))}, append([]rows.Activity{inbound}, tt.acts...))
			d.Users = append(d.Users, user("amo", "2", "colleague@x", ""))
			r := computeFrom(d, Options{}, octUTC)
			var sc *Scorecard
			for i := range r.Managers {
				if r.Managers[i].Manager == "m@x" {
					sc = &r.Managers[i]
				}
			}
			if sc == nil {
				t.Fatalf("no scorecard for m@x in %+v", r.Managers)
			}
			k := sc.KPIs[kpi.ResponseTime]
			if k.Value == nil || *k.Value != tt.want || k.Details["unanswered"] != tt.unanswered {
				t.Errorf("response_time = %v, details %v; want %v, unanswered %d", k.Value, k.Details, tt.want, tt.unanswered)
			}
		})
	}
}

// TestActivityClient checks the four-step client of an activity through
// the manager it is attributed to.
func TestActivityClient(t *testing.T) {
	d := &dataset{
		Users: []rows.User{user("amo", "1", "a@x", ""), user("amo", "2", "b@x", ""),
			user("amo", "3", "c@x", ""), user("amo", "4", "d@x", "")},
		Companies: []rows.Company{{Connector: "amo", ID: "CA", OwnerID: "1"}, {Connector: "amo", ID: "CB", OwnerID: "2"}, {Connector: "amo", ID: "CC", OwnerID: "3"}},
		Contacts: []rows.Contact{{Connector: "amo", ID: "KC", CompanyID: "CC", OwnerID: "4"},
			{Connector: "amo", ID: "KD", OwnerID: "4"}},
		Deals: []rows.Deal{{Connector: "amo", ID: "DB", Status: rows.DealOpen, CompanyID: "CB", OwnerID: "2", CreatedAt: oct(1, 1)}},
	}
	in := func(company, deal, contact string) rows.Activity {
		return rows.Activity{Connector: "amo", Type: "call", Direction: "inbound", CompanyID: company, DealID: deal, ContactID: contact, OccurredAt: oct(5, 10)}
	}
	d.Activities = []rows.Activity{
		in("CA", "DB", "KC"), // its company: CA → a@x
		in("", "DB", "KC"),   // its deal's client: CB → b@x
		in("", "", "KC"),     // its contact's company: CC → c@x
		in("", "", "KD"),     // its contact: KD → d@x
		in("", "", ""),       // no client: nobody
		in("GONE", "", "KD"), // a company not in the warehouse is skipped → KD → d@x
	}
	// A note of each manager's own in P makes all four eligible.
	for _, u := range []string{"1", "2", "3", "4"} {
		d.Activities = append(d.Activities, rows.Activity{Connector: "amo", Type: "note", OwnerID: u, OccurredAt: oct(2, 10)})
	}
	r := computeFrom(d, Options{}, octUTC)
	got := map[string]any{}
	for _, sc := range r.Managers {
		got[sc.Manager] = sc.KPIs[kpi.ResponseTime].Details["inbound"]
	}
	want := map[string]any{"a@x": 1, "b@x": 1, "c@x": 1, "d@x": 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inbound per manager mismatch (-want +got):\n%s", diff)
	}
}

// fakeSource serves a dataset, records the activity window asked for and
// fails ScanUsers with err.
type fakeSource struct {
	*dataset
	err      error
	from, to time.Time
}

func (f *fakeSource) ScanUsers(ctx context.Context, fn func(*rows.User) error) error {
	if f.err != nil {
		return f.err
	}
	return f.dataset.ScanUsers(ctx, fn)
}

func (f *fakeSource) ScanActivities(ctx context.Context, from, to time.Time, fn func(*rows.Activity) error) error {
	f.from, f.to = from, to
	return f.dataset.ScanActivities(ctx, from, to, fn)
}

func TestCompute(t *testing.T) {
	src := &fakeSource{dataset: fixtureData()}
	p := fixturePeriod()
	got, err := Compute(context.Background(), src, fixtureOptions(), p)
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	if diff := cmp.Diff(wantFixture(), got, approx); diff != "" {
		t.Errorf("Compute(fixture) mismatch (-want +got):\n%s", diff)
	}
	if wantFrom, wantTo := p.Previous().Start, p.End.Add(168*time.Hour); !src.from.Equal(wantFrom) || !src.to.Equal(wantTo) {
		t.Errorf("ScanActivities(%v, %v), want (%v, %v)", src.from, src.to, wantFrom, wantTo)
	}

	boom := errors.New("boom")
	if _, err := Compute(context.Background(), &fakeSource{dataset: fixtureData(), err: boom}, Options{}, p); !errors.Is(err, boom) {
		t.Errorf("Compute with a failing source = %v, want %v wrapped", err, boom)
	}
	if _, err := Compute(context.Background(), src, Options{}, Period{Kind: Month, Start: p.End, End: p.Start}); err == nil {
		t.Errorf("Compute with an empty period = nil error, want one")
	}
}

func TestRows(t *testing.T) {
	r := computeFrom(fixtureData(), fixtureOptions(), fixturePeriod())
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	got := Rows(r, at)
	if want := len(r.Managers) * (len(kpi.Keys) + 1); len(got) != want {
		t.Fatalf("Rows: %d rows, want %d", len(got), want)
	}
	// Carl: satisfaction n/a first, then the score last.
	var carl []rows.Scorecard
	for _, row := range got {
		if row.Manager == "hub:11" {
			carl = append(carl, row)
		}
	}
	start := fixturePeriod().Start
	want0 := rows.Scorecard{PeriodKind: "month", PeriodStart: start, Manager: "hub:11", KPI: kpi.Satisfaction,
		Target: f64(50), Reason: reasonNoAnswers, ComputedAt: at}
	wantScore := rows.Scorecard{PeriodKind: "month", PeriodStart: start, Manager: "hub:11", KPI: KPIScore,
		Value: f64(2437.5 / 60), ComputedAt: at}
	if diff := cmp.Diff([]rows.Scorecard{want0, wantScore}, []rows.Scorecard{carl[0], carl[len(kpi.Keys)]}, approx); diff != "" {
		t.Errorf("Rows mismatch (-want +got):\n%s", diff)
	}
}

func TestReportJSON(t *testing.T) {
	r := computeFrom(fixtureData(), fixtureOptions(), fixturePeriod())
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Period struct {
			Kind  string `json:"kind"`
			Start string `json:"start"`
			End   string `json:"end"`
		} `json:"period"`
		Currency string `json:"currency"`
		Managers []struct {
			Manager string                     `json:"manager"`
			Score   float64                    `json:"score"`
			Status  string                     `json:"status"`
			KPIs    map[string]json.RawMessage `json:"kpis"`
		} `json:"managers"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Period.Start != "2026-10-01T00:00:00+03:00" || got.Period.End != "2026-11-01T00:00:00+03:00" || got.Currency != "RUB" {
		t.Errorf("period %+v currency %q", got.Period, got.Currency)
	}
	// Full precision: 100/3 and 200/3 as float64 print them, the score
	// as the fixture computes it.
	anna := got.Managers[0]
	if anna.Manager != "anna@example.com" || anna.Score != 80.63875550220088 || anna.Status != "amber" || len(anna.KPIs) != len(kpi.Keys) {
		t.Errorf("anna = %s score %v status %s, %d KPIs; want anna@example.com 80.63875550220088 amber, %d", anna.Manager, anna.Score, anna.Status, len(anna.KPIs), len(kpi.Keys))
	}
	want := `{"label":"Customer satisfaction","unit":"nps_points","lower_is_better":false,` +
		`"value":33.333333333333336,"target":50,"attainment":66.66666666666667,"weight":10,"previous":100,"reason":null,` +
		`"details":{"answers":3,"detractors":1,"promoters":2}}`
	if string(anna.KPIs[kpi.Satisfaction]) != want {
		t.Errorf("satisfaction JSON = %s, want %s", anna.KPIs[kpi.Satisfaction], want)
	}
	want = `{"label":"Cost per client","unit":"currency","lower_is_better":true,` +
		`"value":1225,"target":1000,"attainment":81.63265306122449,"weight":10,"previous":3000,"reason":null,` +
		`"details":{"clients":4,"cost":4900}}`
	if string(anna.KPIs[kpi.CostPerClient]) != want {
		t.Errorf("cost_per_client JSON = %s, want %s", anna.KPIs[kpi.CostPerClient], want)
	}
	carl := got.Managers[2]
	want = `{"label":"Revenue growth from key clients","unit":"percent","lower_is_better":false,` +
		`"value":null,"target":100,"attainment":null,"weight":10,"previous":null,"reason":"no key clients",` +
		`"details":{"key_clients":0,"revenue":0,"revenue_previous":0}}`
	if string(carl.KPIs[kpi.KeyClientGrowth]) != want {
		t.Errorf("carl key_client_growth JSON = %s, want %s", carl.KPIs[kpi.KeyClientGrowth], want)
	}
	for _, sc := range got.Managers {
		for key, raw := range sc.KPIs {
			var k struct {
				Label, Unit   string
				LowerIsBetter bool `json:"lower_is_better"`
			}
			if err := json.Unmarshal(raw, &k); err != nil {
				t.Fatal(err)
			}
			d, ok := kpi.Lookup(key)
			if !ok || k.Label != d.Label || k.Unit != d.Unit || k.LowerIsBetter != d.LowerIsBetter {
				t.Errorf("%s %s: label %q unit %q lower_is_better %v, want those of kpi.Table", sc.Manager, key, k.Label, k.Unit, k.LowerIsBetter)
			}
		}
	}
	if s := string(got.Managers[1].KPIs[kpi.TeamContribution]); !strings.Contains(s, `"manual":true`) {
		t.Errorf("boris team_contribution JSON = %s, want manual true", s)
	}
}

// FuzzCompute scores random small datasets: every number in the Report is
// finite or nil, every scorecard has the nine KPIs, n/a comes with a reason
// and the score is the weighted mean of the attainments.
func FuzzCompute(f *testing.F) {
	for seed := range uint64(16) {
		f.Add(seed, uint8(seed*7), uint8(seed*13))
	}
	f.Fuzz(func(t *testing.T, seed uint64, size, knobs uint8) {
		rng := rand.New(rand.NewPCG(seed, uint64(size)<<8|uint64(knobs)))
		d := randomDataset(rng, 1+int(size%40))
		opts := Options{Currency: "RUB", FXRates: map[string]float64{"USD": 90, "BAD": math.NaN()},
			LookbackDays: int(knobs % 5 * 100), KeyClientsTop: int(knobs % 3), KeyClientConnectors: map[string]bool{"b": knobs&1 == 1},
			Costs: map[string]float64{CostMonthly: float64(knobs) * 10}}
		if knobs&2 != 0 {
			opts.KPIs = map[string]Target{kpi.ResponseTime: {Target: f64(0)}, kpi.ClosedWon: {Weight: f64(0)}}
		}
		kind := []PeriodKind{Week, Month, Quarter}[int(knobs)%3]
		p, err := ParsePeriod("current", kind, time.UTC, time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		r := computeFrom(d, opts, p)
		finite := func(what string, v *float64) {
			if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
				t.Fatalf("%s = %v", what, *v)
			}
		}
		for _, sc := range r.Managers {
			finite(sc.Manager+" score", sc.Score)
			if len(sc.KPIs) != len(kpi.Keys) {
				t.Fatalf("%s has %d KPIs", sc.Manager, len(sc.KPIs))
			}
			for _, key := range kpi.Keys {
				k := sc.KPIs[key]
				finite(key+" value", k.Value)
				finite(key+" attainment", k.Attainment)
				finite(key+" previous", k.Previous)
				if (k.Value == nil) != (k.Reason != nil) || (k.Value == nil) != (k.Attainment == nil) || k.Reason != nil && *k.Reason == "" {
					t.Fatalf("%s %s: value %v, attainment %v, reason %v", sc.Manager, key, k.Value, k.Attainment, k.Reason)
				}
				for dk, dv := range k.Details {
					if x, ok := dv.(float64); ok && (math.IsNaN(x) || math.IsInf(x, 0)) {
						t.Fatalf("%s %s details %s = %v", sc.Manager, key, dk, x)
					}
				}
			}
			checkScore(t, sc)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatalf("json.Marshal: %v", err)
		}
	})
}

// randomDataset makes about n of each row over two connectors with
// repeated ids, dangling references, odd currencies and amounts, and times
// around October 2026. Deleted companies and deals are drawn and left out,
// as the warehouse's scans leave them out.
func randomDataset(rng *rand.Rand, n int) *dataset {
	conns := []string{"a", "b"}
	id := func(prefix string) string { return prefix + string(rune('0'+rng.IntN(n+2))) }
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	when := func() time.Time { return base.Add(time.Duration(rng.Int64N(int64(600 * 24 * time.Hour)))) }
	maybe := func(s string) string {
		if rng.IntN(4) == 0 {
			return ""
		}
		return s
	}
	num := func() sql.NullFloat64 {
		switch rng.IntN(8) {
		case 0:
			return sql.NullFloat64{}
		case 1:
			return nf(0)
		case 2:
			return nf(-rng.Float64() * 1000)
		case 3:
			return nf(math.MaxFloat64)
		}
		return nf(rng.Float64() * 100000)
	}
	d := &dataset{}
	emails := []string{"", "x@y", "X@Y", "z@y"}
	for range n {
		c := conns[rng.IntN(2)]
		d.Users = append(d.Users, rows.User{Connector: c, ID: id("u"), Deleted: rng.IntN(5) == 0, Active: rng.IntN(4) > 0, Email: emails[rng.IntN(4)]})
		key := false
		if rng.IntN(2) == 0 {
			key = rng.IntN(2) == 0
		}
		company, gone := rows.Company{Connector: c, ID: id("c")}, rng.IntN(6) == 0
		company.OwnerID, company.KeyClient = maybe(id("u")), key
		if !gone {
			d.Companies = append(d.Companies, company)
		}
		var at sql.NullTime
		if rng.IntN(3) > 0 {
			at = nt(when())
		}
		d.Contacts = append(d.Contacts, rows.Contact{Connector: c, ID: id("k"), CompanyID: maybe(id("c")), OwnerID: maybe(id("u")),
			NPSScore: nf(float64(rng.IntN(13) - 1)), NPSAt: at})
		var closed sql.NullTime
		if rng.IntN(4) > 0 {
			closed = nt(when())
		}
		deal, gone := rows.Deal{Connector: c, ID: id("d")}, rng.IntN(8) == 0
		deal.Status, deal.Amount, deal.Expense = []string{"won", "won", "lost", "open"}[rng.IntN(4)], num(), num()
		deal.Currency = []string{"", "RUB", "USD", "EUR", "BAD"}[rng.IntN(5)]
		deal.OwnerID, deal.CompanyID, deal.ContactID, deal.CreatedAt, deal.ClosedAt = maybe(id("u")), maybe(id("c")), maybe(id("k")), when(), closed
		if !gone {
			d.Deals = append(d.Deals, deal)
		}
		for range 5 {
			_ = id("a") // an activity row has no id; drawn to keep the rest of the data as it was
			a := rows.Activity{Connector: c, Type: []string{"call", "email", "meeting", "message", "note", "task", "other"}[rng.IntN(7)],
				Direction: []string{"", "inbound", "outbound"}[rng.IntN(3)], Subject: []string{"", "#team", "x #team y", "#TEAM"}[rng.IntN(4)],
				OwnerID: maybe(id("u")), CompanyID: maybe(id("c")), ContactID: maybe(id("k")), DealID: maybe(id("d")), OccurredAt: when(), Completed: rng.IntN(2) == 0}
			if a.Type != rows.ActivityTask {
				a.Subject = "" // the warehouse reads subjects of tasks only
			}
			d.Activities = append(d.Activities, a)
		}
	}
	return d
}

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

// TestScorecardJSON pins a manager's keys in `score --format json`, in
// DESIGN.md's order, and the null status of a scorecard with no data (its
// score is null too). A field tagged for JSON on Scorecard but missing from
// its MarshalJSON fails here.
func TestScorecardJSON(t *testing.T) {
	score := 91.4
	for _, tt := range []struct {
		sc   Scorecard
		want string
	}{
		{Scorecard{Manager: "anna@example.com", Name: "Anna Petrova", Team: "enterprise", Email: "Anna@Example.com", SlackID: "U1",
			Score: &score, Status: StatusAmber, KPIs: map[string]*KPI{}},
			`{"manager":"anna@example.com","name":"Anna Petrova","team":"enterprise","score":91.4,"status":"amber","kpis":{}}`},
		{Scorecard{Manager: "hub:7", Status: StatusNone, KPIs: map[string]*KPI{}},
			`{"manager":"hub:7","name":"","team":"","score":null,"status":null,"kpis":{}}`},
	} {
		b, err := json.Marshal(tt.sc)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("json = %s\nwant   %s", b, tt.want)
		}
	}
	var tagged []string
	for f := range reflect.TypeFor[Scorecard]().Fields() {
		if tag := f.Tag.Get("json"); tag != "-" {
			tagged = append(tagged, strings.Split(tag, ",")[0])
		}
	}
	if want := []string{"manager", "name", "team", "score", "status", "kpis"}; !slices.Equal(tagged, want) {
		t.Errorf("Scorecard's JSON fields = %v, MarshalJSON writes %v", tagged, want)
	}
}
