package sync

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/bitrix24"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/hubspot"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// clock is a settable clock shared by a fake, its connector and the engine.
type clock = synctest.Clock

// crm is one connector type against its fake, as the end-to-end tests
// drive it.
type crm struct {
	clk *clock
	// conn returns a new connector named name, as a new crmkpi process
	// builds it.
	conn func(t testing.TB, name string) connectors.Connector
	// want is what the warehouse should hold for the fake's data now.
	want func() synctest.Rows
	// mutate changes 10 records and deletes 2 in the fake, and returns the
	// keys of the deleted ones.
	mutate func(t *testing.T) (deleted []string)
	// touch changes k records of the main object (HubSpot contacts,
	// amoCRM leads, Bitrix24 deals) in the fake.
	touch func(t *testing.T, k int)
	// counts are the requests the fake saw, by endpoint.
	counts func() map[string]int
	total  func() int
	reset  func()
	// reconcileEvery is the Job's ReconcileEvery (Bitrix24).
	reconcileEvery time.Duration
}

// fakeOpts tune a fixture: smaller pages (more kill points) and latency
// (cancellations land mid-request).
type fakeOpts struct {
	shortPages bool
	latency    time.Duration
	// records, when set, sizes the world by the main object instead:
	// that many HubSpot contacts, amoCRM leads or Bitrix24 deals, few of
	// the others.
	records int
}

func newHubSpot(t testing.TB, o fakeOpts) *crm {
	const token = "pat-na1-11111111-2222-3333-4444-555555555555"
	clk := synctest.NewClock(time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC))
	srv := hubspottest.NewServer(hubspottest.WithClock(clk.Now), hubspottest.WithToken(token),
		hubspottest.WithRateLimit(0, 0), hubspottest.WithSearchRateLimit(0), hubspottest.WithLatency(o.latency))
	t.Cleanup(srv.Close)
	// 12 companies, 36 contacts, 24 deals, 120 engagements, 8 owners.
	w := hubspottest.World{Seed: 7, Now: clk.Now().Add(-time.Hour), Companies: 12}
	if n := o.records; n > 0 {
		w.Companies, w.Contacts, w.Deals, w.Activities = n/20, n, n/20, n/20
	}
	if err := srv.Seed(w); err != nil {
		t.Fatal(err)
	}
	if o.shortPages {
		srv.SetShortPages(10)
	}
	return &crm{
		clk: clk,
		conn: func(t testing.TB, name string) connectors.Connector {
			c, err := hubspot.New(hubspot.Options{Name: name, BaseURL: srv.URL, Token: token, Now: clk.Now,
				HTTPOptions: connectors.HTTPOptions{RateLimit: 1e6, Burst: 1000, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}, SearchRateLimit: 1e6, Fields: map[string]string{"deal_expense": "cost_of_sale", "key_client": "key_account"}})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		want: func() synctest.Rows { return synctest.HubSpot(srv) },
		mutate: func(t *testing.T) []string {
			clk.Advance(time.Hour)
			cos, cts, ds := srv.Records(hubspottest.Companies), srv.Records(hubspottest.Contacts), srv.Records(hubspottest.Deals)
			for i := range 3 {
				must(t, srv.Update(hubspottest.Companies, cos[i].ID, map[string]string{"name": "Renamed " + strconv.Itoa(i)}))
				must(t, srv.Update(hubspottest.Contacts, cts[i].ID, map[string]string{"firstname": "Re" + strconv.Itoa(i), "hubspot_owner_id": "512345601"}))
			}
			must(t, srv.Update(hubspottest.Deals, ds[0].ID, map[string]string{"dealstage": "closedwon", "pipeline": "default"}))
			must(t, srv.Update(hubspottest.Deals, ds[1].ID, map[string]string{"dealstage": "closedlost", "pipeline": "default"}))
			must(t, srv.Update(hubspottest.Deals, ds[2].ID, map[string]string{"amount": "4242.5"}))
			must(t, srv.Update(hubspottest.Deals, ds[3].ID, map[string]string{"dealname": "Renamed deal", "hubspot_owner_id": "512345602"}))
			must(t, srv.Archive(hubspottest.Companies, cos[5].ID))
			must(t, srv.Archive(hubspottest.Deals, ds[6].ID))
			clk.Advance(2 * time.Minute)
			// HubSpot keeps archived records, flagged: the fake's own
			// data says what the warehouse should hold.
			return nil
		},
		touch: func(t *testing.T, k int) {
			cts := srv.Records(hubspottest.Contacts)
			for i := range k {
				must(t, srv.Update(hubspottest.Contacts, cts[i].ID, map[string]string{"firstname": "Touched " + strconv.Itoa(i)}))
			}
		},
		counts: srv.RequestCounts,
		total:  srv.TotalRequests,
		reset:  srv.ResetCounts,
	}
}

