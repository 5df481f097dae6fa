package amocrm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
)

func objID(o amocrmtest.Object) string { return fmt.Sprint(o["id"]) }

func fakeIDs(objs []amocrmtest.Object, prefix string) map[string]bool {
	m := map[string]bool{}
	for _, o := range objs {
		m[prefix+objID(o)] = true
	}
	return m
}

// pullsFake pulls obj whole and fails unless it brings exactly the records
// of the fake's entity e, by id.
func pullsFake(t *testing.T, c *Client, srv *amocrmtest.Server, obj connectors.Object, e amocrmtest.Entity) result {
	t.Helper()
	r := pull(t, c, obj, "")
	// A pull of one object brings records of its kind alone.
	got := ids(r.merged.Users, func(u connectors.User) string { return u.ID })
	maps.Copy(got, ids(r.merged.Companies, func(co connectors.Company) string { return co.ID }))
	maps.Copy(got, ids(r.merged.Contacts, func(ct connectors.Contact) string { return ct.ID }))
	maps.Copy(got, ids(r.merged.Deals, func(d connectors.Deal) string { return d.ID }))
	if diff := cmp.Diff(fakeIDs(srv.Objects(e), ""), got); diff != "" {
		t.Errorf("%s (-fake +pulled):\n%s", obj, diff)
	}
	return r
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The activity sources as the fake holds them: notes of the mapped types,
// all tasks, chat message events.
func fakeActivityIDs(srv *amocrmtest.Server) (tasks, notes, events map[string]bool) {
	tasks = fakeIDs(srv.Objects(amocrmtest.Tasks), "task:")
	notes = map[string]bool{}
	for _, e := range []amocrmtest.Entity{amocrmtest.LeadNotes, amocrmtest.ContactNotes, amocrmtest.CompanyNotes} {
		for _, o := range srv.Objects(e) {
			switch o["note_type"] {
			case "call_in", "call_out", "amomail_message", "common", "sms_in", "sms_out":
				notes["note:"+objID(o)] = true
			}
		}
	}
	events = map[string]bool{}
	for _, o := range srv.Objects(amocrmtest.Events) {
		switch o["type"] {
		case "incoming_chat_message", "outgoing_chat_message":
			events["event:"+o["id"].(string)] = true
		}
	}
	return
}

func TestFullLoadEqualsFake(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	srv.Seed(amocrmtest.SeedConfig{Users: 9, Companies: 70, Contacts: 260, Leads: 520, Tasks: 300, Notes: 400, Messages: 230, Seed: 1})
	c := newConn(t, srv, clk, nil)

	users := pullsFake(t, c, srv, connectors.ObjectUsers, amocrmtest.Users)
	inactive := 0
	for _, u := range users.merged.Users {
		if !u.Active {
			inactive++
		}
	}
	if inactive != 1 { // the 7th of 9 users
		t.Errorf("inactive users = %d, want 1", inactive)
	}

	stages := pull(t, c, connectors.ObjectStages, "")
	var got []string
	for _, s := range stages.merged.Stages {
		got = append(got, s.ID+"="+s.Status)
	}
	want := []string{"7000001:61000001=open", "7000001:61000002=open", "7000001:61000003=open", "7000001:142=won", "7000001:143=lost",
		"7000002:62000001=open", "7000002:62000002=open", "7000002:142=won", "7000002:143=lost"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}

	pullsFake(t, c, srv, connectors.ObjectCompanies, amocrmtest.Companies)
	pullsFake(t, c, srv, connectors.ObjectContacts, amocrmtest.Contacts)
	deals := pullsFake(t, c, srv, connectors.ObjectDeals, amocrmtest.Leads)

	// Record by record: every pulled deal carries the fake's values.
	fakeLeads := map[string]amocrmtest.Object{}
	for _, o := range srv.Objects(amocrmtest.Leads) {
		fakeLeads[objID(o)] = o
	}
	for _, d := range deals.merged.Deals {
		o := fakeLeads[d.ID]
		wantStage := fmt.Sprintf("%v:%v", o["pipeline_id"], o["status_id"])
		if d.Name != o["name"] || d.StageID != wantStage || d.Currency != "RUB" || d.UpdatedAt.Unix() != o["updated_at"].(int64) ||
			d.Amount == nil || *d.Amount != float64(o["price"].(int)) || d.OwnerID != fmt.Sprint(o["responsible_user_id"]) {
			t.Fatalf("deal %s = %+v, fake %v", d.ID, d, o)
		}
	}

	tasksWant, notesWant, eventsWant := fakeActivityIDs(srv)
	actIDs := func(r result) map[string]bool {
		return ids(r.merged.Activities, func(a connectors.Activity) string { return a.ID })
	}
	if diff := cmp.Diff(tasksWant, actIDs(pull(t, c, ObjectTasks, ""))); diff != "" {
		t.Errorf("tasks (-fake +pulled):\n%s", diff)
	}
	if diff := cmp.Diff(notesWant, actIDs(pull(t, c, ObjectNotes, ""))); diff != "" {
		t.Errorf("notes (-fake +pulled):\n%s", diff)
	}
	if diff := cmp.Diff(eventsWant, actIDs(pull(t, c, ObjectEvents, ""))); diff != "" {
		t.Errorf("events (-fake +pulled):\n%s", diff)
	}

	// 520 leads at 250 per page: keyset pages re-read the boundary second,
	// so 3 list pages (+ at most one for a tie), 1 deleted-leads page (204),
	// 1 account read.
	if n := srv.Requests("/api/v4/leads"); n < 4 || n > 5 {
		t.Errorf("lead requests = %d, want 4-5", n)
	}
	if n := srv.Requests("/api/v4/account"); n != 1 {
		t.Errorf("account requests = %d, want 1", n)
	}
	total := 0
	for _, p := range deals.pages {
		total += p.Requests
	}
	if total != srv.Requests("/api/v4/leads")+1 {
		t.Errorf("Page.Requests sum = %d, want %d", total, srv.Requests("/api/v4/leads")+1)
	}
}

func TestIncrementalFetchesOnlyChanges(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	// Seeded a day back, so no record sits in the overlap second.
	srv.Seed(amocrmtest.SeedConfig{Companies: 40, Contacts: 300, Leads: 600, Seed: 2, End: clk.Now().Add(-24 * time.Hour)})
	c := newConn(t, srv, clk, nil)
	cursors := map[connectors.Object]string{}
	// last is what each first pull read last: the seed's clock is a day
	// behind ours, so the next window starts at it (connectors.NextWindow)
	// and reads it again.
	last := map[connectors.Object]map[string]bool{}
	for _, obj := range []connectors.Object{connectors.ObjectDeals, connectors.ObjectContacts, ObjectEvents} {
		r := pull(t, c, obj, "")
		cursors[obj] = r.cursor
		if last[obj] = lastRead(r.merged, obj == ObjectEvents); len(last[obj]) != 1 {
			t.Fatalf("%s read last: %v, want one", obj, last[obj])
		}
	}

	clk.Advance(time.Hour)
	srv.Update(amocrmtest.Leads, amocrmtest.FirstLeadID+3, amocrmtest.Object{"name": "Renamed", "status_id": 142})
	srv.Update(amocrmtest.Leads, amocrmtest.FirstLeadID+400, amocrmtest.Object{"price": 777})
	newID := srv.Put(amocrmtest.Leads, amocrmtest.Object{"name": "New lead", "price": 5, "status_id": 61000001, "pipeline_id": 7000001,
		"responsible_user_id": 8000001, "_embedded": amocrmtest.Object{"tags": []any{}, "companies": []any{}, "contacts": []any{}}})
	srv.Delete(amocrmtest.Leads, amocrmtest.FirstLeadID+10)
	srv.Delete(amocrmtest.Contacts, amocrmtest.FirstContactID+7)
	srv.Update(amocrmtest.Contacts, amocrmtest.FirstContactID+8, amocrmtest.Object{"name": "Changed"})
	clk.Advance(time.Minute)
	srv.ResetCounts()

	c2 := newConn(t, srv, clk, nil) // a new run: a new process
	deals := pull(t, c2, connectors.ObjectDeals, cursors[connectors.ObjectDeals])
	var got []string
	for _, d := range deals.merged.Deals {
		if !last[connectors.ObjectDeals]["d"+d.ID] {
			got = append(got, d.ID+" "+d.Status)
		}
	}
	sort.Strings(got)
	want := []string{fmt.Sprint(amocrmtest.FirstLeadID+3) + " won", fmt.Sprint(amocrmtest.FirstLeadID+400) + " open", fmt.Sprint(newID) + " open"}
	sort.Strings(want)
	if diff := cmp.Diff(want, got); diff != "" || len(deals.merged.Deals) != len(want)+1 {
		t.Errorf("changed deals besides the one read last (-want +got):\n%s\n%d deals in all, want %d", diff, len(deals.merged.Deals), len(want)+1)
	}
	wantDel := []connectors.Deletion{{Object: connectors.ObjectDeals, ID: fmt.Sprint(amocrmtest.FirstLeadID + 10), At: clk.Now().Add(-time.Minute)}}
	if diff := cmp.Diff(wantDel, deals.merged.Deletions); diff != "" {
		t.Errorf("deleted leads (-want +got):\n%s", diff)
	}
	// One list page, one deleted-leads page, one account read: nothing
	// else was fetched.
	if n, a := srv.Requests("/api/v4/leads"), srv.Requests("/api/v4/account"); n != 2 || a != 1 {
		t.Errorf("requests: leads %d account %d, want 2 and 1", n, a)
	}

	conts := pull(t, c2, connectors.ObjectContacts, cursors[connectors.ObjectContacts])
	if diff := cmp.Diff(plus(last[connectors.ObjectContacts], fmt.Sprint("ct", amocrmtest.FirstContactID+8)), recordIDs(conts.merged)); diff != "" {
		t.Errorf("changed contacts, and the one read last (-want +got):\n%s", diff)
	}
	if n := srv.Requests("/api/v4/contacts"); n != 1 {
		t.Errorf("contact requests = %d, want 1", n)
	}
	ev := pull(t, c2, ObjectEvents, cursors[ObjectEvents])
	wantEv := plus(last[ObjectEvents], fmt.Sprintf("xcontacts%d", amocrmtest.FirstContactID+7), fmt.Sprintf("xdeals%d", amocrmtest.FirstLeadID+10))
	if diff := cmp.Diff(wantEv, recordIDs(ev.merged)); diff != "" {
		t.Errorf("events: the deletions, and the event read last (-want +got):\n%s", diff)
	}
	// One request for every type: the comma list, confirmed by the
	// first run's events and kept in the cursor.
	if n := srv.Requests("/api/v4/events"); n != 1 {
		t.Errorf("event requests = %d, want 1", n)
	}
	if !strings.Contains(ev.cursor, `"types":"list"`) {
		t.Errorf("events cursor %s, want the comma list kept", ev.cursor)
	}

	// A run with nothing new costs one request, which reads again the
	// contact last changed: a minute before the run, older than the
	// window's one-second overlap.
	srv.ResetCounts()
	clk.Advance(time.Hour)
	again := pull(t, c2, connectors.ObjectContacts, conts.cursor)
	if len(again.merged.Contacts) != 1 || again.merged.Contacts[0].Name != "Changed" || srv.Requests("/api/v4/contacts") != 1 || len(again.pages) != 1 {
		t.Errorf("idle run: %d contacts, %d requests, %d pages; want 1 (Changed), 1, 1", len(again.merged.Contacts), srv.Requests("/api/v4/contacts"), len(again.pages))
	}
}

// A pull killed after every page and resumed from the last emitted cursor
// ends with exactly the records of an uninterrupted pull, even with edits
// between the runs.
func TestResumeAfterEveryPage(t *testing.T) {
	for _, obj := range []connectors.Object{connectors.ObjectUsers, connectors.ObjectCompanies, connectors.ObjectContacts,
		connectors.ObjectDeals, ObjectTasks, ObjectNotes, ObjectEvents} {
		t.Run(string(obj), func(t *testing.T) {
			clk := newClock()
			srv := newFake(t, clk)
			srv.Seed(amocrmtest.SeedConfig{Users: 23, Companies: 47, Contacts: 61, Leads: 83, Tasks: 71, Notes: 90, Messages: 57, Seed: 3})
			srv.Delete(amocrmtest.Leads, amocrmtest.FirstLeadID+1)
			small := func(o *Options) { o.PageSize = 7 }
			full := pull(t, newConn(t, srv, clk, small), obj, "")
			want := recordIDs(full.merged)

			c := newConn(t, srv, clk, small)
			got := map[string]bool{}
			cursor := ""
			for runs := 0; ; runs++ {
				if runs > 200 {
					t.Fatal("no progress")
				}
				r, err := tryPull(c, obj, cursor, 1)
				for k := range recordIDs(r.merged) {
					got[k] = true
				}
				cursor = r.cursor
				if err != nil && !errors.Is(err, errStop) {
					t.Fatal(err)
				}
				if err == nil || !strings.Contains(cursor, `"to"`) {
					break // the final page was emitted
				}
				if strings.Contains(cursor, `"to"`) && runs == 3 {
					// An edit mid-pull moves a record out of the window;
					// keyset paging must not skip its neighbours.
					clk.Advance(time.Minute)
					srv.Update(amocrmtest.Leads, amocrmtest.FirstLeadID+5, amocrmtest.Object{"name": "moved"})
					srv.Update(amocrmtest.Contacts, amocrmtest.FirstContactID+5, amocrmtest.Object{"name": "moved"})
					srv.Update(amocrmtest.Companies, amocrmtest.FirstCompanyID+5, amocrmtest.Object{"name": "moved"})
				}
			}
			// The edited records left this run's window; the next run has them.
			for k := range recordIDs(pull(t, c, obj, cursor).merged) {
				got[k] = true
			}
			for k := range want {
				if !got[k] {
					t.Errorf("resumed pulls lost %s", k)
				}
			}
			if len(want) == 0 {
				t.Fatal("empty data set")
			}
		})
	}
}

func recordIDs(p connectors.Page) map[string]bool {
	m := map[string]bool{}
	for _, r := range p.Users {
		m["u"+r.ID] = true
	}
	for _, r := range p.Companies {
		m["co"+r.ID] = true
	}
	for _, r := range p.Contacts {
		m["ct"+r.ID] = true
	}
	for _, r := range p.Deals {
		m["d"+r.ID] = true
	}
	for _, r := range p.Activities {
		m["a"+r.ID] = true
	}
	for _, r := range p.Deletions {
		m["x"+string(r.Object)+r.ID] = true
	}
	return m
}

// Exactly two full pages: the second's next link points at an empty page,
// which answers 204 and ends the pull with the final cursor.
func TestPageBoundary204(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	for i := range 10 {
		srv.Put(amocrmtest.Tasks, amocrmtest.Object{"id": 100 + i, "text": fmt.Sprint("t", i), "updated_at": 1700000000 + i,
			"entity_type": "leads", "entity_id": 1, "task_type_id": 1, "complete_till": 1700000000, "result": []any{}})
	}
	c := newConn(t, srv, clk, func(o *Options) { o.PageSize = 5 })
	r := pull(t, c, ObjectTasks, "")
	if len(r.merged.Activities) != 10 {
		t.Errorf("tasks = %d, want 10", len(r.merged.Activities))
	}
	if n := srv.Requests("/api/v4/tasks"); n != 3 {
		t.Errorf("requests = %d, want 3 (5, 5, then 204)", n)
	}
	last := r.pages[len(r.pages)-1]
	if last.Len() != 0 {
		t.Errorf("last page has %d records, want the empty 204 page", last.Len())
	}
	// The latest updated_at read, the tenth task's (connectors.NextWindow).
	if want := `{"v":1,"from":1700000009}`; last.Cursor != want {
		t.Errorf("final cursor = %s, want %s", last.Cursor, want)
	}
}

func TestIgnoredFilterFailsLoudly(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	srv.Seed(amocrmtest.SeedConfig{Leads: 30, Seed: 4})
	c := newConn(t, srv, clk, nil)
	first := pull(t, c, connectors.ObjectDeals, "")
	clk.Advance(time.Hour)
	srv.SetIgnoreFilters(true)
	_, err := tryPull(c, connectors.ObjectDeals, first.cursor, -1)
	var me *connectors.MalformedError
	var ce *connectors.Error
	if !errors.As(err, &me) || !errors.As(err, &ce) || ce.Page != 1 || !strings.Contains(err.Error(), "ignored filter[updated_at]") {
		t.Fatalf("err = %v, want a MalformedError on page 1 saying the filter was ignored", err)
	}
}

func TestFaultsRiddenOut(t *testing.T) {
	faults := []connectortest.Fault{
		amocrmtest.FaultTooManyRequests, amocrmtest.FaultTooManyHTML, amocrmtest.FaultServerError, amocrmtest.FaultGatewayTimeout,
		amocrmtest.FaultMalformedJSON, amocrmtest.FaultTruncatedJSON, amocrmtest.FaultHTML, amocrmtest.FaultReset, amocrmtest.FaultSlow,
	}
	for _, f := range faults {
		t.Run(fmt.Sprint(f), func(t *testing.T) {
			clk := newClock()
			srv := newFake(t, clk)
			srv.Seed(amocrmtest.SeedConfig{Leads: 20, Seed: 5})
			c := newConn(t, srv, clk, nil)
			srv.Fail(3, f)
			r := pull(t, c, connectors.ObjectDeals, "")
			if len(r.merged.Deals) != 20 {
				t.Errorf("deals = %d, want 20", len(r.merged.Deals))
			}
			// 3 failed + account + list + deleted list; a slow answer is
			// no failure.
			want := 6
			if f.Kind == connectortest.FaultSlow {
				want = 3
			}
			if n := srv.TotalRequests(); n != want {
				t.Errorf("requests = %d, want %d", n, want)
			}
			if r.requests != want {
				t.Errorf("Page.Requests total = %d, want %d", r.requests, want)
			}
		})
	}
}

func TestStorm429(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk, amocrmtest.WithBanAfter(0))
	srv.Seed(amocrmtest.SeedConfig{Contacts: 600, Seed: 6})
	c := newConn(t, srv, clk, nil)
	srv.Fail(7, amocrmtest.FaultTooManyRequests)
	r := pull(t, c, connectors.ObjectContacts, "")
	if len(ids(r.merged.Contacts, func(c connectors.Contact) string { return c.ID })) != 600 {
		t.Errorf("contacts = %d, want 600", len(r.merged.Contacts))
	}
	if s := c.Stats(); s.RateLimited != 7 {
		t.Errorf("429s = %d, want 7", s.RateLimited)
	}
}

