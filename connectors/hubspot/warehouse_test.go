package hubspot_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/hubspot"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
	crmsync "github.com/crmkpi/crmkpi/sync"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

const token = "pat-na1-11111111-2222-3333-4444-555555555555"

// portal is a fake HubSpot with one owner, Ana, the default pipelines and
// nothing else, on a settable clock.
func portal(t *testing.T) (*hubspottest.Server, *synctest.Clock) {
	t.Helper()
	clk := synctest.NewClock(time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC))
	srv := hubspottest.NewServer(hubspottest.WithClock(clk.Now), hubspottest.WithToken(token),
		hubspottest.WithRateLimit(0, 0), hubspottest.WithSearchRateLimit(0))
	t.Cleanup(srv.Close)
	srv.SetPipelines(hubspottest.DefaultPipelines()...)
	srv.AddOwner(hubspottest.Owner{ID: "512345678", Email: "ana.sales@example.com", FirstName: "Ana", LastName: "Sales",
		UserID: 9876543, Type: "PERSON", CreatedAt: clk.Now().AddDate(-1, 0, 0), UpdatedAt: clk.Now().AddDate(0, -1, 0)})
	return srv, clk
}

// syncOnce runs one sync of a new connector (as a new crmkpi process makes
// it) into s.
func syncOnce(t *testing.T, s *warehouse.Store, srv *hubspottest.Server, clk *synctest.Clock, full bool) {
	t.Helper()
	c, err := hubspot.New(hubspot.Options{Name: "hs", BaseURL: srv.URL, Token: token, Now: clk.Now,
		HTTPOptions: connectors.HTTPOptions{RateLimit: 1e6, Burst: 1000, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}, SearchRateLimit: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	e := &crmsync.Engine{Store: s, Now: clk.Now, Holder: "test"}
	sum, err := e.Run(context.Background(), []crmsync.Job{{Connector: c, Full: full}})
	if err != nil || sum.Failed() {
		t.Fatalf("sync: %v %v", err, sum.Err())
	}
}

func associate(t *testing.T, srv *hubspottest.Server, from, fromID, to, toID string, types ...hubspottest.AssociationType) {
	t.Helper()
	if err := srv.Associate(from, fromID, to, toID, types...); err != nil {
		t.Fatal(err)
	}
}

// stored is a warehouse row as the test reads it back.
type stored struct {
	Name, Company, Contact string
	Deleted                bool
}

func readRow(t *testing.T, db *sql.DB, table, id string) stored {
	t.Helper()
	name := "name"
	if table == "crm_activities" {
		name = "subject"
	}
	var r stored
	var n, co, ct sql.NullString
	q := fmt.Sprintf("SELECT %s, company_id, contact_id, deleted FROM %s WHERE connector = 'hs' AND id = '%s'", name, table, id)
	if err := db.QueryRow(q).Scan(&n, &co, &ct, &r.Deleted); err != nil {
		t.Fatalf("read %s %s: %v", table, id, err)
	}
	r.Name, r.Company, r.Contact = n.String, co.String, ct.String
	return r
}

// An archived deal (and call) is flagged deleted and keeps the company and
// contact it was stored with, through the next incremental sync and
// through --full: the archived listing carries no associations, and
// upserting it would write them as NULL. A user deactivated in HubSpot
// (an owner moved to archived=true) is stored inactive, not deleted, with
// the time the warehouse saw it leave.
func TestArchivedKeepsLinks(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		db := synctest.DB(t, s)
		srv, clk := portal(t)
		srv.AddOwner(hubspottest.Owner{ID: "512345679", Email: "boris@example.com", FirstName: "Boris", LastName: "Left",
			UserID: 9876544, Type: "PERSON", CreatedAt: clk.Now().AddDate(-1, 0, 0), UpdatedAt: clk.Now().AddDate(0, -1, 0)})
		co := srv.Create(hubspottest.Companies, map[string]string{"name": "ACME", "hubspot_owner_id": "512345678"})
		ct := srv.Create(hubspottest.Contacts, map[string]string{"firstname": "Li", "lastname": "Wei", "hubspot_owner_id": "512345678"})
		deal := srv.Create(hubspottest.Deals, map[string]string{"dealname": "ACME - annual licence", "amount": "12500",
			"deal_currency_code": "EUR", "pipeline": "default", "dealstage": "closedwon", "hs_is_closed": "true", "hs_is_closed_won": "true",
			"closedate": "2026-10-01T00:00:00Z", "hubspot_owner_id": "512345678"})
		call := srv.Create(hubspottest.Calls, map[string]string{"hs_timestamp": "2026-10-02T10:00:00Z", "hs_call_direction": "OUTBOUND",
			"hs_call_status": "COMPLETED", "hs_call_title": "Discovery", "hubspot_owner_id": "512345678"})
		associate(t, srv, hubspottest.Contacts, ct, hubspottest.Companies, co, hubspottest.Primary(hubspottest.Contacts))
		associate(t, srv, hubspottest.Deals, deal, hubspottest.Companies, co, hubspottest.Primary(hubspottest.Deals))
		associate(t, srv, hubspottest.Deals, deal, hubspottest.Contacts, ct)
		associate(t, srv, hubspottest.Calls, call, hubspottest.Companies, co)
		associate(t, srv, hubspottest.Calls, call, hubspottest.Contacts, ct)
		clk.Advance(time.Minute)
		syncOnce(t, s, srv, clk, false)
		live := stored{Name: "ACME - annual licence", Company: co, Contact: ct}
		liveCall := stored{Name: "Discovery", Company: co, Contact: ct}
		if got := readRow(t, db, "crm_deals", deal); got != live {
			t.Fatalf("deal after the first sync = %+v, want %+v", got, live)
		}

		clk.Advance(time.Hour)
		if err := srv.Archive(hubspottest.Deals, deal); err != nil {
			t.Fatal(err)
		}
		if err := srv.Archive(hubspottest.Calls, call); err != nil {
			t.Fatal(err)
		}
		srv.ArchiveOwner("512345679")
		clk.Advance(time.Second)
		archived, archivedCall := live, liveCall
		archived.Deleted, archivedCall.Deleted = true, true
		for _, full := range []bool{false, true} {
			syncOnce(t, s, srv, clk, full)
			if got := readRow(t, db, "crm_deals", deal); got != archived {
				t.Errorf("archived deal after a sync (full %v) = %+v, want %+v", full, got, archived)
			}
			if got := readRow(t, db, "crm_activities", call); got != archivedCall {
				t.Errorf("archived call after a sync (full %v) = %+v, want %+v", full, got, archivedCall)
			}
			clk.Advance(time.Hour)
		}

		var active, deleted bool
		var deactivated any
		if err := db.QueryRow("SELECT active, deleted, deactivated_at FROM crm_users WHERE connector = 'hs' AND id = '512345679'").
			Scan(&active, &deleted, &deactivated); err != nil {
			t.Fatal(err)
		}
		if active || deleted || deactivated == nil {
			t.Errorf("deactivated owner: active %v, deleted %v, deactivated_at %v; want inactive, not deleted, with a time", active, deleted, deactivated)
		}
	})
}