func newAmoCRM(t testing.TB, o fakeOpts) *crm {
	clk := synctest.NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	srv := amocrmtest.NewServer(amocrmtest.WithClock(clk.Now), amocrmtest.WithRateLimit(0, 0), amocrmtest.WithRetryAfter(0),
		amocrmtest.WithLatency(o.latency))
	t.Cleanup(srv.Close)
	// Seeded a day back, so that no record sits in the overlap second.
	sc := amocrmtest.SeedConfig{Users: 5, Companies: 20, Contacts: 40, Leads: 60, Tasks: 40, Notes: 50, Messages: 30, Seed: 2,
		End: clk.Now().Add(-24 * time.Hour)}
	if n := o.records; n > 0 {
		sc.Companies, sc.Contacts, sc.Leads, sc.Tasks, sc.Notes, sc.Messages = n/20, n/20, n, n/20, n/20, n/20
	}
	srv.Seed(sc)
	pageSize := 0
	if o.shortPages {
		pageSize = 10
	}
	paths := []string{"/api/v4/account", "/api/v4/users", "/api/v4/leads/pipelines", "/api/v4/companies", "/api/v4/contacts",
		"/api/v4/leads", "/api/v4/tasks", "/api/v4/leads/notes", "/api/v4/contacts/notes", "/api/v4/companies/notes", "/api/v4/events"}
	return &crm{
		clk: clk,
		conn: func(t testing.TB, name string) connectors.Connector {
			c, err := amocrm.New(amocrm.Options{Name: name, BaseURL: srv.URL, Token: srv.Token(), Now: clk.Now,
				HTTPOptions: connectors.HTTPOptions{RateLimit: 1e6, Burst: 1000, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}, PageSize: pageSize})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		want: func() synctest.Rows { return synctest.AmoCRM(srv) },
		mutate: func(t *testing.T) []string {
			clk.Advance(time.Hour)
			L, C, Co := int64(amocrmtest.FirstLeadID), int64(amocrmtest.FirstContactID), int64(amocrmtest.FirstCompanyID)
			srv.Update(amocrmtest.Leads, L+3, amocrmtest.Object{"name": "Renamed", "status_id": 142})
			srv.Update(amocrmtest.Leads, L+4, amocrmtest.Object{"status_id": 143})
			srv.Update(amocrmtest.Leads, L+40, amocrmtest.Object{"price": 777})
			srv.Update(amocrmtest.Leads, L+41, amocrmtest.Object{"responsible_user_id": amocrmtest.FirstUserID + 1})
			for i := range int64(3) {
				srv.Update(amocrmtest.Contacts, C+10+i, amocrmtest.Object{"name": "Changed " + strconv.Itoa(int(i))})
				srv.Update(amocrmtest.Companies, Co+5+i, amocrmtest.Object{"name": "Changed Co " + strconv.Itoa(int(i))})
			}
			srv.Delete(amocrmtest.Leads, L+10)
			srv.Delete(amocrmtest.Contacts, C+7)
			clk.Advance(time.Minute)
			return []string{fmt.Sprint("deals/", L+10), fmt.Sprint("contacts/", C+7)}
		},
		touch: func(t *testing.T, k int) {
			for i := range int64(k) {
				srv.Update(amocrmtest.Leads, amocrmtest.FirstLeadID+i, amocrmtest.Object{"price": 1000 + i})
			}
		},
		counts: func() map[string]int {
			m := map[string]int{}
			for _, p := range paths {
				if n := srv.Requests(p); n > 0 {
					m[p] = n
				}
			}
			return m
		},
		total: srv.TotalRequests,
		reset: srv.ResetCounts,
	}
}

// seedBitrix24 fills srv with users, a second pipeline and n each of
// companies, contacts, deals and activities (calls and e-mails).
func seedBitrix24(srv *bitrix24test.Server, n int) { seedBitrix24Sized(srv, n, n, n, n) }

// seedBitrix24Sized is seedBitrix24 with a count per object: record i of
// each links to company, contact and deal i (up to their counts).
func seedBitrix24Sized(srv *bitrix24test.Server, companies, contacts, deals, activities int) {
	srv.AddMany(bitrix24test.Users, []bitrix24test.Record{
		{"ID": "1", "ACTIVE": true, "NAME": "Vadim", "LAST_NAME": "Valeev", "EMAIL": "v.valeev@example.com", "UF_DEPARTMENT": []any{1}, "USER_TYPE": "employee"},
		{"ID": "6", "ACTIVE": false, "NAME": "John", "LAST_NAME": "Smith", "EMAIL": "j.smith@example.com", "UF_DEPARTMENT": []any{3}, "USER_TYPE": "employee"},
	})
	srv.AddPipeline(1, "Enterprise", 200, "NEW:New:", "WON:Deal won:S", "LOSE:Deal lost:F")
	var cos, cts, ds, as []bitrix24test.Record
	link := func(i, n int) int { return (i-1)%max(n, 1) + 1 }
	for i := 1; i <= max(companies, contacts, deals, activities); i++ {
		owner := []string{"1", "6"}[i%2]
		if i <= companies {
			cos = append(cos, bitrix24test.Record{"ID": i, "TITLE": fmt.Sprintf("Company %d", i), "ASSIGNED_BY_ID": owner})
		}
		if i <= contacts {
			cts = append(cts, bitrix24test.Record{"ID": i, "NAME": "Contact", "LAST_NAME": fmt.Sprint(i), "COMPANY_ID": link(i, companies), "ASSIGNED_BY_ID": owner,
				"EMAIL": []any{map[string]any{"ID": fmt.Sprint(1000 + i), "VALUE_TYPE": "WORK", "VALUE": fmt.Sprintf("c%d@example.com", i), "TYPE_ID": "EMAIL"}}})
		}
		if i <= deals {
			stage, sem := []string{"NEW", "C1:WON", "LOSE"}[i%3], []string{"P", "S", "F"}[i%3]
			ds = append(ds, bitrix24test.Record{"ID": i, "TITLE": fmt.Sprintf("Deal %d", i), "CATEGORY_ID": []string{"0", "1", "0"}[i%3], "STAGE_ID": stage,
				"STAGE_SEMANTIC_ID": sem, "CLOSED": []string{"N", "Y", "Y"}[i%3], "OPPORTUNITY": fmt.Sprintf("%d.50", i*100), "CURRENCY_ID": "RUB",
				"CLOSEDATE": "2024-09-09T00:00:00+03:00", "ASSIGNED_BY_ID": owner, "COMPANY_ID": link(i, companies), "CONTACT_ID": link(i, contacts)})
		}
		if i <= activities {
			as = append(as, bitrix24test.Record{"ID": i, "OWNER_ID": link(i, deals), "OWNER_TYPE_ID": "2", "TYPE_ID": []string{"2", "4"}[i%2],
				"SUBJECT": "Touch", "START_TIME": "2024-09-05T13:25:00+03:00", "END_TIME": "2024-09-05T13:28:03+03:00",
				"DEADLINE": "2024-09-05T13:25:00+03:00", "COMPLETED": "Y", "STATUS": "2", "RESPONSIBLE_ID": owner, "DIRECTION": "2"})
		}
	}
	srv.AddMany(bitrix24test.Companies, cos)
	srv.AddMany(bitrix24test.Contacts, cts)
	srv.AddMany(bitrix24test.Deals, ds)
	srv.AddMany(bitrix24test.Activities, as)
}

func newBitrix24(t testing.TB, o fakeOpts) *crm {
	clk := synctest.NewClock(time.Date(2024, 9, 2, 14, 48, 35, 0, time.UTC))
	srv := bitrix24test.NewServer(bitrix24test.WithClock(clk.Now), bitrix24test.WithRateLimit(0, 0), bitrix24test.WithLatency(o.latency))
	t.Cleanup(srv.Close)
	if n := o.records; n > 0 {
		seedBitrix24Sized(srv, n/20, n/20, n, n/20)
	} else {
		seedBitrix24(srv, 120)
	}
	clk.Advance(3 * time.Hour)
	batch := 0
	if o.shortPages {
		batch = 1 // 50 records a page
	}
	methods := []string{"batch", "server.time", "user.get", "crm.status.list", "crm.category.list", "crm.dealcategory.list",
		"crm.company.list", "crm.contact.list", "crm.deal.list", "crm.activity.list"}
	return &crm{
		clk: clk,
		conn: func(t testing.TB, name string) connectors.Connector {
			c, err := bitrix24.New(bitrix24.Options{Name: name, WebhookURL: srv.WebhookURL(), HTTPOptions: connectors.HTTPOptions{RateLimit: 10000, Burst: 100, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}, Now: clk.Now, BatchSize: batch})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		want: func() synctest.Rows { return synctest.Bitrix24(srv) },
		mutate: func(t *testing.T) []string {
			clk.Advance(2 * time.Hour)
			srv.Update(bitrix24test.Deals, "7", bitrix24test.Record{"STAGE_ID": "WON", "STAGE_SEMANTIC_ID": "S", "OPPORTUNITY": "777.00"})
			srv.Update(bitrix24test.Deals, "8", bitrix24test.Record{"STAGE_ID": "LOSE", "STAGE_SEMANTIC_ID": "F"})
			srv.Update(bitrix24test.Deals, "100", bitrix24test.Record{"TITLE": "Renamed"})
			srv.Update(bitrix24test.Deals, "101", bitrix24test.Record{"ASSIGNED_BY_ID": "6"})
			for _, id := range []string{"3", "50", "99"} {
				srv.Update(bitrix24test.Contacts, id, bitrix24test.Record{"NAME": "Changed"})
				srv.Update(bitrix24test.Companies, id, bitrix24test.Record{"TITLE": "Changed " + id})
			}
			srv.Delete(bitrix24test.Deals, "20")
			srv.Delete(bitrix24test.Contacts, "21")
			clk.Advance(time.Minute)
			return []string{"deals/20", "contacts/21"}
		},
		touch: func(t *testing.T, k int) {
			for i := range k {
				srv.Update(bitrix24test.Deals, strconv.Itoa(i+1), bitrix24test.Record{"TITLE": "Touched " + strconv.Itoa(i)})
			}
		},
		counts: func() map[string]int {
			m := map[string]int{}
			for _, meth := range methods {
				if n := srv.Requests(meth); n > 0 {
					m[meth] = n
				}
			}
			return m
		},
		total:          srv.TotalRequests,
		reset:          srv.ResetCounts,
		reconcileEvery: 24 * time.Hour,
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// hubspotIncremental is what the sync after the changes costs: the owners
// (active and archived listings) and pipelines (once, shared by the stages
// and deals pulls) are re-read, as HubSpot
// offers no change filter for them; every object makes one search over
// its window and one archived listing (for deletions); associations are
// read only for the objects whose records changed.
var hubspotIncremental = func() map[string]int {
	m := map[string]int{
		"GET /crm/v3/owners":                                      2,
		"GET /crm/v3/pipelines/deals":                             1,
		"POST /crm/v4/associations/contacts/companies/batch/read": 1,
		"POST /crm/v4/associations/deals/companies/batch/read":    1,
		"POST /crm/v4/associations/deals/contacts/batch/read":     1,
	}
	for _, o := range []string{"companies", "contacts", "deals", "calls", "emails", "meetings", "notes", "tasks"} {
		m["POST /crm/v3/objects/"+o+"/search"] = 1
		m["GET /crm/v3/objects/"+o] = 1
	}
	return m
}()

var crms = []struct {
	name string
	new  func(testing.TB, fakeOpts) *crm
	// first is what the first sync costs, per endpoint.
	first map[string]int
	// incremental is what the sync after mutate costs, per endpoint.
	incremental map[string]int
	// reconcile is what the sync that reconciles deletions costs, for a
	// connector without a deletion feed.
	reconcile map[string]int
}{
	{name: "hubspot", new: newHubSpot, incremental: hubspotIncremental},
	{name: "amocrm", new: newAmoCRM,
		// One page per object (204 when empty), the deleted-leads listing,
		// and the account (currency and task type names) once per
		// process; users and pipelines have no change filter and are
		// re-read. Events of every type come in one list (a comma list
		// in filter[type]): the two deletion events fit one page.
		incremental: map[string]int{"/api/v4/account": 1, "/api/v4/users": 1, "/api/v4/leads/pipelines": 1,
			"/api/v4/companies": 1, "/api/v4/contacts": 1, "/api/v4/leads": 2, "/api/v4/tasks": 1,
			"/api/v4/leads/notes": 1, "/api/v4/contacts/notes": 1, "/api/v4/companies/notes": 1, "/api/v4/events": 1}},
	{name: "bitrix24", new: newBitrix24,
		// Users, the pipelines (crm.category.list) and their stages (one
		// batch per pipeline at BatchSize 1) are re-read; every object
		// reads one window of DATE_MODIFY. Reconciling adds an ID scan of
		// each object: 118-119 ids at 50 per call.
		incremental: map[string]int{"user.get": 1, "crm.category.list": 1, "batch": 2,
			"crm.company.list": 1, "crm.contact.list": 1, "crm.deal.list": 1, "crm.activity.list": 1},
		reconcile: map[string]int{"user.get": 1, "crm.category.list": 1, "batch": 2,
			"crm.company.list": 1 + 3, "crm.contact.list": 1 + 3, "crm.deal.list": 1 + 3, "crm.activity.list": 1 + 3}},
}

// syncOnce runs one sync of conn and fails the test on any failure.
func (c *crm) sync(t *testing.T, s Store, conn connectors.Connector, full bool) *Summary {
	t.Helper()
	e := &Engine{Store: s, Now: c.clk.Now, Holder: "e2e"}
	sum, err := e.Run(context.Background(), []Job{{Connector: conn, Full: full, ReconcileEvery: c.reconcileEvery}})
	if err != nil || sum.Failed() {
		t.Fatalf("sync %s: %v %v", conn.Name(), err, sum.Err())
	}
	return sum
}

func (c *crm) check(t *testing.T, db *sql.DB, name string, want synctest.Rows) {
	t.Helper()
	got, err := synctest.Read(context.Background(), db, name)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warehouse differs from the fake (-fake +warehouse):\n%s", diff)
	}
}

func deletedCount(s *Summary) (n int) {
	for _, c := range s.Connectors {
		for _, o := range c.Objects {
			n += o.Deleted
		}
	}
	return n
}

func records(s *Summary) (n int) {
	for _, c := range s.Connectors {
		for _, o := range c.Objects {
			n += o.Records
		}
	}
	return n
}

// TestE2EFirstSyncThenChanges syncs each connector from its fake into
// SQLite and PostgreSQL, changes 10 records and deletes 2 in the fake, and
// syncs again: the warehouse must equal the fake record by record after
// each sync, and the second sync may make only the requests the changes
// need.
func TestE2EFirstSyncThenChanges(t *testing.T) {
	t.Parallel()
	for _, tc := range crms {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
				db := synctest.DB(t, s)
				c := tc.new(t, fakeOpts{shortPages: true})
				want := c.want()
				c.sync(t, s, c.conn(t, "crm"), false)
				c.check(t, db, "crm", want)
				t.Logf("first sync: %d requests %v", c.total(), c.counts())

				first := c.counts()
				deleted := c.mutate(t)
				want2 := c.want()
				synctest.Tombstone(want2, want, deleted...)
				c.reset()
				sum := c.sync(t, s, c.conn(t, "crm"), false)
				t.Logf("incremental: %d records, %d requests %v (first sync: %v)", records(sum), c.total(), c.counts(), first)
				if diff := cmp.Diff(tc.incremental, c.counts()); diff != "" {
					t.Errorf("requests of the incremental sync (-want +got):\n%s", diff)
				}
				if c.reconcileEvery > 0 {
					// No deletion feed: the deleted records stay until the
					// reconciliation cadence comes round.
					pending := maps.Clone(want2)
					for _, k := range deleted {
						pending[k] = want[k]
					}
					c.check(t, db, "crm", pending)
					c.clk.Advance(c.reconcileEvery)
					c.reset()
					sum = c.sync(t, s, c.conn(t, "crm"), false)
					t.Logf("reconciling: %d requests %v", c.total(), c.counts())
					if diff := cmp.Diff(tc.reconcile, c.counts()); diff != "" {
						t.Errorf("requests of the reconciling sync (-want +got):\n%s", diff)
					}
					if n := deletedCount(sum); n != len(deleted) {
						t.Errorf("reconciliation flagged %d records, want %d", n, len(deleted))
					}
				}
				c.check(t, db, "crm", want2)
			})
		})
	}
}

