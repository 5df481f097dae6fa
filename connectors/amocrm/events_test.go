package amocrm

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
)

// seedEvents adds n events of each wanted type and of one type the
// connector does not read, created a day before the clock.
func seedEvents(srv *amocrmtest.Server, clk *clock, n map[string]int) {
	at := clk.Now().Add(-24 * time.Hour).Unix()
	k := 0
	for _, typ := range []string{"incoming_chat_message", "outgoing_chat_message", "lead_deleted", "contact_deleted", "company_deleted", "lead_status_changed"} {
		for i := range n[typ] {
			k++
			et := map[bool]string{true: "contact", false: "lead"}[strings.HasPrefix(typ, "contact") || strings.Contains(typ, "chat")]
			if typ == "company_deleted" {
				et = "company"
			}
			srv.AddEvent(amocrmtest.Object{"id": fmt.Sprintf("01hzev%020d", k), "type": typ, "entity_type": et,
				"entity_id": 100 + i, "created_by": 8000001, "created_at": at + int64(k)})
		}
	}
}

var eventCounts = map[string]int{"incoming_chat_message": 60, "outgoing_chat_message": 60, "lead_deleted": 50,
	"contact_deleted": 40, "company_deleted": 20, "lead_status_changed": 20}

// eventKinds counts pulled events by what they became.
func eventKinds(r result) map[string]int {
	out := map[string]int{}
	for _, a := range r.merged.Activities {
		out[a.Type+" "+a.Direction]++
	}
	for _, d := range r.merged.Deletions {
		out["deleted "+string(d.Object)]++
	}
	return out
}

var wantKinds = map[string]int{"message inbound": 60, "message outbound": 60, "deleted deals": 50, "deleted contacts": 40, "deleted companies": 20}

