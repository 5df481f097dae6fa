package amocrm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
)

// Every object pulls the same records, full and incremental, whichever
// reasonable reading of reference/amocrm.md the server makes.
func TestRobustToReferenceReadings(t *testing.T) {
	objs := []connectors.Object{connectors.ObjectUsers, connectors.ObjectCompanies, connectors.ObjectContacts,
		connectors.ObjectDeals, ObjectTasks, ObjectNotes, ObjectEvents}
	for _, tc := range []struct {
		name string
		q    amocrmtest.Quirks
	}{
		{"as documented", amocrmtest.Quirks{}},
		{"order ignored", amocrmtest.Quirks{IgnoreOrder: true}},
		{"updated_at filter: range only", amocrmtest.Quirks{UpdatedFilter: "range"}},
		{"updated_at filter: single value only", amocrmtest.Quirks{UpdatedFilter: "single"}},
		{"filter[type] compared literally", amocrmtest.Quirks{EventTypes: "literal"}},
		{"filter[type][] only", amocrmtest.Quirks{EventTypes: "array"}},
		{"with=only_deleted ignored", amocrmtest.Quirks{IgnoreOnlyDeleted: true}},
		{"empty page is 200 with _embedded []", amocrmtest.Quirks{Empty200: true}},
		{"page past the end repeats the last", amocrmtest.Quirks{ClampPage: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			srv := newFake(t, clk)
			srv.Seed(amocrmtest.SeedConfig{Users: 13, Companies: 27, Contacts: 31, Leads: 43, Tasks: 37, Notes: 40, Messages: 29, Seed: 5,
				End: clk.Now().Add(-24 * time.Hour)})
			srv.Delete(amocrmtest.Leads, amocrmtest.FirstLeadID+1)
			clk.Advance(time.Minute) // the deletion event leaves the overlap second
			small := func(o *Options) { o.PageSize = 10 }

			// The reference reading gives the wanted records.
			want := map[connectors.Object]map[string]bool{}
			cursors := map[connectors.Object]string{}
			for _, obj := range objs {
				want[obj] = recordIDs(pull(t, newConn(t, srv, clk, small), obj, "").merged)
			}
			if tc.q.IgnoreOnlyDeleted {
				// Those live leads are not deleted; the deletion comes
				// from the lead_deleted event instead.
				delete(want[connectors.ObjectDeals], fmt.Sprint("xdeals", amocrmtest.FirstLeadID+1))
			}
			srv.SetQuirks(tc.q)
			c := newConn(t, srv, clk, small)
			for _, obj := range objs {
				r := pull(t, c, obj, "")
				cursors[obj] = r.cursor
				if diff := cmp.Diff(want[obj], recordIDs(r.merged)); diff != "" {
					t.Errorf("full %s (-want +got):\n%s", obj, diff)
				}
			}

			clk.Advance(time.Hour)
			srv.Update(amocrmtest.Leads, amocrmtest.FirstLeadID+3, amocrmtest.Object{"name": "Renamed"})
			srv.Update(amocrmtest.Contacts, amocrmtest.FirstContactID+4, amocrmtest.Object{"name": "Changed"})
			srv.Delete(amocrmtest.Contacts, amocrmtest.FirstContactID+5)
			clk.Advance(time.Minute)
			c2 := newConn(t, srv, clk, small)
			deals := pull(t, c2, connectors.ObjectDeals, cursors[connectors.ObjectDeals])
			var got []string
			for _, d := range deals.merged.Deals {
				got = append(got, d.ID)
			}
			if diff := cmp.Diff([]string{fmt.Sprint(amocrmtest.FirstLeadID + 3)}, got); diff != "" {
				t.Errorf("incremental deals (-want +got):\n%s", diff)
			}
			for _, d := range deals.merged.Deletions {
				if d.ID != fmt.Sprint(amocrmtest.FirstLeadID+1) {
					t.Errorf("deletion of live lead %s", d.ID)
				}
			}
			conts := pull(t, c2, connectors.ObjectContacts, cursors[connectors.ObjectContacts])
			if len(conts.merged.Contacts) != 1 || conts.merged.Contacts[0].Name != "Changed" {
				t.Errorf("incremental contacts = %v, want only the changed one", recordIDs(conts.merged))
			}
			ev := pull(t, c2, ObjectEvents, cursors[ObjectEvents])
			var dels []string
			for _, d := range ev.merged.Deletions {
				dels = append(dels, string(d.Object)+":"+d.ID)
			}
			if diff := cmp.Diff([]string{fmt.Sprintf("contacts:%d", amocrmtest.FirstContactID+5)}, dels); diff != "" {
				t.Errorf("event deletions (-want +got):\n%s", diff)
			}
		})
	}
}

