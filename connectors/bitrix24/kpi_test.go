package bitrix24_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/bitrix24"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/scoring/scoringtest"
	crmsync "github.com/crmkpi/crmkpi/sync"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// TestKPIsFromBitrix24 syncs a small portal, in the reference's wire
// shapes, from the fake into each warehouse and scores September 2026 for
// its one manager, Anna (user 1, owner of ACME, company 9). The figures,
// worked by hand:
//
//   - Deal 37 was won on 28 September (MOVED_TIME) against a planned
//     CLOSEDATE of 10 October, a plan it beat: it closed on 28 September.
//     Deal 38 was lost on 15 September with its CLOSEDATE, the CRM's close
//     date, left at 31 August: it closed in August (KPIS.md: the close time
//     is the CRM's close date). closed_won = 1 (win rate 1/(1+0) = 100 %),
//     new_deals = 1 (ACME's first won deal). Read from CLOSEDATE alone, the
//     win would fall in October: 0 won, no win rate; from MOVED_TIME alone,
//     the loss in September: win rate 50 %.
//   - On 10 September a call from ACME was missed at 10:00 (Moscow time);
//     a call back planned for 11:00 was not held (COMPLETED N), and Anna
//     got through at 14:00. response_time = 4 h; taking the planned call
//     for an answer would give 1 h.
//   - cost_per_client: three calls at 300, connected or not, for one
//     client = 900.
//
// John (user 6), dismissed, is still stored, as inactive.
func TestKPIsFromBitrix24(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		srv, now := newPortal(t)
		srv.AddMany(bitrix24test.Users, []bitrix24test.Record{
			{"ID": "1", "ACTIVE": true, "NAME": "Anna", "LAST_NAME": "Ivanova", "EMAIL": "anna@example.com",
				"DATE_REGISTER": "2025-07-15T00:00:00+03:00", "UF_DEPARTMENT": []any{1}, "USER_TYPE": "employee"},
			{"ID": "6", "ACTIVE": false, "NAME": "John", "LAST_NAME": "Smith", "EMAIL": "j.smith@example.com",
				"DATE_REGISTER": "2025-07-22T00:00:00+03:00", "UF_DEPARTMENT": []any{3}, "USER_TYPE": "employee"},
		})
		srv.Add(bitrix24test.Companies, bitrix24test.Record{"ID": "9", "TITLE": "ACME", "ASSIGNED_BY_ID": "1",
			"DATE_CREATE": "2026-01-10T10:00:00+03:00", "DATE_MODIFY": "2026-01-10T10:00:00+03:00"})
		srv.AddMany(bitrix24test.Deals, []bitrix24test.Record{
			{"ID": "37", "TITLE": "ACME - annual licence", "CATEGORY_ID": "0", "STAGE_ID": "WON", "STAGE_SEMANTIC_ID": "S",
				"CLOSED": "Y", "OPPORTUNITY": "10000.00", "CURRENCY_ID": "RUB", "CLOSEDATE": "2026-10-10T00:00:00+03:00",
				"DATE_CREATE": "2026-08-20T10:00:00+03:00", "DATE_MODIFY": "2026-09-28T15:00:00+03:00",
				"MOVED_TIME": "2026-09-28T15:00:00+03:00", "ASSIGNED_BY_ID": "1", "COMPANY_ID": "9", "CONTACT_ID": nil},
			{"ID": "38", "TITLE": "ACME - pilot", "CATEGORY_ID": "0", "STAGE_ID": "LOSE", "STAGE_SEMANTIC_ID": "F",
				"CLOSED": "Y", "OPPORTUNITY": "2500.00", "CURRENCY_ID": "RUB", "CLOSEDATE": "2026-08-31T00:00:00+03:00",
				"DATE_CREATE": "2026-08-01T10:00:00+03:00", "DATE_MODIFY": "2026-09-15T12:00:00+03:00",
				"MOVED_TIME": "2026-09-15T12:00:00+03:00", "ASSIGNED_BY_ID": "1", "COMPANY_ID": "9", "CONTACT_ID": nil},
		})
		srv.AddMany(bitrix24test.Activities, []bitrix24test.Record{
			{"ID": "100", "OWNER_ID": "9", "OWNER_TYPE_ID": "4", "TYPE_ID": "2", "PROVIDER_ID": "VOXIMPLANT_CALL",
				"PROVIDER_TYPE_ID": "CALL", "SUBJECT": "Missed call ACME", "CREATED": "2026-09-10T10:00:40+03:00",
				"LAST_UPDATED": "2026-09-10T10:00:40+03:00", "START_TIME": "2026-09-10T10:00:00+03:00",
				"END_TIME": "2026-09-10T10:00:00+03:00", "DEADLINE": "2026-09-10T10:00:00+03:00", "COMPLETED": "N",
				"STATUS": "1", "RESPONSIBLE_ID": "1", "DIRECTION": "1", "SETTINGS": map[string]any{"MISSED_CALL": true}},
			{"ID": "101", "OWNER_ID": "9", "OWNER_TYPE_ID": "4", "TYPE_ID": "2", "PROVIDER_ID": "CRM_CALL",
				"PROVIDER_TYPE_ID": "CALL", "SUBJECT": "Call back ACME", "CREATED": "2026-09-10T10:05:00+03:00",
				"LAST_UPDATED": "2026-09-10T10:05:00+03:00", "START_TIME": "2026-09-10T11:00:00+03:00",
				"END_TIME": "2026-09-10T11:15:00+03:00", "DEADLINE": "2026-09-10T11:00:00+03:00", "COMPLETED": "N",
				"STATUS": "1", "RESPONSIBLE_ID": "1", "DIRECTION": "2"},
			{"ID": "102", "OWNER_ID": "9", "OWNER_TYPE_ID": "4", "TYPE_ID": "2", "PROVIDER_ID": "VOXIMPLANT_CALL",
				"PROVIDER_TYPE_ID": "CALL", "SUBJECT": "Outgoing call ACME", "CREATED": "2026-09-10T14:05:10+03:00",
				"LAST_UPDATED": "2026-09-10T14:05:10+03:00", "START_TIME": "2026-09-10T14:00:00+03:00",
				"END_TIME": "2026-09-10T14:05:00+03:00", "DEADLINE": "2026-09-10T14:00:00+03:00", "COMPLETED": "Y",
				"STATUS": "2", "RESPONSIBLE_ID": "1", "DIRECTION": "2"},
		})
		anna := scoreSeptember(t, s, srv, now)

		// Stored rows.
		users := warehousetest.Users(t, s)
		active := map[string]bool{}
		for _, u := range users {
			active[u.ID] = u.Active
		}
		if diff := cmp.Diff(map[string]bool{"1": true, "6": false}, active); diff != "" {
			t.Errorf("stored users' Active (-want +got):\n%s", diff)
		}
		deals := warehousetest.Deals(t, s)
		closed := map[string]time.Time{}
		for _, d := range deals {
			closed[d.ID] = *d.ClosedAt
		}
		wantClosed := map[string]time.Time{"37": time.Date(2026, 9, 28, 12, 0, 0, 0, time.UTC), "38": time.Date(2026, 8, 30, 21, 0, 0, 0, time.UTC)}
		if diff := cmp.Diff(wantClosed, closed); diff != "" {
			t.Errorf("stored closed_at (-want +got):\n%s", diff)
		}
		acts := warehousetest.Activities(t, s, time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), now)
		connected := map[string]*bool{}
		for _, a := range acts {
			connected[a.ID] = a.Connected
		}
		no, yes := false, true
		if diff := cmp.Diff(map[string]*bool{"100": &no, "101": &no, "102": &yes}, connected); diff != "" {
			t.Errorf("stored connected (-want +got):\n%s", diff)
		}

		// The KPIs.
		got := kpiValues(anna, kpi.ClosedWon, kpi.NewDeals, kpi.ResponseTime, kpi.CostPerClient)
		want := map[string]any{kpi.ClosedWon: 1.0, kpi.NewDeals: 1.0, kpi.ResponseTime: 4.0,
			kpi.CostPerClient: 900.0, "win_rate": 100.0}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Anna's September KPIs (-want +got):\n%s", diff)
		}
	})
}