// Every event type the connector reads comes in one list, a comma list in
// filter[type] (reference §4, SDK EventsFilter), paged normally: 230
// events at 100 a page are 3 requests, where one list per type took 5.
// The fake drops the lead_status_changed events by the filter.
func TestEventsOneListPerPage(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	seedEvents(srv, clk, eventCounts)
	c := newConn(t, srv, clk, nil)
	r := pull(t, c, ObjectEvents, "")
	if diff := cmp.Diff(wantKinds, eventKinds(r)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if n := srv.Requests("/api/v4/events"); n != 3 || r.requests != 3 {
		t.Errorf("requests = %d (pages say %d), want 3 (100, 100, 30)", n, r.requests)
	}
	if want := fmt.Sprintf(`{"v":1,"from":%d,"types":"list"}`, clk.Now().Unix()-1); r.cursor != want {
		t.Errorf("cursor %s, want %s", r.cursor, want)
	}
	// The next run: one request, answered 204.
	clk.Advance(time.Hour)
	srv.ResetCounts()
	again := pull(t, newConn(t, srv, clk, nil), ObjectEvents, r.cursor)
	if again.merged.Len() != 0 || srv.Requests("/api/v4/events") != 1 {
		t.Errorf("idle run: %d records, %d requests; want 0 and 1", again.merged.Len(), srv.Requests("/api/v4/events"))
	}
}

// An account that answers the comma list wrongly loses no event: one that
// reads it as one literal type (and so answers nothing) is read again one
// type per list, and the cursor keeps that form; one that ignores
// filter[type] costs the pages of the other types, whose events are
// dropped by type.
func TestEventsCommaListMisread(t *testing.T) {
	t.Run("literal", func(t *testing.T) {
		clk := newClock()
		srv := newFake(t, clk)
		seedEvents(srv, clk, eventCounts)
		srv.SetQuirks(amocrmtest.Quirks{EventTypes: "literal"})
		r := pull(t, newConn(t, srv, clk, nil), ObjectEvents, "")
		if diff := cmp.Diff(wantKinds, eventKinds(r)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		// The comma list (204), then one page per type.
		if n := srv.Requests("/api/v4/events"); n != 1+len(eventTypes) {
			t.Errorf("requests = %d, want %d", n, 1+len(eventTypes))
		}
		if !strings.Contains(r.cursor, `"types":"each"`) {
			t.Fatalf("cursor %s, want the one-type-per-list form kept", r.cursor)
		}
		clk.Advance(time.Hour)
		srv.AddEvent(amocrmtest.Object{"type": "company_deleted", "entity_type": "company", "entity_id": 7, "created_by": 1})
		clk.Advance(time.Minute)
		srv.ResetCounts()
		next := pull(t, newConn(t, srv, clk, nil), ObjectEvents, r.cursor)
		if diff := cmp.Diff(map[string]int{"deleted companies": 1}, eventKinds(next)); diff != "" {
			t.Errorf("next run (-want +got):\n%s", diff)
		}
		if n := srv.Requests("/api/v4/events"); n != len(eventTypes) {
			t.Errorf("next run requests = %d, want %d (one per type, no comma list)", n, len(eventTypes))
		}
	})
	t.Run("filter[type] ignored", func(t *testing.T) {
		clk := newClock()
		srv := newFake(t, clk)
		seedEvents(srv, clk, eventCounts)
		srv.SetQuirks(amocrmtest.Quirks{EventTypes: "array"}) // reads filter[type][] only
		r := pull(t, newConn(t, srv, clk, nil), ObjectEvents, "")
		if diff := cmp.Diff(wantKinds, eventKinds(r)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
		if n := srv.Requests("/api/v4/events"); n != 3 { // 250 events: 100, 100, 50
			t.Errorf("requests = %d, want 3", n)
		}
		if !strings.Contains(r.cursor, `"types":"list"`) {
			t.Errorf("cursor %s, want the comma list kept", r.cursor)
		}
	})
	t.Run("no events yet", func(t *testing.T) {
		// Nothing proves either form: both are asked, and the next run
		// asks again.
		clk := newClock()
		srv := newFake(t, clk)
		seedEvents(srv, clk, map[string]int{"lead_status_changed": 3})
		r := pull(t, newConn(t, srv, clk, nil), ObjectEvents, "")
		if r.merged.Len() != 0 || srv.Requests("/api/v4/events") != 1+len(eventTypes) {
			t.Errorf("%d records, %d requests; want 0 and %d", r.merged.Len(), srv.Requests("/api/v4/events"), 1+len(eventTypes))
		}
		if want := fmt.Sprintf(`{"v":1,"from":%d}`, clk.Now().Unix()-1); r.cursor != want {
			t.Errorf("cursor %s, want %s", r.cursor, want)
		}
	})
}

// A run of the version that read one type per list, stopped mid-window,
// saved a phase and page that mean other lists now: the window is read
// again from its start, so nothing in it is skipped.
func TestEventsOldCursorRestartsWindow(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	seedEvents(srv, clk, eventCounts)
	old := fmt.Sprintf(`{"v":1,"from":0,"to":%d,"phase":0,"page":2}`, clk.Now().Unix())
	r := pull(t, newConn(t, srv, clk, nil), ObjectEvents, old)
	if diff := cmp.Diff(wantKinds, eventKinds(r)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// A deletion and the restore after it in one page of events leave the
// record, read again by id, and no deletion (the warehouse applies a
// page's deletions after its records); a record deleted again after its
// restore is not read back, and its deletion stands.
func TestEventsRestoreInOnePage(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	srv.Put(amocrmtest.Contacts, amocrmtest.Object{"id": 501, "name": "Anna", "responsible_user_id": 8000001, "updated_at": 1700000000})
	srv.Put(amocrmtest.Companies, amocrmtest.Object{"id": 401, "name": "Acme", "updated_at": 1700000000})
	srv.Delete(amocrmtest.Contacts, 501)
	srv.Delete(amocrmtest.Companies, 401)
	clk.Advance(time.Minute)
	srv.Restore(amocrmtest.Contacts, 501)
	srv.Restore(amocrmtest.Companies, 401)
	clk.Advance(time.Minute)
	srv.Delete(amocrmtest.Companies, 401)
	clk.Advance(time.Minute)
	r := pull(t, newConn(t, srv, clk, nil), ObjectEvents, "")
	restoredAt := clk.Now().Add(-2 * time.Minute).Truncate(time.Second).UTC()
	var got []string
	for _, c := range r.merged.Contacts {
		got = append(got, fmt.Sprintf("contact %s %s owner %s at %s", c.ID, c.Name, c.OwnerID, c.UpdatedAt.Format(time.RFC3339)))
	}
	for _, c := range r.merged.Companies {
		got = append(got, "company "+c.ID)
	}
	for _, d := range r.merged.Deletions {
		got = append(got, fmt.Sprintf("deleted %s %s at %s", d.Object, d.ID, d.At.Format(time.RFC3339)))
	}
	want := []string{
		"contact 501 Anna owner 8000001 at " + restoredAt.Format(time.RFC3339),
		"deleted companies 401 at " + clk.Now().Add(-time.Minute).Truncate(time.Second).UTC().Format(time.RFC3339),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events pull (-want +got):\n%s", diff)
	}
	if n := srv.Requests("/api/v4/contacts/501") + srv.Requests("/api/v4/companies/401"); n != 2 {
		t.Errorf("record reads = %d, want 2", n)
	}
}

// An account that refuses a type it does not know (400 to any filter[type]
// naming a *_restored type, codes the reference leaves UNCONFIRMED) loses
// those types only: the window is read one type per request, the others
// whole, and the cursor keeps that form.
func TestEventsUnknownTypeRefused(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	seedEvents(srv, clk, eventCounts)
	var refused []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if typ := r.URL.Query().Get("filter[type]"); strings.Contains(typ, "_restored") {
			refused = append(refused, typ)
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(400)
			w.Write([]byte(`{"validation-errors":[{"request_id":"0","errors":[{"code":"NotSupportedChoice","path":"filter.type","detail":"The value you selected is not a valid choice."}]}],` +
				`"title":"Bad Request","type":"https://httpstatus.es/400","status":400,"detail":"Request validation failed"}`))
			return
		}
		proxy(srv.URL).ServeHTTP(w, r)
	}))
	defer ts.Close()
	c := newConn(t, srv, clk, func(o *Options) { o.BaseURL = ts.URL })
	r := pull(t, c, ObjectEvents, "")
	if diff := cmp.Diff(wantKinds, eventKinds(r)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	want := []string{strings.Join(eventTypes, ","), evLeadRestored, evContactRestored, evCompanyRestored}
	if diff := cmp.Diff(want, refused); diff != "" {
		t.Errorf("refused requests (-want +got):\n%s", diff)
	}
	if !strings.Contains(r.cursor, `"types":"each"`) {
		t.Errorf("cursor %s, want the one-type-per-list form kept", r.cursor)
	}
}