// cancelAtPage cancels the run once n pages (of any object) are stored.
// The engine's writers store pages of different objects concurrently.
type cancelAtPage struct {
	Store
	n      int64
	seen   atomic.Int64
	cancel context.CancelFunc
}

func (c *cancelAtPage) ApplyPageFenced(ctx context.Context, l *warehouse.Lease, obj connectors.Object, p *connectors.Page) error {
	if err := c.Store.ApplyPageFenced(ctx, l, obj, p); err != nil {
		return err
	}
	if c.seen.Add(1) == c.n {
		c.cancel()
	}
	return nil
}

// spread returns n distinct points from lo to hi, both included, evenly
// spaced (fewer when the range is shorter).
func spread(lo, hi, n int) []int {
	var out []int
	for i := range n {
		k := lo + i*(hi-lo)/max(n-1, 1)
		if len(out) == 0 || out[len(out)-1] != k {
			out = append(out, k)
		}
	}
	return out
}

// noneRunning fails when a run of name is left "running": an interrupted
// run must still record its end.
func noneRunning(t *testing.T, db *sql.DB, name string) {
	t.Helper()
	runs, err := synctest.Runs(context.Background(), db, name)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Status == warehouse.RunRunning || r.Finished.IsZero() {
			t.Errorf("run %d of %s %s left %s", r.ID, name, r.Object, r.Status)
		}
	}
}

