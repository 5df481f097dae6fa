package hubspot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
)

// row is the projection of a record that the full-load test compares:
// every warehouse column that depends on the connector's reading.
type row struct {
	Name, Owner, Company, Contact, Deal, Stage, Status, Currency, Type, Direction, Subject string
	Amount, Connected                                                                      string
	Deleted, Completed                                                                     bool
}

// seedTaskText reads the task bodies hubspottest.Seed writes ("<p>…</p>",
// with &amp;) as text, independently of the connector's HTML reading.
func seedTaskText(body string) string {
	body = strings.TrimSuffix(strings.TrimPrefix(body, "<p>"), "</p>")
	return strings.ReplaceAll(body, "&amp;", "&")
}

// seedConnected is what HubSpot's calls guide says of a seeded call: the
// default outcomes Connected and Busy, else the status.
func seedConnected(p map[string]string) string {
	switch {
	case p["hs_call_disposition"] == hubspottest.DispositionConnected:
		return "true"
	case p["hs_call_disposition"] == hubspottest.DispositionBusy:
		return "false"
	case p["hs_call_status"] == "COMPLETED":
		return "true"
	case p["hs_call_status"] == "NO_ANSWER":
		return "false"
	}
	return "unknown"
}

func boolString(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// expectedFromFake derives the warehouse the fake's data should produce,
// from the fake's own records (not the connector's mapping).
func expectedFromFake(srv *hubspottest.Server) map[string]row {
	out := map[string]row{}
	primary := func(from, id, to string) string {
		ids := srv.Associations(from, id, to)
		if len(ids) == 0 {
			return ""
		}
		// The seed gives one company per contact and deal (labelled
		// Primary); otherwise the lowest id is the connector's rule.
		return ids[0]
	}
	stageStatus := map[string]string{}
	for _, p := range srv.Pipelines() {
		for _, s := range p.Stages {
			stageStatus[s.ID] = s.Status()
		}
	}
	for _, typ := range hubspottest.ObjectTypes {
		for _, r := range srv.Records(typ) {
			p := r.Properties
			// Archived records keep the links they had: the fake keeps
			// their associations, and the tests archive only records
			// synced live before.
			w := row{Owner: p["hubspot_owner_id"], Deleted: r.Archived}
			switch typ {
			case hubspottest.Contacts:
				w.Company = primary(typ, r.ID, hubspottest.Companies)
			case hubspottest.Deals:
				w.Company = primary(typ, r.ID, hubspottest.Companies)
				w.Contact = primary(typ, r.ID, hubspottest.Contacts)
			case hubspottest.Companies:
			default:
				w.Company = primary(typ, r.ID, hubspottest.Companies)
				w.Contact = primary(typ, r.ID, hubspottest.Contacts)
				w.Deal = primary(typ, r.ID, hubspottest.Deals)
			}
			switch typ {
			case hubspottest.Companies:
				w.Name = p["name"]
			case hubspottest.Contacts:
				w.Name = strings.TrimSpace(p["firstname"] + " " + p["lastname"])
			case hubspottest.Deals:
				w.Name, w.Stage, w.Status, w.Amount = p["dealname"], p["dealstage"], stageStatus[p["dealstage"]], p["amount"]
				w.Currency = p["deal_currency_code"]
				if w.Currency == "" {
					w.Currency = "USD"
				}
			default:
				w.Type = strings.TrimSuffix(typ, "s")
				switch p["hs_call_direction"] + p["hs_email_direction"] {
				case "INBOUND", "INCOMING_EMAIL":
					w.Direction = "inbound"
				case "OUTBOUND", "EMAIL":
					w.Direction = "outbound"
				}
				w.Subject = p["hs_call_title"] + p["hs_email_subject"] + p["hs_meeting_title"] + p["hs_note_body"] + p["hs_task_subject"]
				// The task's body once, and only when it says more.
				if body := seedTaskText(p["hs_task_body"]); body != "" && body != p["hs_task_subject"] {
					w.Subject += "\n" + body
				}
				if typ == hubspottest.Calls {
					w.Connected = seedConnected(p)
				}
				w.Completed = p["hs_task_status"] == "COMPLETED" || p["hs_call_status"] == "COMPLETED" ||
					p["hs_meeting_outcome"] == "COMPLETED" || typ == hubspottest.Notes || typ == hubspottest.Emails
			}
			out[typ+"/"+r.ID] = w
		}
	}
	return out
}

func amountString(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func (w *warehouse) rows() map[string]row {
	out := map[string]row{}
	for id, r := range w.companies {
		out["companies/"+id] = row{Name: r.Name, Owner: r.OwnerID, Deleted: r.Deleted}
	}
	for id, r := range w.contacts {
		out["contacts/"+id] = row{Name: r.Name, Owner: r.OwnerID, Company: r.CompanyID, Deleted: r.Deleted}
	}
	for id, r := range w.deals {
		out["deals/"+id] = row{Name: r.Name, Owner: r.OwnerID, Company: r.CompanyID, Contact: r.ContactID, Stage: r.StageID,
			Status: r.Status, Amount: amountString(r.Amount), Currency: r.Currency, Deleted: r.Deleted}
	}
	for id, r := range w.activities {
		out[r.Type+"s/"+id] = row{Owner: r.OwnerID, Company: r.CompanyID, Contact: r.ContactID, Deal: r.DealID, Type: r.Type,
			Direction: r.Direction, Subject: r.Subject, Completed: r.Completed, Deleted: r.Deleted, Connected: boolString(r.Connected)}
	}
	return out
}

func seeded(t testing.TB, clk *clock, opts ...hubspottest.Option) *hubspottest.Server {
	t.Helper()
	srv := newFake(t, clk, opts...)
	if err := srv.Seed(hubspottest.World{Seed: 7, Now: clk.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return srv
}

func TestFullLoadMatchesFake(t *testing.T) {
	clk := newClock()
	srv := seeded(t, clk)
	c := newTestClient(t, srv, clk, nil)
	w := newWarehouse()
	w.pullAll(t, c)

	if diff := cmp.Diff(expectedFromFake(srv), w.rows()); diff != "" {
		t.Errorf("warehouse differs from the fake (-want +got):\n%s", diff)
	}
	// Users: all owners, the archived one inactive and not deleted.
	var users []string
	for _, o := range srv.Owners() {
		u := w.users[o.ID]
		users = append(users, fmt.Sprintf("%s %s active=%v deleted=%v", o.ID, u.Email, u.Active, u.Deleted))
		if u.Active == o.Archived || u.Deleted || u.Email != o.Email {
			t.Errorf("user %s = %+v, want email %s active %v", o.ID, u, o.Email, !o.Archived)
		}
	}
	if len(w.users) != 8 {
		t.Errorf("users = %d, want 8: %v", len(w.users), users)
	}
	if len(w.stages) != 8 || w.stages["closedwon"].Status != "won" || w.stages["1204587713"].Status != "lost" || w.stages["1204587711"].Status != "open" {
		t.Errorf("stages = %+v", w.stages)
	}

	// One list page per 100 records with their associations inline (no
	// record has 100 of a type, so no batch read), one archived listing
	// per object, the deal pipelines once (the stages and deals pulls
	// share the read) and the portal currency once: 27 requests, where
	// batch-reading the associations cost 45.
	want := map[string]int{
		"GET /crm/v3/owners":            2,
		"GET /crm/v3/pipelines/deals":   1,
		"GET /account-info/v3/details":  1,
		"GET /crm/v3/objects/companies": 2,
		"GET /crm/v3/objects/contacts":  3,
		"GET /crm/v3/objects/deals":     3,
	}
	for _, e := range []string{"calls", "emails", "meetings", "notes", "tasks"} {
		want["GET /crm/v3/objects/"+e] = 3 // 120 records: 2 pages + archived
	}
	if diff := cmp.Diff(want, srv.RequestCounts()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if w.requests != srv.TotalRequests() {
		t.Errorf("pages report %d requests, fake served %d", w.requests, srv.TotalRequests())
	}
}

func TestIncrementalFetchesOnlyChanges(t *testing.T) {
	clk := newClock()
	srv := seeded(t, clk)
	c := newTestClient(t, srv, clk, nil)
	w := newWarehouse()
	w.pullAll(t, c)

	clk.Advance(time.Hour)
	contacts := srv.Records(hubspottest.Contacts)
	deals := srv.Records(hubspottest.Deals)
	companies := srv.Records(hubspottest.Companies)
	mustDo(t, srv.Update(hubspottest.Contacts, contacts[0].ID, map[string]string{"firstname": "Renamed"}))
	mustDo(t, srv.Update(hubspottest.Deals, deals[0].ID, map[string]string{"dealstage": "closedwon", "pipeline": "default"}))
	mustDo(t, srv.Archive(hubspottest.Companies, companies[1].ID))
	mustDo(t, srv.Merge(hubspottest.Contacts, contacts[2].ID, contacts[3].ID))
	// Association change: no modified-time change, so only the cadence
	// brings it.
	srv.Unassociate(hubspottest.Contacts, contacts[4].ID, hubspottest.Companies, companies[4%len(companies)].ID)
	clk.Advance(2 * time.Minute)
	srv.ResetCounts()
	before := maps.Clone(w.seen)

	w.pullAll(t, c)
	got := map[connectors.Object]int{}
	for k, v := range w.seen {
		got[k] = v - before[k]
	}
	// The archived company is a Deletion, not a record.
	wantSeen := map[connectors.Object]int{
		connectors.ObjectUsers: 8, connectors.ObjectStages: 8, connectors.ObjectCompanies: 0,
		connectors.ObjectContacts: 2, connectors.ObjectDeals: 1,
		ObjectCalls: 0, ObjectEmails: 0, ObjectMeetings: 0, ObjectNotes: 0, ObjectTasks: 0,
	}
	if diff := cmp.Diff(wantSeen, got); diff != "" {
		t.Errorf("records emitted by the incremental run (-want +got):\n%s", diff)
	}
	want := map[string]int{
		"GET /crm/v3/owners":          2,
		"GET /crm/v3/pipelines/deals": 1,
		// Associations only for the objects that changed.
		"POST /crm/v4/associations/contacts/companies/batch/read": 1,
		"POST /crm/v4/associations/deals/companies/batch/read":    1,
		"POST /crm/v4/associations/deals/contacts/batch/read":     1,
	}
	for _, e := range []string{"companies", "contacts", "deals", "calls", "emails", "meetings", "notes", "tasks"} {
		want["POST /crm/v3/objects/"+e+"/search"] = 1
		want["GET /crm/v3/objects/"+e] = 1 // the archived listing
	}
	if diff := cmp.Diff(want, srv.RequestCounts()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if w.contacts[contacts[0].ID].Name != "Renamed "+contacts[0].Properties["lastname"] {
		t.Errorf("contact %s name = %q", contacts[0].ID, w.contacts[contacts[0].ID].Name)
	}
	if d := w.deals[deals[0].ID]; d.Status != "won" || d.ClosedAt == nil {
		t.Errorf("deal %s = status %q closed %v, want won with a close date", deals[0].ID, d.Status, d.ClosedAt)
	}
	if !w.companies[companies[1].ID].Deleted {
		t.Errorf("archived company %s not flagged deleted", companies[1].ID)
	}
	if !w.contacts[contacts[3].ID].Deleted {
		t.Errorf("merged-away contact %s not flagged deleted", contacts[3].ID)
	}
	if w.contacts[contacts[4].ID].CompanyID == "" {
		t.Errorf("association change arrived before its cadence")
	}

	// A day later the association cadence re-reads them: Links clear it.
	clk.Advance(25 * time.Hour)
	srv.ResetCounts()
	w.pullAll(t, c)
	if got := w.contacts[contacts[4].ID].CompanyID; got != "" {
		t.Errorf("contact %s company after the association re-read = %q, want empty", contacts[4].ID, got)
	}
	if n := srv.Requests("GET /crm/v3/objects/contacts"); n != 1+2 {
		t.Errorf("contact list requests on the association run = %d, want 3 (archived + 2 id pages)", n)
	}
	want2 := expectedFromFake(srv)
	// The merged-away contact is gone from HubSpot; the warehouse keeps it
	// flagged.
	merged := "contacts/" + contacts[3].ID
	if _, ok := want2[merged]; ok {
		t.Errorf("fake still lists merged-away %s", merged)
	}
	want2[merged] = w.rows()[merged]
	if diff := cmp.Diff(want2, w.rows()); diff != "" {
		t.Errorf("warehouse differs from the fake after the association re-read (-want +got):\n%s", diff)
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestSearchCrossesTenThousandCap(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	const n = 25000
	base := clk.Now().Add(-30 * time.Minute)
	recs := make([]hubspottest.Record, n)
	for i := range recs {
		// Many share one timestamp, as a bulk update leaves them.
		recs[i] = hubspottest.Record{ID: strconv.Itoa(5000 + 3*i), CreatedAt: base.Add(-time.Hour),
			UpdatedAt: base.Add(time.Duration(i%7) * time.Second), Properties: map[string]string{"firstname": "C" + strconv.Itoa(i)}}
	}
	mustDo(t, srv.Load(hubspottest.Contacts, recs...))
	// An old contact outside the window must not come back.
	mustDo(t, srv.Load(hubspottest.Contacts, hubspottest.Record{ID: "4000", CreatedAt: base.Add(-48 * time.Hour)}))
	c := newTestClient(t, srv, clk, nil)
	w := newWarehouse()
	w.cursors[connectors.ObjectContacts] = cursor{Mode: modeIdle, Since: base.Add(-time.Minute), AssocAt: clk.Now()}.encode()

	if err := w.pull(t, c, connectors.ObjectContacts); err != nil {
		t.Fatal(err)
	}
	if w.seen[connectors.ObjectContacts] != n || len(w.contacts) != n {
		t.Fatalf("emitted %d records, %d distinct, want %d and %d", w.seen[connectors.ObjectContacts], len(w.contacts), n, n)
	}
	for _, r := range recs {
		if _, ok := w.contacts[r.ID]; !ok {
			t.Fatalf("contact %s missing", r.ID)
		}
	}
	// 200 per search page, 50 pages per query before the cap, 125 in all;
	// one association call per 1,000 records; one archived listing.
	want := map[string]int{
		"POST /crm/v3/objects/contacts/search":                    125,
		"POST /crm/v4/associations/contacts/companies/batch/read": 25,
		"GET /crm/v3/objects/contacts":                            1,
	}
	if diff := cmp.Diff(want, srv.RequestCounts()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestShortPageWithNextIsFollowed(t *testing.T) {
	clk := newClock()
	srv := seeded(t, clk)
	srv.SetShortPages(7)
	c := newTestClient(t, srv, clk, nil)
	w := newWarehouse()
	if err := w.pull(t, c, connectors.ObjectCompanies); err != nil {
		t.Fatal(err)
	}
	if len(w.companies) != 60 {
		t.Errorf("companies = %d, want 60", len(w.companies))
	}
	// 60 live companies in pages of 7: 9 pages; the archived listing 1.
	if got := srv.Requests("GET /crm/v3/objects/companies"); got != 9+1 {
		t.Errorf("list requests = %d, want 10", got)
	}

	// Search too: a window with all contacts, short pages.
	w.cursors[connectors.ObjectContacts] = cursor{Mode: modeIdle, Since: clk.Now().Add(-400 * 24 * time.Hour), AssocAt: clk.Now()}.encode()
	if err := w.pull(t, c, connectors.ObjectContacts); err != nil {
		t.Fatal(err)
	}
	if len(w.contacts) != 180 {
		t.Errorf("contacts = %d, want 180", len(w.contacts))
	}
	if got := srv.Requests("POST /crm/v3/objects/contacts/search"); got != 26 {
		t.Errorf("search requests = %d, want 26 (180 in pages of 7)", got)
	}
}

func TestKilledAfterEveryPageResumes(t *testing.T) {
	clk := newClock()
	srv := seeded(t, clk)
	srv.SetShortPages(25) // more pages to be killed after
	straight := newWarehouse()
	straight.pullAll(t, newTestClient(t, srv, clk, nil))

	c := newTestClient(t, srv, clk, nil)
	killed := newWarehouse()
	for _, obj := range c.Objects() {
		killed.pullKilled(t, c, obj)
	}
	if diff := cmp.Diff(straight.rows(), killed.rows()); diff != "" {
		t.Errorf("killed full load differs (-straight +killed):\n%s", diff)
	}

	clk.Advance(time.Hour)
	for i, r := range srv.Records(hubspottest.Calls)[:40] {
		mustDo(t, srv.Update(hubspottest.Calls, r.ID, map[string]string{"hs_call_title": "again " + strconv.Itoa(i)}))
	}
	clk.Advance(2 * time.Minute)
	for _, obj := range c.Objects() {
		if err := straight.pull(t, c, obj); err != nil {
			t.Fatal(err)
		}
		killed.pullKilled(t, c, obj)
	}
	if diff := cmp.Diff(straight.rows(), killed.rows()); diff != "" {
		t.Errorf("killed incremental differs (-straight +killed):\n%s", diff)
	}
	if diff := cmp.Diff(expectedFromFake(srv), killed.rows()); diff != "" {
		t.Errorf("killed pulls differ from the fake (-want +got):\n%s", diff)
	}
}

func TestRidesOutFaults(t *testing.T) {
	clk := newClock()
	srv := seeded(t, clk)
	srv.Fail(6, connectortest.Fault{Status: 429})                  // storm without Retry-After
	srv.Fail(3, connectortest.Fault{Status: 429, RetryAfter: "0"}) // and with one
	srv.Fail(4, connectortest.Fault{Status: 503})                  // 5xx burst
	srv.Fail(2, connectortest.Fault{Status: 409})                  // retried as HubSpot's SDK does
	srv.Fail(1, connectortest.Fault{Kind: connectortest.FaultMalformed})
	srv.Fail(1, connectortest.Fault{Kind: connectortest.FaultTruncated})
	srv.Fail(1, connectortest.Fault{Kind: connectortest.FaultHTML})
	srv.Fail(1, connectortest.Fault{Kind: connectortest.FaultReset})
	srv.Fail(2, connectortest.Fault{Status: 502, Endpoint: "POST /crm/v3/objects/deals/search"})
	// 13 failures in a row on the first call: more than the default 8
	// retries.
	c := newTestClient(t, srv, clk, func(o *Options) { o.MaxRetries = 20 })
	w := newWarehouse()
	w.pullAll(t, c)
	if diff := cmp.Diff(expectedFromFake(srv), w.rows()); diff != "" {
		t.Errorf("warehouse differs after faults (-want +got):\n%s", diff)
	}
	st := c.Stats()
	if st.RateLimited != 9 || st.Retries < 17 {
		t.Errorf("stats = %+v, want 9 rate limited and >= 17 retries", st)
	}

	// The real rolling window, with a client that ignores it: 429s with
	// HubSpot's body are ridden out too.
	srv2 := seeded(t, clk, hubspottest.WithRateLimit(15, 200*time.Millisecond))
	c2 := newTestClient(t, srv2, clk, func(o *Options) { o.MinBackoff, o.MaxBackoff = 50*time.Millisecond, 200*time.Millisecond })
	w2 := newWarehouse()
	if err := w2.pull(t, c2, connectors.ObjectDeals); err != nil {
		t.Fatal(err)
	}
	if len(w2.deals) != 120 {
		t.Errorf("deals = %d, want 120", len(w2.deals))
	}
}

func TestAuthFailures(t *testing.T) {
	clk := newClock()
	srv := seeded(t, clk)
	srv.RevokeToken(testToken)
	c := newTestClient(t, srv, clk, nil)
	err := c.Pull(context.Background(), connectors.ObjectDeals, "", func(context.Context, *connectors.Page) error { return nil })
	var ce *connectors.Error
	if !errors.As(err, &ce) || ce.Object != connectors.ObjectDeals || ce.Page != 1 || !connectors.IsAuth(err) {
		t.Fatalf("err = %#v, want a located auth error", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "authentication failed") || strings.Contains(msg, testToken) {
		t.Errorf("err = %q, want authentication failed without the token", msg)
	}
	if n := srv.Requests("GET /crm/v3/pipelines/deals"); n != 1 {
		t.Errorf("a revoked token was retried: %d requests", n)
	}

	// The daily limit stops the run with a clear message, no retries.
	srv.AddToken(testToken)
	srv.SetDailyLimit(2)
	srv.ResetCounts()
	err = c.Pull(context.Background(), connectors.ObjectContacts, "", func(context.Context, *connectors.Page) error { return nil })
	var rl *connectors.RateLimitError
	if !errors.As(err, &rl) || !rl.Fatal || !strings.Contains(err.Error(), dailyLimitMessage) {
		t.Fatalf("err = %v, want the fatal daily limit", err)
	}
	if n := srv.TotalRequests(); n != 3 {
		t.Errorf("requests = %d, want 3 (no hammering after DAILY)", n)
	}
}

func TestOAuthRefresh(t *testing.T) {
	clk := newClock()
	srv := seeded(t, clk, hubspottest.WithOAuthApp("client-1", "client-secret-xyz"))
	srv.AddRefreshToken("rt-initial-abc")
	srv.SetRotateRefreshTokens(true)
	store := &connectortest.TokenStore{}
	newOAuth := func() *Client {
		return newTestClient(t, srv, clk, func(o *Options) {
			o.Token = ""
			o.OAuth = &OAuth{ClientID: "client-1", ClientSecret: "client-secret-xyz", RefreshToken: "rt-initial-abc"}
			o.TokenStore = store
		})
	}
	c := newOAuth()
	// Concurrent pulls share one refresh.
	var wg sync.WaitGroup
	errs := make([]error, len(c.Objects()))
	for i, obj := range c.Objects() {
		wg.Go(func() {
			errs[i] = c.Pull(context.Background(), obj, "", func(context.Context, *connectors.Page) error { return nil })
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := srv.TokensIssued(); n != 1 {
		t.Errorf("tokens issued = %d, want 1", n)
	}
	// 26 minutes on, the token is within 5 minutes of expiry: refreshed
	// before use, with the rotated refresh token (saved before use).
	clk.Advance(26 * time.Minute)
	if err := c.Pull(context.Background(), connectors.ObjectStages, "", func(context.Context, *connectors.Page) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if n, saved := srv.TokensIssued(), store.Saved("hs"); n != 2 || len(saved) != 2 || saved[1].RefreshToken == "rt-initial-abc" {
		t.Errorf("tokens issued = %d, saved = %+v, want 2 with a rotated refresh token", n, saved)
	}
	// A new process resumes from the stored (rotated) refresh token; the
	// configured one was retired by rotation.
	clk.Advance(40 * time.Minute)
	c2 := newOAuth()
	if w, err := c2.Check(context.Background()); err != nil || len(w) != 0 {
		t.Fatalf("Check = %v, %v", w, err)
	}
	// A token refused before its expiry is refreshed once and retried.
	last := func() connectors.Token { tok, _, _ := store.LoadToken(context.Background(), "hs"); return tok }
	srv.RevokeToken(last().AccessToken)
	if err := c2.Pull(context.Background(), connectors.ObjectStages, "", func(context.Context, *connectors.Page) error { return nil }); err != nil {
		t.Fatalf("pull after a revoked access token: %v", err)
	}
	// A revoked refresh token is an auth error without secrets.
	srv.RevokeRefreshToken(last().RefreshToken)
	clk.Advance(time.Hour)
	err := c2.Pull(context.Background(), connectors.ObjectStages, "", func(context.Context, *connectors.Page) error { return nil })
	if !connectors.IsAuth(err) || !strings.Contains(err.Error(), "authentication failed") {
		t.Fatalf("err = %v, want an auth error", err)
	}
	for _, tok := range store.Saved("hs") {
		for _, s := range []string{tok.AccessToken, tok.RefreshToken, "client-secret-xyz"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("error %q contains a secret", err)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	srv.AddToken("pat-limited", hubspottest.ScopeContacts, hubspottest.ScopeOwners)
	tests := []struct {
		token   string
		wantErr string
	}{
		{testToken, ""},
		{"pat-limited", "stages: token lacks scope crm.objects.deals.read; companies: token lacks scope crm.objects.companies.read; deals: token lacks scope crm.objects.deals.read"},
		{"pat-unknown", "authentication failed (HTTP 401): INVALID_AUTHENTICATION"},
	}
	for _, tt := range tests {
		t.Run(tt.token, func(t *testing.T) {
			c := newTestClient(t, srv, clk, func(o *Options) { o.Token = tt.token })
			_, err := c.Check(context.Background())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Check() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !connectors.IsAuth(err) {
				t.Fatalf("Check() = %v, want an auth error containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), tt.token) {
				t.Errorf("Check() error %q contains the token", err)
			}
		})
	}
}

// A change made a second before a sync is read by that sync: the search
// window ends at now, and the next one starts the overlap before it.
func TestFreshChangeLandsInNextSync(t *testing.T) {
	clk := newClock()
	srv := seeded(t, clk)
	c := newTestClient(t, srv, clk, nil)
	w := newWarehouse()
	if err := w.pull(t, c, connectors.ObjectDeals); err != nil {
		t.Fatal(err)
	}
	deal := srv.Records(hubspottest.Deals)[0].ID
	clk.Advance(time.Hour)
	mustDo(t, srv.Update(hubspottest.Deals, deal, map[string]string{"dealname": "Changed a second ago", "amount": "777"}))
	clk.Advance(time.Second)
	start := clk.Now()
	if err := w.pull(t, c, connectors.ObjectDeals); err != nil {
		t.Fatal(err)
	}
	if d := w.deals[deal]; d.Name != "Changed a second ago" || amountString(d.Amount) != "777" {
		t.Errorf("deal %s = %q %s, want the change made a second before the sync", deal, d.Name, amountString(d.Amount))
	}
	cur, err := decodeCursor(w.cursors[connectors.ObjectDeals])
	if err != nil {
		t.Fatal(err)
	}
	if want := (cursor{V: 1, Mode: modeIdle, Since: start.Add(-10 * time.Minute), AssocAt: cur.AssocAt}); cur != want {
		t.Errorf("cursor after the run = %+v, want the next window from %v (now - overlap)", cur, want.Since)
	}
}

// A deal without deal_currency_code takes the portal's currency from the
// account details, which need the oauth scope. When they cannot say, the
// deal has no currency (never a guess) and the connector says so once.
func TestPortalCurrency(t *testing.T) {
	const unknown = "the portal currency is unknown"
	scopesWithout := []string{hubspottest.ScopeContacts, hubspottest.ScopeCompanies, hubspottest.ScopeDeals, hubspottest.ScopeOwners, hubspottest.ScopeEmailBody}
	for _, tt := range []struct {
		name     string
		scopes   []string // of the token; nil: all
		portal   string   // the account's companyCurrency
		config   string   // the connector's currency
		want     string   // of deals without deal_currency_code
		warnings int
		requests int // of the account details, by the pulls
		check    string
	}{
		{name: "portal currency", portal: "EUR", want: "EUR", requests: 1},
		{name: "no oauth scope", scopes: scopesWithout, portal: "EUR", want: "", warnings: 1, requests: 1,
			check: "the token lacks the oauth scope, so the portal's currency cannot be read: deals without deal_currency_code will have no currency"},
		{name: "no companyCurrency", portal: "", want: "", warnings: 1, requests: 1,
			check: "the account details say no companyCurrency"},
		{name: "configured", scopes: scopesWithout, portal: "EUR", config: "gbp", want: "GBP"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			srv := seeded(t, clk, hubspottest.WithCompanyCurrency(tt.portal))
			if tt.scopes != nil {
				srv.AddToken(testToken, tt.scopes...)
			}
			logs := &connectortest.Buffer{}
			c := newTestClient(t, srv, clk, func(o *Options) {
				o.Currency = tt.config
				o.Logger = slog.New(slog.NewTextHandler(logs, nil))
			})
			w := newWarehouse()
			if err := w.pull(t, c, connectors.ObjectDeals); err != nil {
				t.Fatal(err)
			}
			// A second run: asked once per Client, said once.
			clk.Advance(time.Hour)
			for _, r := range srv.Records(hubspottest.Deals)[:10] {
				mustDo(t, srv.Update(hubspottest.Deals, r.ID, map[string]string{"dealname": "again"}))
			}
			if err := w.pull(t, c, connectors.ObjectDeals); err != nil {
				t.Fatal(err)
			}
			without := 0
			for _, r := range srv.Records(hubspottest.Deals) {
				d := w.deals[r.ID]
				want := r.Properties["deal_currency_code"]
				if want == "" {
					want = tt.want
					without++
				}
				if d.Currency != want {
					t.Errorf("deal %s (deal_currency_code %q) currency = %q, want %q", r.ID, r.Properties["deal_currency_code"], d.Currency, want)
				}
			}
			if without == 0 {
				t.Fatal("the seed has no deal without deal_currency_code")
			}
			if n := strings.Count(logs.String(), unknown); n != tt.warnings {
				t.Errorf("%d warnings %q, want %d:\n%s", n, unknown, tt.warnings, logs.String())
			}
			if n := srv.Requests("GET /account-info/v3/details"); n != tt.requests {
				t.Errorf("account details read %d times, want %d", n, tt.requests)
			}

			srv.ResetCounts()
			warns, err := c.Check(context.Background())
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if tt.check == "" && len(warns) != 0 || tt.check != "" && (len(warns) != 1 || !strings.Contains(warns[0], tt.check)) {
				t.Errorf("Check warnings = %q, want one containing %q", warns, tt.check)
			}
			if n, want := srv.Requests("GET /account-info/v3/details"), map[bool]int{true: 0, false: 1}[tt.config != ""]; n != want {
				t.Errorf("Check read the account details %d times, want %d", n, want)
			}
		})
	}
}

// An OAuth app's token lists its scopes: without oauth, Check warns that
// the portal's currency cannot be read, and asks nothing more.
func TestCheckOAuthWithoutOAuthScope(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk, hubspottest.WithOAuthApp("client-1", "client-secret-xyz"))
	srv.AddRefreshToken("rt-1", hubspottest.ScopeContacts, hubspottest.ScopeCompanies, hubspottest.ScopeDeals,
		hubspottest.ScopeOwners, hubspottest.ScopeEmailBody)
	c := newTestClient(t, srv, clk, func(o *Options) {
		o.Token = ""
		o.OAuth = &OAuth{ClientID: "client-1", ClientSecret: "client-secret-xyz", RefreshToken: "rt-1"}
	})
	warns, err := c.Check(context.Background())
	want := []string{"the OAuth token lacks the oauth scope, so the portal's currency cannot be read: " +
		"deals without deal_currency_code will have no currency and be left out of money KPIs; grant the oauth scope or set currency on the connector"}
	if err != nil || !cmp.Equal(want, warns) {
		t.Errorf("Check() = %q, %v; want %q", warns, err, want)
	}
	if n := srv.Requests("GET /account-info/v3/details"); n != 0 {
		t.Errorf("account details read %d times, want 0", n)
	}
}

// The portal's clock stamps modified and archived times, and need not
// agree with ours: behind it by two years, or by an hour, more than the
// overlap, or an hour ahead. The next window starts just after the latest
// modified time read (reference §4's bookmark) and has no upper bound, so
// a change, an archive and a first call made after the full load are read
// by the next sync all the same.
func TestPortalClockNotOurs(t *testing.T) {
	for _, tc := range []struct {
		name   string
		portal func(clk *clock) func() time.Time
	}{
		{"two years behind", func(clk *clock) func() time.Time {
			return func() time.Time { return clk.Now().Add(-2 * 365 * 24 * time.Hour) }
		}},
		{"an hour behind", func(clk *clock) func() time.Time {
			return func() time.Time { return clk.Now().Add(-time.Hour) }
		}},
		{"an hour ahead", func(clk *clock) func() time.Time {
			return func() time.Time { return clk.Now().Add(time.Hour) }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			srv := newFake(t, clk, hubspottest.WithClock(tc.portal(clk)))
			a := srv.Create(hubspottest.Deals, map[string]string{"dealname": "A", "amount": "100", "deal_currency_code": "EUR"})
			b := srv.Create(hubspottest.Deals, map[string]string{"dealname": "B", "amount": "200", "deal_currency_code": "EUR"})
			c := newTestClient(t, srv, clk, nil)
			w := newWarehouse()
			mustDo(t, w.pull(t, c, connectors.ObjectDeals))
			// No calls yet: the next window has no latest time to start at.
			mustDo(t, w.pull(t, c, ObjectCalls))

			clk.Advance(time.Hour)
			call := srv.Create(hubspottest.Calls, map[string]string{"hs_call_title": "First"})
			mustDo(t, srv.Update(hubspottest.Deals, a, map[string]string{"dealname": "A2", "amount": "150"}))
			mustDo(t, srv.Archive(hubspottest.Deals, b))
			clk.Advance(time.Hour)
			mustDo(t, w.pull(t, c, connectors.ObjectDeals))
			got := map[string]string{}
			for id, d := range w.deals {
				got[id] = fmt.Sprintf("%s %s deleted=%v", d.Name, amountString(d.Amount), d.Deleted)
			}
			want := map[string]string{a: "A2 150 deleted=false", b: "B 200 deleted=true"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("deals after the incremental sync (-want +got):\n%s", diff)
			}
			mustDo(t, w.pull(t, c, ObjectCalls))
			if got := w.activities[call].Subject; got != "First" {
				t.Errorf("call %s subject = %q, want the call created after the first sync", call, got)
			}
		})
	}
}