// TestKPIsFromBitrix24SparseRows scores rows that leave out fields the
// reference lists but a portal (or an independent fake) may not send:
// Anna's user row has no ACTIVE, the deals no STAGE_SEMANTIC_ID (only
// CLOSED and the stage), the activities no COMPLETED (only STATUS). Worked
// by hand for September 2026:
//
//   - Deal 37 is closed in WON: won on 28 September (a CLOSEDATE plan of
//     10 October it beat); deal 38 closed in LOSE: lost on 15 September, its
//     CLOSEDATE. closed_won = 1, win rate 50 %, new_deals = 1.
//     Read as open (no semantic), both would count nowhere.
//   - An e-mail from ACME came in on 10 September at 10:00 (Moscow time);
//     Anna's call at 13:00 was held (STATUS 2): response_time = 3 h.
//   - Her task "#team offsite", due 20 September, is done (STATUS 3,
//     auto-completed): team_contribution = 1; without COMPLETED read as
//     not done it would be 0.
//
// Anna is stored active: nothing says she left.
func TestKPIsFromBitrix24SparseRows(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		srv, now := newPortal(t)
		srv.Add(bitrix24test.Users, bitrix24test.Record{"ID": "1", "NAME": "Anna", "LAST_NAME": "Ivanova", "EMAIL": "anna@example.com"})
		srv.Add(bitrix24test.Companies, bitrix24test.Record{"ID": "9", "TITLE": "ACME", "ASSIGNED_BY_ID": "1",
			"DATE_CREATE": "2026-01-10T10:00:00+03:00", "DATE_MODIFY": "2026-01-10T10:00:00+03:00"})
		srv.AddMany(bitrix24test.Deals, []bitrix24test.Record{
			{"ID": "37", "TITLE": "ACME - annual licence", "CATEGORY_ID": "0", "STAGE_ID": "WON",
				"CLOSED": "Y", "OPPORTUNITY": "10000.00", "CURRENCY_ID": "RUB", "CLOSEDATE": "2026-10-10T00:00:00+03:00",
				"DATE_CREATE": "2026-08-20T10:00:00+03:00", "DATE_MODIFY": "2026-09-28T15:00:00+03:00",
				"MOVED_TIME": "2026-09-28T15:00:00+03:00", "ASSIGNED_BY_ID": "1", "COMPANY_ID": "9"},
			{"ID": "38", "TITLE": "ACME - pilot", "CATEGORY_ID": "0", "STAGE_ID": "LOSE",
				"CLOSED": "Y", "OPPORTUNITY": "2500.00", "CURRENCY_ID": "RUB", "CLOSEDATE": "2026-09-15T00:00:00+03:00",
				"DATE_CREATE": "2026-08-01T10:00:00+03:00", "DATE_MODIFY": "2026-09-15T12:00:00+03:00",
				"MOVED_TIME": "2026-09-15T12:00:00+03:00", "ASSIGNED_BY_ID": "1", "COMPANY_ID": "9"},
		})
		srv.AddMany(bitrix24test.Activities, []bitrix24test.Record{
			{"ID": "100", "OWNER_ID": "9", "OWNER_TYPE_ID": "4", "TYPE_ID": "4", "PROVIDER_ID": "CRM_EMAIL",
				"SUBJECT": "Question about renewal", "CREATED": "2026-09-10T10:00:00+03:00",
				"LAST_UPDATED": "2026-09-10T10:00:00+03:00", "START_TIME": "2026-09-10T10:00:00+03:00",
				"END_TIME": "2026-09-10T10:00:00+03:00", "STATUS": "2", "RESPONSIBLE_ID": "1", "DIRECTION": "1"},
			{"ID": "101", "OWNER_ID": "9", "OWNER_TYPE_ID": "4", "TYPE_ID": "2", "PROVIDER_ID": "VOXIMPLANT_CALL",
				"SUBJECT": "Call ACME back", "CREATED": "2026-09-10T13:05:00+03:00",
				"LAST_UPDATED": "2026-09-10T13:05:00+03:00", "START_TIME": "2026-09-10T13:00:00+03:00",
				"END_TIME": "2026-09-10T13:04:00+03:00", "STATUS": "2", "RESPONSIBLE_ID": "1", "DIRECTION": "2"},
			{"ID": "102", "OWNER_ID": "9", "OWNER_TYPE_ID": "4", "TYPE_ID": "3", "SUBJECT": "#team offsite",
				"CREATED": "2026-09-01T09:00:00+03:00", "LAST_UPDATED": "2026-09-20T19:00:00+03:00",
				"DEADLINE": "2026-09-20T18:00:00+03:00", "STATUS": "3", "RESPONSIBLE_ID": "1", "DIRECTION": "0"},
		})
		anna := scoreSeptember(t, s, srv, now)

		if users := warehousetest.Users(t, s); len(users) != 1 || users[0].ID != "1" || !users[0].Active {
			t.Errorf("stored %d users (first active: %v), want Anna, active", len(users), len(users) > 0 && users[0].Active)
		}
		got := kpiValues(anna, kpi.ClosedWon, kpi.NewDeals, kpi.ResponseTime, kpi.TeamContribution)
		want := map[string]any{kpi.ClosedWon: 1.0, kpi.NewDeals: 1.0, kpi.ResponseTime: 3.0,
			kpi.TeamContribution: 1.0, "win_rate": 50.0}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Anna's September KPIs (-want +got):\n%s", diff)
		}
	})
}

