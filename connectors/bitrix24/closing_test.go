package bitrix24

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
)

// TestPullClosedDealsCloseTime pulls deals in the shape of the reference's
// crm.deal.list sample (6.1) from the fake: a won or lost deal closes on
// its CLOSEDATE, the CRM's close date (KPIS.md), here the day before it
// entered its final stage; one won before its planned CLOSEDATE closes
// when it entered its final stage (MOVED_TIME), which the fake stamps on
// a stage change as the portal does.
func TestPullClosedDealsCloseTime(t *testing.T) {
	clk := newClock(time.Date(2024, 9, 10, 9, 3, 41, 0, time.UTC))
	srv := newFake(t, clk)
	// 37 (won) and 38 (open) are the reference's samples as they stand.
	var samples []bitrix24test.Record
	if err := json.Unmarshal([]byte(sampleDeals), &samples); err != nil {
		t.Fatal(err)
	}
	srv.AddMany(bitrix24test.Deals, []bitrix24test.Record{
		samples[0],
		samples[1],
		// Opened with a plan to close at the end of October.
		{"ID": "39", "TITLE": "Initech - expansion", "CATEGORY_ID": "0", "STAGE_ID": "NEW",
			"STAGE_SEMANTIC_ID": "P", "CLOSED": "N", "OPPORTUNITY": "1500.00", "CURRENCY_ID": "RUB",
			"CLOSEDATE": time.Date(2024, 10, 31, 12, 0, 0, 0, time.UTC), "DATE_CREATE": "2024-09-01T10:00:00+03:00",
			"ASSIGNED_BY_ID": "6", "COMPANY_ID": "9"},
	})
	// Won on 12 September at 15:30 Moscow time, seven weeks early, and
	// the planned date left as it was.
	clk.Advance(2*24*time.Hour + 3*time.Hour + 26*time.Minute + 19*time.Second)
	if !srv.Update(bitrix24test.Deals, "39", bitrix24test.Record{"STAGE_ID": "WON", "STAGE_SEMANTIC_ID": "S", "CLOSED": "Y"}) {
		t.Fatal("no deal 39")
	}
	// A rename later moves DATE_MODIFY, not the close.
	clk.Advance(24 * time.Hour)
	srv.Update(bitrix24test.Deals, "39", bitrix24test.Record{"TITLE": "Initech - expansion (signed)"})

	c := newClient(t, srv, clk, nil)
	got := pull(t, c, connectors.ObjectDeals, "").deals
	want := map[string]connectors.Deal{
		"37": {Meta: connectors.Meta{ID: "37", UpdatedAt: utc("2024-09-10T09:03:41Z")}, Name: "ACME - annual licence",
			PipelineID: "1", StageID: "C1:WON", Status: "won", Amount: f64(19999.99), Currency: "EUR", OwnerID: "1",
			CompanyID: "9", ContactID: "84", CreatedAt: utc("2024-09-02T16:37:18Z"), ClosedAt: utcPtr("2024-09-09T00:00:00Z")},
		"38": {Meta: connectors.Meta{ID: "38", UpdatedAt: utc("2024-09-03T07:00:00Z")}, Name: "Globex - pilot",
			PipelineID: "0", StageID: "PREPARATION", Status: "open", Amount: f64(0), Currency: "USD", OwnerID: "6",
			CreatedAt: utc("2024-09-02T16:37:38Z")},
		"39": {Meta: connectors.Meta{ID: "39", UpdatedAt: utc("2024-09-13T12:30:00Z")}, Name: "Initech - expansion (signed)",
			PipelineID: "0", StageID: "WON", Status: "won", Amount: f64(1500), Currency: "RUB", OwnerID: "6",
			CompanyID: "9", CreatedAt: utc("2024-09-01T07:00:00Z"), ClosedAt: utcPtr("2024-09-12T12:30:00Z")},
	}
	if diff := cmp.Diff(want, got, noRaw); diff != "" {
		t.Errorf("deals (-want +got):\n%s", diff)
	}
	// What the portal sent for 39: a planned date at local midnight, far
	// from the close.
	raw := rawOf(t, got["39"].Raw)
	if raw["CLOSEDATE"] != "2024-10-31T00:00:00+03:00" || raw["MOVED_TIME"] != "2024-09-12T15:30:00+03:00" {
		t.Errorf("deal 39 sent CLOSEDATE %v, MOVED_TIME %v", raw["CLOSEDATE"], raw["MOVED_TIME"])
	}
}