// TestE2EKilled cancels a sync of each connector after every page in turn,
// and at many moments in the middle of a request (the fake answers after a
// latency), then syncs again: the warehouse must equal the fake record by
// record, without duplicates or gaps.
func TestE2EKilled(t *testing.T) {
	t.Parallel()
	for _, tc := range crms {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
				db := synctest.DB(t, s)
				c := tc.new(t, fakeOpts{shortPages: true})
				want := c.want()
				pages := 0
				for _, co := range c.sync(t, s, c.conn(t, "clean"), false).Connectors {
					for _, o := range co.Objects {
						pages += o.Pages
					}
				}
				c.check(t, db, "clean", want)
				// Six kill points spread over the whole sync, the first
				// and the last page included (every page would cost a
				// minute under -race; the engine tests kill a simpler
				// connector after every page).
				interrupted, kills := 0, 0
				for _, k := range spread(1, pages-1, 6) {
					kills++
					name := fmt.Sprintf("page%d", k)
					ctx, cancel := context.WithCancel(context.Background())
					e := &Engine{Store: &cancelAtPage{Store: s, n: int64(k), cancel: cancel}, Now: c.clk.Now, Holder: "e2e"}
					sum, err := e.Run(ctx, []Job{{Connector: c.conn(t, name), ReconcileEvery: c.reconcileEvery}})
					cancel()
					if err != nil || sum.Failed() {
						interrupted++
					}
					noneRunning(t, db, name)
					c.sync(t, s, c.conn(t, name), false)
					c.check(t, db, name, want)
				}
				if interrupted < kills/2 {
					t.Errorf("only %d of %d runs were interrupted", interrupted, kills)
				}
				t.Logf("%d pages; %d runs killed after a page, %d of them interrupted", pages, kills, interrupted)

				// Mid-request: every request takes 7 ms, so cancellations
				// land inside requests of several objects at once.
				slow := tc.new(t, fakeOpts{shortPages: true, latency: 7 * time.Millisecond})
				want = slow.want()
				for _, d := range []time.Duration{3, 11, 23, 47} {
					name := fmt.Sprintf("mid%d", d)
					ctx, cancel := context.WithTimeout(context.Background(), d*time.Millisecond)
					e := &Engine{Store: s, Now: slow.clk.Now, Holder: "e2e"}
					e.Run(ctx, []Job{{Connector: slow.conn(t, name), ReconcileEvery: slow.reconcileEvery}})
					cancel()
					noneRunning(t, db, name)
					slow.sync(t, s, slow.conn(t, name), false)
					slow.check(t, db, name, want)
				}
			})
		})
	}
}