// newPortal starts a fake portal whose clock stands at 20 October 2026,
// 09:00 UTC.
func newPortal(t *testing.T) (*bitrix24test.Server, time.Time) {
	now := time.Date(2026, 10, 20, 9, 0, 0, 0, time.UTC)
	srv := bitrix24test.NewServer(bitrix24test.WithClock(func() time.Time { return now }), bitrix24test.WithRateLimit(0, 0))
	t.Cleanup(srv.Close)
	return srv, now
}

// scoreSeptember syncs srv whole into s at now and scores September 2026
// for Anna.
func scoreSeptember(t *testing.T, s *warehouse.Store, srv *bitrix24test.Server, now time.Time) *scoring.Scorecard {
	t.Helper()
	clock := func() time.Time { return now }
	conn, err := bitrix24.New(bitrix24.Options{Name: "b24", WebhookURL: srv.WebhookURL(), HTTPOptions: connectors.HTTPOptions{RateLimit: 10000, Burst: 100, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	p, err := scoring.ParsePeriod("2026-09", scoring.Month, time.UTC, now)
	if err != nil {
		t.Fatal(err)
	}
	return scoringtest.SyncAndScore(t, s, crmsync.Job{Connector: conn, Full: true}, clock,
		scoring.Options{Currency: "RUB", Location: time.UTC}, p, "anna@example.com")
}

// kpiValues are the scorecard's values of keys (nil for n/a) and the
// closed_won win rate.
func kpiValues(sc *scoring.Scorecard, keys ...string) map[string]any {
	got := map[string]any{"win_rate": sc.KPIs[kpi.ClosedWon].Details["win_rate"]}
	for _, k := range keys {
		if v := sc.KPIs[k].Value; v != nil {
			got[k] = *v
		} else {
			got[k] = nil
		}
	}
	return got
}