func TestClassify429RetryAfter(t *testing.T) {
	c := &Client{now: time.Now}
	tests := []struct {
		body   string
		header string
		want   time.Duration
	}{
		{`{"title":"Too Many Requests","type":"https://httpstatus.es/429","status":429,"detail":"You have sent too many requests","retry_after":300}`, "", 300 * time.Second},
		{`{"title":"Too Many Requests","status":429,"retry_after":"2"}`, "", 2 * time.Second},
		{`<html>Too Many Requests</html>`, "", 0},
		{`<html>Too Many Requests</html>`, "3", 3 * time.Second},
		{``, "", 0},
	}
	for _, tt := range tests {
		h := map[string][]string{}
		if tt.header != "" {
			h["Retry-After"] = []string{tt.header}
		}
		v := c.classify(429, h, []byte(tt.body))
		if !v.Handled || !v.Retry || v.Wait != tt.want {
			t.Errorf("classify(429, %q) = %+v, want retry after %s", tt.body, v, tt.want)
		}
	}
}

// Repeated 429s get the IP banned; the 403 HTML that follows stops the run
// at once, and no later pull of any object sends a request.
func TestIPBanStopsRun(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk, amocrmtest.WithBanAfter(3))
	srv.Seed(amocrmtest.SeedConfig{Leads: 20, Seed: 7})
	c := newConn(t, srv, clk, nil)
	srv.Fail(3, amocrmtest.FaultTooManyRequests)
	_, err := tryPull(c, connectors.ObjectDeals, "", -1)
	var rl *connectors.RateLimitError
	if !errors.As(err, &rl) || !rl.Fatal || rl.Status != 403 || !strings.Contains(err.Error(), "blocked this IP address") {
		t.Fatalf("err = %v, want a fatal IP-ban error", err)
	}
	if n := srv.TotalRequests(); n != 4 { // 3×429, then the 403, then nothing
		t.Errorf("requests = %d, want 4", n)
	}
	for _, obj := range c.Objects() {
		if _, err := tryPull(c, obj, "", -1); !errors.As(err, &rl) || !rl.Fatal {
			t.Errorf("Pull(%s) after the ban: %v, want the ban error", obj, err)
		}
	}
	if _, err := c.Check(context.Background()); err == nil {
		t.Error("Check after the ban succeeded")
	}
	if n := srv.TotalRequests(); n != 4 {
		t.Errorf("requests after the ban = %d, want still 4", n)
	}
}

