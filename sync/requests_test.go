package sync

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// TestIncrementalRequests counts the requests of the syncs after a first
// one, on a fake of 2,000 records of the main object (HubSpot contacts,
// amoCRM leads, Bitrix24 deals; ten pages and more of each): with nothing
// changed, a handful per object; with k records changed (up to 1,000),
// requests that grow with k, not with the 2,000.
// The counts are exact, so an extra request per sync shows here before it
// shows on a CRM's rate limit.
func TestIncrementalRequests(t *testing.T) {
	t.Parallel()
	const size = 2000
	for _, tc := range []struct {
		name string
		new  connectortest.Factory
		// first is what the first sync costs, by endpoint (nil: not
		// checked).
		first map[string]int
		// unchanged is what a sync with nothing changed costs, by endpoint.
		unchanged map[string]int
		// changed is what a sync with k main records changed costs, in all.
		changed func(k int) int
	}{
		{name: "hubspot", new: synctest.NewHubSpot, first: hubspotFirst, unchanged: hubspotUnchanged,
			// One search page per 200 changed contacts (at least one)
			// and one contacts→companies batch for them (1,000 a batch).
			changed: func(k int) int { return sum(hubspotUnchanged) + ceilDiv(k, 200) - 1 + ceilDiv(k, 1000) }},
		{name: "amocrm", new: synctest.NewAmoCRM, unchanged: amocrmUnchanged,
			// One leads page per 250 changed leads, and the page that
			// finds the end.
			changed: func(k int) int { return sum(amocrmUnchanged) + k/250 }},
		{name: "bitrix24", new: synctest.NewBitrix24, unchanged: bitrix24Unchanged,
			// The window's first call brings 50 changed deals; beyond, one
			// batch per 2,500.
			changed: func(k int) int { return sum(bitrix24Unchanged) + ceilDiv(max(k-49, 0), 2500) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := tc.new(t, connectortest.FakeOptions{Records: size})
			s := warehousetest.NewSQLite(t)
			syncOnce(t, c, s, c.Connector(t, "crm", connectortest.ConnOptions{}), false)
			t.Logf("first sync: %d requests %v", c.Faults.TotalRequests(), c.Faults.RequestCounts())
			if diff := cmp.Diff(tc.first, c.Faults.RequestCounts()); tc.first != nil && diff != "" {
				t.Errorf("requests of the first sync (-want +got):\n%s", diff)
			}

			c.Clock.Advance(time.Hour)
			c.Faults.ResetCounts()
			syncOnce(t, c, s, c.Connector(t, "crm", connectortest.ConnOptions{}), false)
			if diff := cmp.Diff(tc.unchanged, c.Faults.RequestCounts()); diff != "" {
				t.Errorf("requests of a sync with nothing changed (-want +got):\n%s", diff)
			}
			objects := len(c.Connector(t, "crm", connectortest.ConnOptions{}).Objects())
			if n := c.Faults.TotalRequests(); n >= 10*objects {
				t.Errorf("a sync with nothing changed made %d requests for %d objects, want under 10 an object", n, objects)
			}

			for _, k := range []int{1, 10, 100, 1000} {
				c.Clock.Advance(time.Hour)
				c.Touch(t, k)
				c.Clock.Advance(2 * time.Minute)
				c.Faults.ResetCounts()
				sum := syncOnce(t, c, s, c.Connector(t, "crm", connectortest.ConnOptions{}), false)
				if got, want := c.Faults.TotalRequests(), tc.changed(k); got != want {
					t.Errorf("%d records changed: %d requests, want %d: %v", k, got, want, c.Faults.RequestCounts())
				}
				if n := records(sum); n < k {
					t.Errorf("%d records changed: the sync brought %d records", k, n)
				}
			}
		})
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func sum(m map[string]int) (n int) {
	for _, v := range m {
		n += v
	}
	return n
}

// hubspotFirst: 40 requests. Each object's list pages (100 records a
// page: the 2,000 contacts 20, the rest under 100 each) carry the
// records' associations inline, none cut, so no batch read (there were 19,
// 59 requests in all); one archived listing each; owners active and
// archived, the pipelines once, and the account details twice (the
// portal currency, and the record links the sync asks once per
// warehouse).
var hubspotFirst = func() map[string]int {
	m := map[string]int{"GET /crm/v3/owners": 2, "GET /crm/v3/pipelines/deals": 1, "GET /account-info/v3/details": 2}
	for _, o := range []string{"companies", "contacts", "deals", "calls", "emails", "meetings", "notes", "tasks"} {
		m["GET /crm/v3/objects/"+o] = 2
	}
	m["GET /crm/v3/objects/contacts"] = 21
	return m
}()

// hubspotUnchanged: the owners (active and archived) and the pipelines,
// which have no change filter, are re-read; every object searches its
// window once and lists its archived records once.
var hubspotUnchanged = func() map[string]int {
	m := map[string]int{"GET /crm/v3/owners": 2, "GET /crm/v3/pipelines/deals": 1}
	for _, o := range []string{"companies", "contacts", "deals", "calls", "emails", "meetings", "notes", "tasks"} {
		m["POST /crm/v3/objects/"+o+"/search"] = 1
		m["GET /crm/v3/objects/"+o] = 1
	}
	return m
}()

// amocrmUnchanged: one page per object (204 when empty), the deleted-leads
// listing, the events of every type in one list (filter[type] a comma
// list, which the first sync's events confirmed), the account (currency
// and task type names, one request), and users and pipelines, which have
// no change filter.
var amocrmUnchanged = map[string]int{"/api/v4/account": 1, "/api/v4/users": 1, "/api/v4/leads/pipelines": 1,
	"/api/v4/companies": 1, "/api/v4/contacts": 1, "/api/v4/leads": 2, "/api/v4/tasks": 1,
	"/api/v4/leads/notes": 1, "/api/v4/contacts/notes": 1, "/api/v4/companies/notes": 1, "/api/v4/events": 1}

// bitrix24Unchanged: users and the pipelines (crm.category.list, then one
// batch of their stage lists) are re-read; every object reads its window of
// DATE_MODIFY with one direct call.
var bitrix24Unchanged = map[string]int{"user.get": 1, "crm.category.list": 1, "batch": 1,
	"crm.company.list": 1, "crm.contact.list": 1, "crm.deal.list": 1, "crm.activity.list": 1}