// TestPullCallsConnected pulls calls in the shape of the reference's
// crm.activity.list sample (6.5): a held call is connected; a missed
// incoming call (SETTINGS.MISSED_CALL, uncompleted) and a planned call not
// held are not; the sample's SETTINGS arrive as [] when empty and as an
// object when not.
func TestPullCallsConnected(t *testing.T) {
	clk := newClock(time.Date(2024, 9, 6, 12, 0, 0, 0, time.UTC))
	srv := newFake(t, clk)
	srv.AddMany(bitrix24test.Activities, []bitrix24test.Record{
		{"ID": "20", "OWNER_ID": "37", "OWNER_TYPE_ID": "2", "TYPE_ID": "2", "PROVIDER_ID": "VOXIMPLANT_CALL",
			"PROVIDER_TYPE_ID": "CALL", "SUBJECT": "Outgoing call ACME", "CREATED": "2024-09-05T13:26:55+03:00",
			"LAST_UPDATED": "2024-09-05T13:30:24+03:00", "START_TIME": "2024-09-05T13:25:00+03:00",
			"END_TIME": "2024-09-05T13:28:03+03:00", "DEADLINE": "2024-09-05T13:25:00+03:00",
			"COMPLETED": "Y", "STATUS": "2", "RESPONSIBLE_ID": "1", "DIRECTION": "2", "AUTHOR_ID": "1", "PRIORITY": "2"},
		{"ID": "21", "OWNER_ID": "75", "OWNER_TYPE_ID": "3", "TYPE_ID": "2", "PROVIDER_ID": "VOXIMPLANT_CALL",
			"PROVIDER_TYPE_ID": "CALL", "SUBJECT": "Missed call", "CREATED": "2024-09-06T10:00:30+03:00",
			"LAST_UPDATED": "2024-09-06T10:00:30+03:00", "START_TIME": "2024-09-06T10:00:00+03:00",
			"END_TIME": "2024-09-06T10:00:00+03:00", "DEADLINE": "2024-09-06T10:00:00+03:00",
			"COMPLETED": "N", "STATUS": "1", "RESPONSIBLE_ID": "6", "DIRECTION": "1", "AUTHOR_ID": "6", "PRIORITY": "2",
			"SETTINGS": map[string]any{"MISSED_CALL": true}},
		{"ID": "22", "OWNER_ID": "37", "OWNER_TYPE_ID": "2", "TYPE_ID": "2", "PROVIDER_ID": "CRM_CALL",
			"PROVIDER_TYPE_ID": "CALL", "SUBJECT": "Call back ACME", "CREATED": "2024-09-06T11:00:00+03:00",
			"LAST_UPDATED": "2024-09-06T11:00:00+03:00", "START_TIME": "2024-09-09T10:00:00+03:00",
			"END_TIME": "2024-09-09T10:15:00+03:00", "DEADLINE": "2024-09-09T10:00:00+03:00",
			"COMPLETED": "N", "STATUS": "1", "RESPONSIBLE_ID": "1", "DIRECTION": "2", "AUTHOR_ID": "1", "PRIORITY": "2"},
	})
	c := newClient(t, srv, clk, nil)
	got := pull(t, c, connectors.ObjectActivities, "").acts
	want := map[string]connectors.Activity{
		"20": {Meta: connectors.Meta{ID: "20", UpdatedAt: utc("2024-09-05T10:30:24Z")}, Type: "call", Direction: "outbound",
			Subject: "Outgoing call ACME", OwnerID: "1", DealID: "37", OccurredAt: utc("2024-09-05T10:25:00Z"),
			Completed: true, DurationS: intp(183), Connected: boolp(true)},
		"21": {Meta: connectors.Meta{ID: "21", UpdatedAt: utc("2024-09-06T07:00:30Z")}, Type: "call", Direction: "inbound",
			Subject: "Missed call", OwnerID: "6", ContactID: "75", OccurredAt: utc("2024-09-06T07:00:00Z"),
			DurationS: intp(0), Connected: boolp(false)},
		"22": {Meta: connectors.Meta{ID: "22", UpdatedAt: utc("2024-09-06T08:00:00Z")}, Type: "call", Direction: "outbound",
			Subject: "Call back ACME", OwnerID: "1", DealID: "37", OccurredAt: utc("2024-09-09T07:00:00Z"),
			DurationS: intp(900), Connected: boolp(false)},
	}
	if diff := cmp.Diff(want, got, noRaw); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	for id, settings := range map[string]any{"20": []any{}, "21": map[string]any{"MISSED_CALL": true}} {
		if diff := cmp.Diff(settings, rawOf(t, got[id].Raw)["SETTINGS"]); diff != "" {
			t.Errorf("call %s SETTINGS as sent (-want +got):\n%s", id, diff)
		}
	}
}

