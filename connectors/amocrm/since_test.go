package amocrm

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
)

// stamp reads a timestamp of a fake record.
func stamp(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	}
	return 0
}

// TestSinceFirstSync checks a first sync with since against the fake:
// leads and notes last modified, and events created, before since are not
// read, by the filters amoCRM documents; tasks last modified and due before
// it are dropped; companies and contacts come whole. The requests are the
// pages of what is read, besides the tasks', which are listed whole.
func TestSinceFirstSync(t *testing.T) {
	clk := newClock()
	srv := newFake(t, clk)
	// Seeded a day back, so that no record sits in the next run's overlap.
	srv.Seed(amocrmtest.SeedConfig{Users: 9, Companies: 70, Contacts: 260, Leads: 520, Tasks: 300, Notes: 400, Messages: 230, Seed: 1,
		End: clk.Now().Add(-24 * time.Hour)})
	since := clk.Now().Add(-120 * 24 * time.Hour)
	s := since.Unix()
	c := newConn(t, srv, clk, func(o *Options) { o.Since = since })

	// What since keeps, by the fake's own fields.
	leads := map[string]bool{}
	for _, o := range srv.Objects(amocrmtest.Leads) {
		if stamp(o["updated_at"]) >= s {
			leads[objID(o)] = true
		}
	}
	tasksAll, notesAll, eventsAll := fakeActivityIDs(srv)
	tasks, notes, events := map[string]bool{}, map[string]bool{}, map[string]bool{}
	dueOnly := 0
	for _, o := range srv.Objects(amocrmtest.Tasks) {
		up, due := stamp(o["updated_at"]), stamp(o["complete_till"])
		if up >= s || due >= s {
			tasks["task:"+objID(o)] = true
		}
		if up < s && due >= s {
			dueOnly++
		}
	}
	for _, e := range []amocrmtest.Entity{amocrmtest.LeadNotes, amocrmtest.ContactNotes, amocrmtest.CompanyNotes} {
		for _, o := range srv.Objects(e) {
			if id := "note:" + objID(o); notesAll[id] && stamp(o["updated_at"]) >= s {
				notes[id] = true
			}
		}
	}
	for _, o := range srv.Objects(amocrmtest.Events) {
		if id := "event:" + o["id"].(string); eventsAll[id] && stamp(o["created_at"]) >= s {
			events[id] = true
		}
	}
	// The seed spreads a year: about a third of each is since, and some
	// tasks last touched before since are due after it.
	sizes := map[string]int{"leads": len(leads), "tasks": len(tasks), "tasks due only": dueOnly, "notes": len(notes), "events": len(events),
		"all tasks": len(tasksAll)}
	wantSizes := map[string]int{"leads": 185, "tasks": 112, "tasks due only": 2, "notes": 99, "events": 79, "all tasks": 300}
	if diff := cmp.Diff(wantSizes, sizes); diff != "" {
		t.Fatalf("records since in the fake (-want +got):\n%s", diff)
	}

	srv.ResetCounts()
	actIDs := func(r result) map[string]bool {
		return ids(r.merged.Activities, func(a connectors.Activity) string { return a.ID })
	}
	deals := pull(t, c, connectors.ObjectDeals, "")
	if diff := cmp.Diff(leads, ids(deals.merged.Deals, func(r connectors.Deal) string { return r.ID })); diff != "" {
		t.Errorf("deals (-want +pulled):\n%s", diff)
	}
	if diff := cmp.Diff(tasks, actIDs(pull(t, c, ObjectTasks, ""))); diff != "" {
		t.Errorf("tasks (-want +pulled):\n%s", diff)
	}
	if diff := cmp.Diff(notes, actIDs(pull(t, c, ObjectNotes, ""))); diff != "" {
		t.Errorf("notes (-want +pulled):\n%s", diff)
	}
	if diff := cmp.Diff(events, actIDs(pull(t, c, ObjectEvents, ""))); diff != "" {
		t.Errorf("events (-want +pulled):\n%s", diff)
	}
	pullsFake(t, c, srv, connectors.ObjectCompanies, amocrmtest.Companies)
	pullsFake(t, c, srv, connectors.ObjectContacts, amocrmtest.Contacts)

	// 185 leads: one page of 250 and the deleted leads (204); 300 tasks
	// listed whole: 2 pages; 99 notes: one page per entity; 79 events of
	// 100 a page: one, the comma list; one account read (currency and
	// task types).
	want := map[string]int{
		"/api/v4/leads": 2, "/api/v4/account": 1, "/api/v4/tasks": 2,
		"/api/v4/leads/notes": 1, "/api/v4/contacts/notes": 1, "/api/v4/companies/notes": 1, "/api/v4/events": 1,
		"/api/v4/companies": 1, "/api/v4/contacts": 2,
	}
	got := map[string]int{}
	for p := range want {
		got[p] = srv.Requests(p)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if srv.TotalRequests() != sum(want) {
		t.Errorf("total requests %d, want %d", srv.TotalRequests(), sum(want))
	}

	// The next run is incremental: a lead older than since, edited now,
	// is read then.
	var old int64
	for _, o := range srv.Objects(amocrmtest.Leads) {
		if stamp(o["updated_at"]) < s {
			old = stamp(o["id"])
			break
		}
	}
	clk.Advance(time.Hour)
	srv.Update(amocrmtest.Leads, old, amocrmtest.Object{"name": "Revived"})
	clk.Advance(time.Minute)
	next := pull(t, c, connectors.ObjectDeals, deals.cursor)
	// And the lead the first run read last, where the window starts: the
	// seed's clock is behind ours (connectors.NextWindow).
	if diff := cmp.Diff(plus(lastRead(deals.merged, false), fmt.Sprint("d", old)), recordIDs(next.merged)); diff != "" {
		t.Errorf("the run after the first: deals (-want +got):\n%s", diff)
	}
	for _, d := range next.merged.Deals {
		if d.ID == fmt.Sprint(old) && d.Name != "Revived" {
			t.Errorf("lead %s named %q, want Revived", d.ID, d.Name)
		}
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
