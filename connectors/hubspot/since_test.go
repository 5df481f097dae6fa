package hubspot

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
)

// TestSinceFirstSync checks a first sync with since: deals and engagements
// last modified before it are not read, an engagement occurring after it
// is, whenever it was modified; companies and contacts come whole. The
// dated objects are read by search from since, one request per 200
// records, instead of every list page.
func TestSinceFirstSync(t *testing.T) {
	clk := newClock()
	srv := seeded(t, clk)
	since := clk.Now().Add(-120 * 24 * time.Hour).Truncate(time.Millisecond)
	task := func(id string, modified, due time.Time) hubspottest.Record {
		return hubspottest.Record{ID: id, CreatedAt: modified.Add(-time.Hour), UpdatedAt: modified, Properties: map[string]string{
			"hs_timestamp": hubspottest.FormatTime(due), "hs_task_subject": "Renewal #team", "hs_task_status": "COMPLETED",
			"hubspot_owner_id": srv.Owners()[0].ID,
		}}
	}
	mustDo(t, srv.Load(hubspottest.Tasks,
		// Done early, due after since: it counts in a period after since.
		task("90000001", since.Add(-30*24*time.Hour), since.Add(10*24*time.Hour)),
		task("90000002", since.Add(-time.Millisecond), since),
		// Modified at since exactly: read.
		task("90000003", since, since.Add(-40*24*time.Hour)),
		// Modified and due before since: not read.
		task("90000004", since.Add(-time.Millisecond), since.Add(-time.Millisecond)),
	))
	c := newTestClient(t, srv, clk, func(o *Options) { o.Since = since })
	w := newWarehouse()
	w.pullAll(t, c)

	want := expectedFromFake(srv)
	kept := map[string]int{}
	for _, typ := range hubspottest.ObjectTypes {
		for _, r := range srv.Records(typ) {
			old := r.UpdatedAt.Before(since)
			if ts, ok := timeProp(r.Properties["hs_timestamp"]); ok && typ != hubspottest.Deals && !ts.Before(since) {
				old = false
			}
			if old && typ != hubspottest.Companies && typ != hubspottest.Contacts {
				delete(want, typ+"/"+r.ID)
				continue
			}
			kept[typ]++
		}
	}
	if diff := cmp.Diff(want, w.rows()); diff != "" {
		t.Errorf("warehouse differs from the fake's records since %v (-want +got):\n%s", since, diff)
	}
	for _, id := range []string{"90000001", "90000002", "90000003"} {
		if _, ok := w.activities[id]; !ok {
			t.Errorf("task %s not stored", id)
		}
	}
	if _, ok := w.activities["90000004"]; ok {
		t.Errorf("task 90000004, modified and due before since, stored")
	}
	// The seed spreads records over a year: 60 companies and 180 contacts
	// whole, 49 of the 120 deals and about a third of each engagement type
	// (of 120 each; the tasks with the three above).
	wantKept := map[string]int{"companies": 60, "contacts": 180, "deals": 49, "calls": 36, "emails": 39, "meetings": 36, "notes": 42, "tasks": 41}
	if diff := cmp.Diff(wantKept, kept); diff != "" {
		t.Errorf("records since %v in the fake (-want +got):\n%s", since, diff)
	}

	// Each dated object: one search (under 200 records), associations
	// once per target type (search has none inline), and the archived
	// listing; the rest as a full load without since
	// (TestFullLoadMatchesFake): the 12 list pages of deals and
	// engagements become 6 searches and their 17 association reads, 27
	// requests 38.
	reqs := map[string]int{
		"GET /crm/v3/owners":                                   2,
		"GET /crm/v3/pipelines/deals":                          1,
		"GET /account-info/v3/details":                         1,
		"GET /crm/v3/objects/companies":                        2,
		"GET /crm/v3/objects/contacts":                         3,
		"GET /crm/v3/objects/deals":                            1,
		"POST /crm/v3/objects/deals/search":                    1,
		"POST /crm/v4/associations/deals/companies/batch/read": 1,
		"POST /crm/v4/associations/deals/contacts/batch/read":  1,
	}
	for _, e := range []string{"calls", "emails", "meetings", "notes", "tasks"} {
		reqs["GET /crm/v3/objects/"+e] = 1
		reqs["POST /crm/v3/objects/"+e+"/search"] = 1
		for _, to := range []string{"companies", "contacts", "deals"} {
			reqs["POST /crm/v4/associations/"+e+"/"+to+"/batch/read"] = 1
		}
	}
	if diff := cmp.Diff(reqs, srv.RequestCounts()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	// An old deal edited after the first sync is read by the next one.
	var old hubspottest.Record
	for _, r := range srv.Records(hubspottest.Deals) {
		if r.UpdatedAt.Before(since) {
			old = r
			break
		}
	}
	clk.Advance(time.Hour)
	mustDo(t, srv.Update(hubspottest.Deals, old.ID, map[string]string{"dealname": "Revived"}))
	clk.Advance(time.Minute)
	w.pullAll(t, c)
	if got := w.deals[old.ID].Name; got != "Revived" {
		t.Errorf("old deal %s edited after the first sync: stored name %q, want Revived", old.ID, got)
	}
}

// TestSinceFullResync checks that a pull from an empty cursor (sync --full)
// over a synced warehouse respects since too: the same deals and tasks, by
// one search each.
func TestSinceFullResync(t *testing.T) {
	clk := newClock()
	srv := seeded(t, clk)
	since := clk.Now().Add(-120 * 24 * time.Hour).Truncate(time.Millisecond)
	c := newTestClient(t, srv, clk, func(o *Options) { o.Since = since })
	w := newWarehouse()
	w.pullAll(t, c)
	first, firstTasks := len(w.deals), len(w.activities)

	clk.Advance(time.Hour)
	srv.ResetCounts()
	w2 := newWarehouse()
	for _, obj := range c.Objects() {
		if !slices.Contains([]connectors.Object{connectors.ObjectDeals, ObjectTasks}, obj) {
			continue
		}
		if err := w2.pull(t, c, obj); err != nil {
			t.Fatal(err)
		}
	}
	if len(w2.deals) != first || len(w2.deals) != 49 {
		t.Errorf("--full with since stored %d deals, the first sync %d; want 49 both", len(w2.deals), first)
	}
	tasks := 0
	for _, a := range w.activities {
		if a.Type == connectors.ActivityTask {
			tasks++
		}
	}
	if len(w2.activities) != tasks || tasks == 0 || tasks == firstTasks {
		t.Errorf("--full with since stored %d tasks, the first sync %d (of %d activities)", len(w2.activities), tasks, firstTasks)
	}
	if n := srv.Requests("POST /crm/v3/objects/deals/search") + srv.Requests("POST /crm/v3/objects/tasks/search"); n != 2 {
		t.Errorf("searches of the full re-read = %d, want 2", n)
	}
	if n := srv.Requests("GET /crm/v3/objects/deals"); n != 1 {
		t.Errorf("deal list requests = %d, want 1 (the archived listing)", n)
	}
}

// timeProp reads a date property the way the fake writes it.
func timeProp(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	return t, err == nil
}