// TestPullDeactivatedUsers reads the reference's user.get sample (6.7),
// with a user dismissed later: user.get is asked without an ACTIVE filter,
// so the deactivated users come with Active false instead of vanishing
// (and taking their history's owner with them).
func TestPullDeactivatedUsers(t *testing.T) {
	clk := newClock(t0)
	srv := newFake(t, clk)
	srv.AddMany(bitrix24test.Users, []bitrix24test.Record{
		{"ID": "1", "ACTIVE": true, "NAME": "Vadim", "LAST_NAME": "Valeev", "EMAIL": "v.valeev@example.com",
			"LAST_LOGIN": "2024-07-25T13:06:54+00:00", "DATE_REGISTER": "2024-07-15T00:00:00+00:00",
			"TIME_ZONE": "", "UF_DEPARTMENT": []any{1}, "USER_TYPE": "employee"},
		{"ID": "6", "ACTIVE": false, "NAME": "John", "LAST_NAME": "Smith", "EMAIL": "j.smith@example.com",
			"LAST_LOGIN": "2024-07-24T09:01:55+00:00", "DATE_REGISTER": "2024-07-22T00:00:00+00:00",
			"UF_DEPARTMENT": []any{3}, "USER_TYPE": "employee"},
		{"ID": "7", "ACTIVE": true, "NAME": "Maria", "LAST_NAME": "Popova", "EMAIL": "m.popova@example.com",
			"DATE_REGISTER": "2024-07-22T00:00:00+00:00", "UF_DEPARTMENT": []any{3}, "USER_TYPE": "employee"},
	})
	srv.Deactivate("7")
	c := newClient(t, srv, clk, nil)
	got := pull(t, c, connectors.ObjectUsers, "").users
	want := map[string]connectors.User{
		"1": {Meta: connectors.Meta{ID: "1", UpdatedAt: t0}, Email: "v.valeev@example.com", Name: "Vadim Valeev", Active: true},
		"6": {Meta: connectors.Meta{ID: "6", UpdatedAt: t0}, Email: "j.smith@example.com", Name: "John Smith"},
		"7": {Meta: connectors.Meta{ID: "7", UpdatedAt: t0}, Email: "m.popova@example.com", Name: "Maria Popova"},
	}
	if diff := cmp.Diff(want, got, noRaw); diff != "" {
		t.Errorf("users (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]any{"SORT": "ID", "ORDER": "ASC", "start": 0.0}, srv.LastParams("user.get")); diff != "" {
		t.Errorf("user.get params (-want +got): a filter would hide the dismissed:\n%s", diff)
	}
}

// TestPullSeededWorld pulls the fake's seeded world and checks every
// closed deal and every call against the fake's own fields: closed on its
// CLOSEDATE, the CRM's close date, unless that day is after the deal
// reached its final stage (MOVED_TIME), a plan the deal beat; and a call
// connected exactly when it is completed and not flagged missed.
func TestPullSeededWorld(t *testing.T) {
	clk := newClock(t0)
	srv := newFake(t, clk)
	srv.Seed(bitrix24test.SeedConfig{Seed: 5})
	c := newClient(t, srv, clk, nil)
	deals := pull(t, c, connectors.ObjectDeals, "").deals
	kinds := map[string]int{}
	for _, r := range srv.All(bitrix24test.Deals) {
		d := deals[r["ID"].(string)]
		if r["CLOSED"] != "Y" {
			if d.ClosedAt != nil {
				t.Errorf("open deal %s closed at %v", d.ID, d.ClosedAt)
			}
			continue
		}
		moved, _ := time.Parse(time.RFC3339, r["MOVED_TIME"].(string))
		planned, _ := time.Parse(time.RFC3339, r["CLOSEDATE"].(string))
		want, kind := planned, "late"
		if planned.Format(time.DateOnly) > moved.Format(time.DateOnly) {
			want, kind = moved, "early"
		}
		if d.ClosedAt == nil || !d.ClosedAt.Equal(want) {
			t.Errorf("deal %s (%s: CLOSEDATE %s, MOVED_TIME %s) closed at %v, want %v", d.ID, kind, r["CLOSEDATE"], r["MOVED_TIME"], d.ClosedAt, want)
		}
		kinds[kind]++
	}
	if kinds["late"] == 0 || kinds["early"] == 0 {
		t.Errorf("closed deals won late and early: %v, want some of each, or the test proves nothing", kinds)
	}
	acts := pull(t, c, connectors.ObjectActivities, "").acts
	seen := map[bool]int{}
	for _, r := range srv.All(bitrix24test.Activities) {
		a := acts[r["ID"].(string)]
		if r["TYPE_ID"] != "2" {
			if a.Connected != nil {
				t.Errorf("%s %s has Connected %v", a.Type, a.ID, *a.Connected)
			}
			continue
		}
		settings, _ := r["SETTINGS"].(map[string]any)
		want := r["COMPLETED"] == "Y" && settings["MISSED_CALL"] != true
		if a.Connected == nil || *a.Connected != want {
			t.Errorf("call %s (COMPLETED %v, SETTINGS %v) Connected %v, want %v", a.ID, r["COMPLETED"], r["SETTINGS"], a.Connected, want)
		}
		seen[want]++
	}
	if seen[true] == 0 || seen[false] == 0 {
		t.Errorf("calls connected/not: %v, want both", seen)
	}
}