// commitThenCancel behaves as lib/pq does when ctx is cancelled during an
// INSERT: the row is committed, yet the call reports the cancellation.
type commitThenCancel struct {
	Store
	cancel context.CancelFunc
}

func (c commitThenCancel) TryLock(ctx context.Context, connector, holder string) (*warehouse.Lease, error) {
	l, err := c.Store.TryLock(ctx, connector, holder)
	c.cancel() // stopped right after the lock: the runs are about to start
	return l, err
}

func (c commitThenCancel) StartRun(ctx context.Context, connector string, obj connectors.Object, started time.Time) (int64, error) {
	id, err := c.Store.StartRun(context.WithoutCancel(ctx), connector, obj, started)
	if err == nil && ctx.Err() != nil {
		return id, ctx.Err()
	}
	return id, err
}

// TestEngineStopAtRunStartFinishesRun stops a sync as its runs start: the
// run rows must still be finished (as interrupted), never left running.
func TestEngineStopAtRunStartFinishesRun(t *testing.T) {
	t.Parallel()
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		db := synctest.DB(t, s)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		e := &Engine{Store: commitThenCancel{Store: s, cancel: cancel}}
		sum, _ := e.Run(ctx, []Job{{Connector: &memCRM{name: "mem", ids: ints(1, 5), pageSize: 10}}})
		if !sum.Failed() {
			t.Errorf("a stopped run succeeded")
		}
		noneRunning(t, db, "mem")
		runs, err := synctest.Runs(context.Background(), db, "mem")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.Status != warehouse.RunInterrupted {
				t.Errorf("run %d %s: %s %q, want interrupted", r.ID, r.Object, r.Status, r.Error)
			}
		}
	})
}
