package sync

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

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
	new  connectortest.Factory
	// first is what the first sync costs, per endpoint.
	first map[string]int
	// incremental is what the sync after mutate costs, per endpoint.
	incremental map[string]int
	// reconcile is what the sync that reconciles deletions costs, for a
	// connector without a deletion feed.
	reconcile map[string]int
}{
	{name: "hubspot", new: synctest.NewHubSpot, incremental: hubspotIncremental},
	{name: "amocrm", new: synctest.NewAmoCRM,
		// One page per object (204 when empty), the deleted-leads listing,
		// and the account (currency and task type names) once per
		// process; users and pipelines have no change filter and are
		// re-read. Events of every type come in one list (a comma list
		// in filter[type]): the two deletion events fit one page.
		incremental: map[string]int{"/api/v4/account": 1, "/api/v4/users": 1, "/api/v4/leads/pipelines": 1,
			"/api/v4/companies": 1, "/api/v4/contacts": 1, "/api/v4/leads": 2, "/api/v4/tasks": 1,
			"/api/v4/leads/notes": 1, "/api/v4/contacts/notes": 1, "/api/v4/companies/notes": 1, "/api/v4/events": 1}},
	{name: "bitrix24", new: synctest.NewBitrix24,
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
func syncOnce(t *testing.T, c *connectortest.Fixture, s Store, conn connectors.Connector, full bool) *Summary {
	t.Helper()
	e := &Engine{Store: s, Now: c.Clock.Now, Holder: "e2e"}
	sum, err := e.Run(context.Background(), []Job{{Connector: conn, Full: full, ReconcileEvery: c.ReconcileEvery}})
	if err != nil || sum.Failed() {
		t.Fatalf("sync %s: %v %v", conn.Name(), err, sum.Err())
	}
	return sum
}

// check fails unless the warehouse holds exactly want for connector name.
func check(t *testing.T, db *sql.DB, name string, want synctest.Rows) {
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
			warehousetest.EachParallel(t, func(t *testing.T, s *warehouse.Store) {
				db := synctest.DB(t, s)
				c := tc.new(t, connectortest.FakeOptions{ShortPages: true})
				want := c.Want()
				syncOnce(t, c, s, c.Connector(t, "crm", connectortest.ConnOptions{}), false)
				check(t, db, "crm", want)
				t.Logf("first sync: %d requests %v", c.Faults.TotalRequests(), c.Faults.RequestCounts())

				first := c.Faults.RequestCounts()
				deleted := c.Mutate(t)
				want2 := c.Want()
				synctest.Tombstone(want2, want, deleted...)
				c.Faults.ResetCounts()
				sum := syncOnce(t, c, s, c.Connector(t, "crm", connectortest.ConnOptions{}), false)
				t.Logf("incremental: %d records, %d requests %v (first sync: %v)", records(sum), c.Faults.TotalRequests(), c.Faults.RequestCounts(), first)
				if diff := cmp.Diff(tc.incremental, c.Faults.RequestCounts()); diff != "" {
					t.Errorf("requests of the incremental sync (-want +got):\n%s", diff)
				}
				if c.ReconcileEvery > 0 {
					// No deletion feed: the deleted records stay until the
					// reconciliation cadence comes round.
					pending := maps.Clone(want2)
					for _, k := range deleted {
						pending[k] = want[k]
					}
					check(t, db, "crm", pending)
					c.Clock.Advance(c.ReconcileEvery)
					c.Faults.ResetCounts()
					sum = syncOnce(t, c, s, c.Connector(t, "crm", connectortest.ConnOptions{}), false)
					t.Logf("reconciling: %d requests %v", c.Faults.TotalRequests(), c.Faults.RequestCounts())
					if diff := cmp.Diff(tc.reconcile, c.Faults.RequestCounts()); diff != "" {
						t.Errorf("requests of the reconciling sync (-want +got):\n%s", diff)
					}
					if n := deletedCount(sum); n != len(deleted) {
						t.Errorf("reconciliation flagged %d records, want %d", n, len(deleted))
					}
				}
				check(t, db, "crm", want2)
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
			warehousetest.EachParallel(t, func(t *testing.T, s *warehouse.Store) {
				db := synctest.DB(t, s)
				c := tc.new(t, connectortest.FakeOptions{ShortPages: true})
				want := c.Want()
				pages := 0
				for _, co := range syncOnce(t, c, s, c.Connector(t, "clean", connectortest.ConnOptions{}), false).Connectors {
					for _, o := range co.Objects {
						pages += o.Pages
					}
				}
				check(t, db, "clean", want)
				// Six kill points spread over the whole sync, the first
				// and the last page included (every page would cost a
				// minute under -race; the engine tests kill a simpler
				// connector after every page).
				interrupted, kills := 0, 0
				for _, k := range spread(1, pages-1, 6) {
					kills++
					name := fmt.Sprintf("page%d", k)
					ctx, cancel := context.WithCancel(context.Background())
					e := &Engine{Store: &cancelAtPage{Store: s, n: int64(k), cancel: cancel}, Now: c.Clock.Now, Holder: "e2e"}
					sum, err := e.Run(ctx, []Job{{Connector: c.Connector(t, name, connectortest.ConnOptions{}), ReconcileEvery: c.ReconcileEvery}})
					cancel()
					if err != nil || sum.Failed() {
						interrupted++
					}
					noneRunning(t, db, name)
					syncOnce(t, c, s, c.Connector(t, name, connectortest.ConnOptions{}), false)
					check(t, db, name, want)
				}
				if interrupted < kills/2 {
					t.Errorf("only %d of %d runs were interrupted", interrupted, kills)
				}
				t.Logf("%d pages; %d runs killed after a page, %d of them interrupted", pages, kills, interrupted)

				// Mid-request: every request takes 7 ms, so cancellations
				// land inside requests of several objects at once.
				slow := tc.new(t, connectortest.FakeOptions{ShortPages: true, Latency: 7 * time.Millisecond})
				want = slow.Want()
				for _, d := range []time.Duration{3, 11, 23, 47} {
					name := fmt.Sprintf("mid%d", d)
					ctx, cancel := context.WithTimeout(context.Background(), d*time.Millisecond)
					e := &Engine{Store: s, Now: slow.Clock.Now, Holder: "e2e"}
					e.Run(ctx, []Job{{Connector: slow.Connector(t, name, connectortest.ConnOptions{}), ReconcileEvery: slow.ReconcileEvery}})
					cancel()
					noneRunning(t, db, name)
					syncOnce(t, slow, s, slow.Connector(t, name, connectortest.ConnOptions{}), false)
					check(t, db, name, want)
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