func TestAuthErrors(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	srv.Seed(amocrmtest.SeedConfig{Leads: 5, Seed: 8})
	c := newConn(t, srv, clk, nil)
	token := srv.Token()
	srv.RevokeTokens()
	_, err := tryPull(c, connectors.ObjectContacts, "", -1)
	if !connectors.IsAuth(err) || !strings.Contains(err.Error(), "authentication failed") || !strings.Contains(err.Error(), "wrong domain or token") {
		t.Fatalf("err = %v, want authentication failed (wrong domain or token)", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("error contains the token: %v", err)
	}
	if n := srv.TotalRequests(); n != 1 {
		t.Errorf("requests = %d, want 1 (401 is not retried)", n)
	}

	srv2 := newFake(t, clk)
	srv2.SetPaymentRequired(true)
	_, err = tryPull(newConn(t, srv2, clk, nil), connectors.ObjectUsers, "", -1)
	var re *connectors.ResponseError
	if !errors.As(err, &re) || re.Status != 402 || !strings.Contains(err.Error(), "account is unpaid") {
		t.Errorf("err = %v, want an unpaid-account error", err)
	}
}

func TestCheck(t *testing.T) {
	clk := newClock()
	tests := []struct {
		name    string
		token   func(srv *amocrmtest.Server) string
		admin   bool
		warn    string
		wantErr string
	}{
		{name: "ok", token: func(s *amocrmtest.Server) string { return s.Token() }, admin: true},
		{name: "not admin", token: func(s *amocrmtest.Server) string { return s.Token() }, wantErr: "not an admin"},
		{name: "expires soon", token: func(*amocrmtest.Server) string { return amocrmtest.LongLivedToken(clk.Now().Add(5 * 24 * time.Hour)) },
			admin: true, warn: "expires on 2026-06-06 (in 5 days)"},
		{name: "expired", token: func(*amocrmtest.Server) string { return amocrmtest.LongLivedToken(clk.Now().Add(-time.Hour)) },
			admin: true, wantErr: "expired on 2026-06-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFake(t, clk)
			tok := tt.token(srv)
			srv2 := newFake(t, clk, amocrmtest.WithToken(tok))
			srv2.SetAdmin(tt.admin)
			c := newConn(t, srv2, clk, nil)
			warns, err := c.Check(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Check() err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (tt.warn == "") != (len(warns) == 0) || (tt.warn != "" && !strings.Contains(warns[0], tt.warn)) {
				t.Errorf("warnings = %q, want %q", warns, tt.warn)
			}
			if srv2.Requests("/api/v4/account") != 1 || srv2.Requests("/api/v4/users") != 1 {
				t.Errorf("check requests: account %d users %d, want 1 and 1", srv2.Requests("/api/v4/account"), srv2.Requests("/api/v4/users"))
			}
		})
	}
}