// A server that honours neither form of filter[updated_at] still fails
// loudly rather than re-reading the whole account on every run.
func TestIgnoredFilterBothFormsFailsLoudly(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	srv.Seed(amocrmtest.SeedConfig{Tasks: 30, Seed: 4})
	c := newConn(t, srv, clk, nil)
	first := pull(t, c, ObjectTasks, "")
	clk.Advance(time.Hour)
	srv.SetIgnoreFilters(true)
	srv.ResetCounts()
	_, err := tryPull(c, ObjectTasks, first.cursor, -1)
	var me *connectors.MalformedError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "ignored filter[updated_at]") {
		t.Fatalf("err = %v, want a MalformedError saying the filter was ignored", err)
	}
	if n := srv.Requests("/api/v4/tasks"); n != 2 {
		t.Errorf("requests = %d, want 2 (range form, then single form)", n)
	}
}

// Deleted leads are optional: a server without with=only_deleted (4xx)
// costs a warning, not the deal sync.
func TestOnlyDeletedRefused(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	srv.Seed(amocrmtest.SeedConfig{Leads: 12, Seed: 6})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Query().Get("with"), "only_deleted") {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(400)
			w.Write([]byte(`{"title":"Bad Request","type":"https://httpstatus.es/400","status":400,"detail":"Request validation failed"}`))
			return
		}
		proxy(srv.URL).ServeHTTP(w, r)
	})
	ts := httptest.NewServer(h)
	defer ts.Close()
	c := newConn(t, srv, clk, func(o *Options) { o.BaseURL = ts.URL })
	r := pull(t, c, connectors.ObjectDeals, "")
	if len(r.merged.Deals) != 12 || len(r.merged.Deletions) != 0 {
		t.Errorf("deals %d deletions %d, want 12 and 0", len(r.merged.Deals), len(r.merged.Deletions))
	}
}

// proxy forwards to the fake at base.
func proxy(base string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, base+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			w.WriteHeader(502)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			w.Write(buf[:n])
			if err != nil {
				return
			}
		}
	})
}

// A 403 after 429s is the IP ban whatever its body; no further request
// leaves the client, for any object.
func TestBanWithJSONBody(t *testing.T) {
	n := 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.Header().Set("Content-Type", "application/problem+json")
		if n == 1 {
			w.WriteHeader(429)
			w.Write([]byte(`{"title":"Too Many Requests","status":429,"retry_after":0}`))
			return
		}
		w.WriteHeader(403)
		w.Write([]byte(`{"title":"Forbidden","type":"https://httpstatus.es/403","status":403,"detail":"Access denied"}`))
	}))
	defer ts.Close()
	clk := newClock()
	c, err := New(Options{Name: "amo", BaseURL: ts.URL, Token: "tok", Now: clk.Now, HTTPOptions: connectors.HTTPOptions{RateLimit: 1e6, Burst: 100, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tryPull(c, connectors.ObjectContacts, "", -1)
	var rl *connectors.RateLimitError
	if !errors.As(err, &rl) || !rl.Fatal || !strings.Contains(err.Error(), "blocked this IP") {
		t.Fatalf("err = %v, want the fatal IP-ban error", err)
	}
	_, err = tryPull(c, connectors.ObjectCompanies, "", -1)
	if !errors.As(err, &rl) || n != 2 {
		t.Errorf("after the ban: err %v, %d requests; want the ban error and no new request", err, n)
	}
}

// Lead shapes the reference allows: closed_at null on a won lead (close
// time falls back to updated_at), price_with_minor_units without price.
func TestMapLeadFallbacks(t *testing.T) {
	body := `{"_embedded":{"leads":[
	  {"id":1,"price":null,"price_with_minor_units":"1500.25","status_id":142,"pipeline_id":7,"updated_at":1718001234,"closed_at":null},
	  {"id":2,"status_id":143,"pipeline_id":7,"updated_at":"1718000000"},
	  {"id":3,"price":10,"status_id":61000001,"pipeline_id":7,"updated_at":1718000000,"closed_at":null}]}}`
	got := decodeAll(t, connectors.ObjectDeals, 0, []byte(body))
	type row struct {
		ID     string
		Amount *float64
		Closed *time.Time
	}
	var rows []row
	for _, d := range got.Deals {
		rows = append(rows, row{d.ID, d.Amount, d.ClosedAt})
	}
	want := []row{{"1", fp(1500.25), tp(1718001234)}, {"2", nil, tp(1718000000)}, {"3", fp(10), nil}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("leads (-want +got):\n%s", diff)
	}
}

// An account that names no currency, or a server without GET
// /api/v4/account, still has its deals stored: without a currency (left
// out of money KPIs, counted as won and lost), read once per Client.
func TestAccountCurrencyUnknown(t *testing.T) {
	for _, tc := range []struct {
		name     string
		missing  bool // /api/v4/account answers 404
		wantReqs int  // account requests: with=task_types, then without
	}{
		{"no currency", false, 1},
		{"no account endpoint", true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			srv := newFake(t, clk)
			srv.Seed(amocrmtest.SeedConfig{Leads: 12, Seed: 6})
			srv.SetAccount(amocrmtest.Object{"currency": nil})
			account := 0
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/v4/account" {
					account++
					if tc.missing {
						writeProblem(w, 404, "Not Found")
						return
					}
				}
				proxy(srv.URL).ServeHTTP(w, r)
			}))
			defer ts.Close()
			c := newConn(t, srv, clk, func(o *Options) { o.BaseURL = ts.URL; o.PageSize = 5 })
			r := pull(t, c, connectors.ObjectDeals, "")
			got := map[string]string{}
			for _, d := range r.merged.Deals {
				got[d.ID] = d.Currency
			}
			want := map[string]string{}
			for _, o := range srv.Objects(amocrmtest.Leads) {
				want[objID(o)] = ""
			}
			if diff := cmp.Diff(want, got); diff != "" || len(got) != 12 {
				t.Errorf("deal currencies (-want +got):\n%s", diff)
			}
			if account != tc.wantReqs {
				t.Errorf("account requests = %d, want %d", account, tc.wantReqs)
			}
		})
	}
}