// Response time on HubSpot calls and e-mails, synced from the fake into a
// warehouse and scored. Ana owns ACME; four questions in September 2026:
//
//	Q1 inbound e-mail 09-01 09:00; outbound calls 09:30 NO_ANSWER and
//	   10:00 logged COMPLETED with the outcome "No answer" reached no one,
//	   a task at 10:30 is a to-do; the call at 11:00 with the outcome
//	   "Connected" answers: 2 h.
//	Q2 inbound call 09-02 09:00; an e-mail forwarded to the CRM at 09:15 is
//	   neither question nor answer, the call at 09:20 was BUSY; the
//	   e-mail sent at 13:00 answers: 4 h.
//	Q3 inbound e-mail 09-03 09:00; a call at 09:30 with no status (HubSpot
//	   does not say) counts as an answer: 0.5 h.
//	Q4 inbound e-mail 09-04 09:00; a voicemail at 09:10 is no answer, a
//	   live message at 10:00 is: 1 h.
//
// Median of 0.5, 1, 2, 4 h: 1.5 h. Reading every outbound call and every
// forwarded e-mail as an answer, as before, gave 0.5, 0.25, 0.5 and 1/6 h:
// a median of 0.375 h.
func TestResponseTimeFromCalls(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		db := synctest.DB(t, s)
		srv, clk := portal(t)
		co := srv.Create(hubspottest.Companies, map[string]string{"name": "ACME", "hubspot_owner_id": "512345678"})
		ct := srv.Create(hubspottest.Contacts, map[string]string{"firstname": "Li", "lastname": "Wei", "email": "li@acme.example"})
		associate(t, srv, hubspottest.Contacts, ct, hubspottest.Companies, co, hubspottest.Primary(hubspottest.Contacts))
		type act struct {
			typ, at string
			props   map[string]string
			// connected is what crm_activities.connected must hold.
			connected string
		}
		call := func(dir, status, disposition string) map[string]string {
			p := map[string]string{"hs_call_direction": dir, "hs_call_status": status, "hs_call_title": "Call"}
			if disposition != "" {
				p["hs_call_disposition"] = disposition
			}
			return p
		}
		email := func(dir string) map[string]string {
			return map[string]string{"hs_email_direction": dir, "hs_email_subject": "Renewal", "hs_email_status": "SENT"}
		}
		acts := []act{
			{hubspottest.Emails, "2026-09-01T09:00:00Z", email("INCOMING_EMAIL"), "NULL"},
			{hubspottest.Calls, "2026-09-01T09:30:00Z", call("OUTBOUND", "NO_ANSWER", ""), "false"},
			{hubspottest.Calls, "2026-09-01T10:00:00Z", call("OUTBOUND", "COMPLETED", hubspottest.DispositionNoAnswer), "false"},
			{hubspottest.Tasks, "2026-09-01T10:30:00Z", map[string]string{"hs_task_subject": "Call back", "hs_task_status": "COMPLETED"}, "NULL"},
			{hubspottest.Calls, "2026-09-01T11:00:00Z", call("OUTBOUND", "COMPLETED", hubspottest.DispositionConnected), "true"},
			{hubspottest.Calls, "2026-09-02T09:00:00Z", call("INBOUND", "COMPLETED", ""), "true"},
			{hubspottest.Emails, "2026-09-02T09:15:00Z", email("FORWARDED_EMAIL"), "NULL"},
			{hubspottest.Calls, "2026-09-02T09:20:00Z", call("OUTBOUND", "BUSY", ""), "false"},
			{hubspottest.Emails, "2026-09-02T13:00:00Z", email("EMAIL"), "NULL"},
			{hubspottest.Emails, "2026-09-03T09:00:00Z", email("INCOMING_EMAIL"), "NULL"},
			{hubspottest.Calls, "2026-09-03T09:30:00Z", call("OUTBOUND", "", ""), "NULL"},
			{hubspottest.Emails, "2026-09-04T09:00:00Z", email("INCOMING_EMAIL"), "NULL"},
			{hubspottest.Calls, "2026-09-04T09:10:00Z", call("OUTBOUND", "COMPLETED", hubspottest.DispositionLeftVoicemail), "false"},
			{hubspottest.Calls, "2026-09-04T10:00:00Z", call("OUTBOUND", "COMPLETED", hubspottest.DispositionLeftLiveMessage), "true"},
		}
		want := map[string]act{}
		for _, a := range acts {
			a.props["hs_timestamp"] = a.at
			a.props["hubspot_owner_id"] = "512345678"
			id := srv.Create(a.typ, a.props)
			associate(t, srv, a.typ, id, hubspottest.Companies, co)
			associate(t, srv, a.typ, id, hubspottest.Contacts, ct)
			want[id] = a
		}
		clk.Advance(time.Minute)
		syncOnce(t, s, srv, clk, false)

		rows, err := db.Query("SELECT id, connected FROM crm_activities WHERE connector = 'hs'")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for rows.Next() {
			var id string
			var connected sql.NullBool
			if err := rows.Scan(&id, &connected); err != nil {
				t.Fatal(err)
			}
			got[id] = "NULL"
			if connected.Valid {
				got[id] = fmt.Sprint(connected.Bool)
			}
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		for id, a := range want {
			if got[id] != a.connected {
				t.Errorf("%s %s at %s: connected = %s, want %s", a.typ, id, a.at, got[id], a.connected)
			}
		}
		if len(got) != len(acts) {
			t.Errorf("%d activities stored, want %d", len(got), len(acts))
		}

		p, err := scoring.ParsePeriod("2026-09", scoring.Month, time.UTC, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		r, err := scoring.Compute(context.Background(), s, scoring.Options{Currency: "EUR", Location: time.UTC}, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Managers) != 1 || r.Managers[0].Manager != "ana.sales@example.com" {
			t.Fatalf("scorecards = %+v, want Ana's", r.Managers)
		}
		k := r.Managers[0].KPIs[kpi.ResponseTime]
		if k.Value == nil || *k.Value != 1.5 {
			t.Errorf("response_time = %s, want 1.5 h", show(k))
		}
		if diff := cmp.Diff(map[string]any{"inbound": 4, "unanswered": 0}, k.Details); diff != "" {
			t.Errorf("response_time details (-want +got):\n%s", diff)
		}
	})
}

func show(k *scoring.KPI) string {
	switch {
	case k.Value != nil:
		return fmt.Sprint(*k.Value)
	case k.Reason != nil:
		return "n/a: " + *k.Reason
	}
	return "n/a"
}