// A server that validates strictly and refuses what the reference gives
// for leads only or as one form of two (400 to order[id] on tasks, 422 to
// filter[updated_at][from] on lead notes) is read in the plainer form:
// every record, full and incremental.
func TestStrictServerPlainerForms(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	srv.Seed(amocrmtest.SeedConfig{Users: 3, Leads: 12, Tasks: 23, Notes: 25, Seed: 9, End: clk.Now().Add(-24 * time.Hour)})
	var refused []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		status := 0
		switch {
		case r.URL.Path == "/api/v4/tasks" && q.Has("order[id]"):
			status = 400
		case r.URL.Path == "/api/v4/leads/notes" && q.Has("filter[updated_at][from]"):
			status = 422
		}
		if status != 0 {
			refused = append(refused, r.URL.Path)
			writeProblem(w, status, "Request validation failed")
			return
		}
		proxy(srv.URL).ServeHTTP(w, r)
	}))
	defer ts.Close()
	small := func(o *Options) { o.PageSize = 10 }
	want := map[connectors.Object]map[string]bool{}
	for _, obj := range []connectors.Object{ObjectTasks, ObjectNotes} {
		want[obj] = recordIDs(pull(t, newConn(t, srv, clk, small), obj, "").merged)
	}
	c := newConn(t, srv, clk, func(o *Options) { o.BaseURL = ts.URL; o.PageSize = 10 })
	cursors := map[connectors.Object]string{}
	for _, obj := range []connectors.Object{ObjectTasks, ObjectNotes} {
		r := pull(t, c, obj, "")
		cursors[obj] = r.cursor
		if diff := cmp.Diff(want[obj], recordIDs(r.merged)); diff != "" || len(want[obj]) == 0 {
			t.Errorf("full %s (-want +got):\n%s", obj, diff)
		}
	}
	// Notes: order[id] goes first, then the range form of the filter.
	if diff := cmp.Diff([]string{"/api/v4/tasks", "/api/v4/leads/notes", "/api/v4/leads/notes"}, refused); diff != "" {
		t.Errorf("refused requests (-want +got):\n%s", diff)
	}
	clk.Advance(time.Hour)
	var id int64
	fmt.Sscan(objID(srv.Objects(amocrmtest.Tasks)[4]), &id)
	srv.Update(amocrmtest.Tasks, id, amocrmtest.Object{"text": "Changed"})
	r := pull(t, c, ObjectTasks, cursors[ObjectTasks])
	if len(r.merged.Activities) != 1 || r.merged.Activities[0].Subject != "Changed" {
		t.Errorf("incremental tasks = %v, want only the changed one", recordIDs(r.merged))
	}
}

// Check on a server without GET /api/v4/account warns that the currency
// is unknown and still checks the token with the users list.
func TestCheckWithoutAccountEndpoint(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v4/account" {
			writeProblem(w, 404, "Not Found")
			return
		}
		proxy(srv.URL).ServeHTTP(w, r)
	}))
	defer ts.Close()
	warns, err := newConn(t, srv, clk, func(o *Options) { o.BaseURL = ts.URL }).Check(context.Background())
	want := []string{"amo: GET /api/v4/account answered 404, so the account currency is unknown; set the connector's currency"}
	if diff := cmp.Diff(want, warns); err != nil || diff != "" {
		t.Errorf("Check() = %v; warnings (-want +got):\n%s", err, diff)
	}
	if n := srv.Requests("/api/v4/users"); n != 1 {
		t.Errorf("users requests = %d, want 1", n)
	}
}

// writeProblem answers amoCRM's problem+json error (reference §5).
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"title":%q,"type":"https://httpstatus.es/%d","status":%d,"detail":%q}`, http.StatusText(status), status, status, detail)
}
