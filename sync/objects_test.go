package sync

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/bitrix24"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// threeObjects is a connector of users, companies and deals, one record
// each, that records which objects it was asked for.
type threeObjects struct {
	mu     gosync.Mutex
	pulled []connectors.Object
}

func (c *threeObjects) Name() string { return "three" }
func (c *threeObjects) Objects() []connectors.Object {
	return []connectors.Object{connectors.ObjectUsers, connectors.ObjectCompanies, connectors.ObjectDeals}
}
func (c *threeObjects) Check(context.Context) ([]string, error) { return nil, nil }

func (c *threeObjects) Pull(ctx context.Context, obj connectors.Object, _ string, emit func(context.Context, *connectors.Page) error) error {
	c.mu.Lock()
	c.pulled = append(c.pulled, obj)
	c.mu.Unlock()
	m := connectors.Meta{ID: "1", UpdatedAt: t0}
	p := &connectors.Page{Cursor: "done", Requests: 1}
	switch obj {
	case connectors.ObjectUsers:
		p.Users = []connectors.User{{Meta: m, Email: "anna@example.com", Active: true}}
	case connectors.ObjectCompanies:
		p.Companies = []connectors.Company{{Meta: m, Name: "Acme"}}
	case connectors.ObjectDeals:
		p.Deals = []connectors.Deal{{Meta: m, Name: "Deal", Status: connectors.StatusOpen}}
	}
	return emit(ctx, p)
}

// TestEngineObjects checks that Job.Objects limits a run to those objects:
// only they are pulled, stored and recorded in sync_runs.
func TestEngineObjects(t *testing.T) {
	t.Parallel()
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		crm := &threeObjects{}
		e := &Engine{Store: s, Now: func() time.Time { return t0 }}
		sum, err := e.Run(ctx, []Job{{Connector: crm, Objects: []connectors.Object{connectors.ObjectUsers, connectors.ObjectDeals}}})
		if err != nil || sum.Failed() {
			t.Fatalf("Run: %v %v", err, sum.Err())
		}
		var ran []connectors.Object
		for _, o := range sum.Connectors[0].Objects {
			ran = append(ran, o.Object)
		}
		if diff := cmp.Diff([]connectors.Object{connectors.ObjectUsers, connectors.ObjectDeals}, ran); diff != "" {
			t.Errorf("objects run (-want +got):\n%s", diff)
		}
		pulled := slices.Clone(crm.pulled)
		slices.Sort(pulled)
		if diff := cmp.Diff([]connectors.Object{connectors.ObjectDeals, connectors.ObjectUsers}, pulled); diff != "" {
			t.Errorf("objects pulled (-want +got):\n%s", diff)
		}
		st, err := s.RunStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var recorded []string
		for _, o := range st {
			recorded = append(recorded, o.Object)
		}
		slices.Sort(recorded)
		if diff := cmp.Diff([]string{"deals", "users"}, recorded); diff != "" {
			t.Errorf("sync_runs objects (-want +got):\n%s", diff)
		}
		if n := len(warehousetest.Companies(t, s)); n != 0 {
			t.Errorf("companies stored = %d, want 0: the object was not asked for", n)
		}
	})
}

// TestSyncedHealth checks that status judges only the objects a connector
// syncs: deals, left out of its objects, went stale but are not reported.
func TestSyncedHealth(t *testing.T) {
	now := t0
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	st := []warehouse.ObjectStatus{
		{Connector: "hs", Object: "calls", Status: warehouse.RunSucceeded, LastSuccess: ago(time.Hour)},
		{Connector: "hs", Object: "deals", Status: warehouse.RunSucceeded, LastSuccess: ago(40 * 24 * time.Hour)},
		{Connector: "hs", Object: "reconcile:deals", Status: warehouse.RunSucceeded},
		{Connector: "hs", Object: "users", Status: warehouse.RunSucceeded, LastSuccess: ago(time.Hour)},
	}
	limits := map[string]time.Duration{"hs": 24 * time.Hour}
	if Healthy(Assess(st, limits, now)) {
		t.Fatal("the stale deals do not fail the unfiltered statuses; the test proves nothing")
	}
	syncs := func(connector, obj string) bool { return obj == "calls" || obj == "users" }
	hs := Assess(Synced(st, syncs), limits, now)
	var objs []string
	for _, h := range hs {
		objs = append(objs, h.Object)
	}
	if diff := cmp.Diff([]string{"calls", "users"}, objs); diff != "" {
		t.Errorf("judged objects (-want +got):\n%s", diff)
	}
	if !Healthy(hs) {
		t.Errorf("Healthy = false for %+v, want true", hs)
	}
}

// sinceCRM is a memReconciler with a start date: a pull from an empty
// cursor skips the ids below since (the records last modified before it),
// as a connector with since does, and says so (PartialPull).
type sinceCRM struct {
	memReconciler
	since int
}

func (c sinceCRM) PartialPull(obj connectors.Object) bool { return c.since > 0 }

func (c sinceCRM) Pull(ctx context.Context, obj connectors.Object, cursor string, emit func(context.Context, *connectors.Page) error) error {
	if cursor != "" || c.since == 0 {
		return c.memCRM.Pull(ctx, obj, cursor, emit)
	}
	return c.memCRM.Pull(ctx, obj, strconv.Itoa(c.since-1), emit)
}

// TestEngineReconcileSince checks that records a since kept a pull from
// reading are never flagged deleted: neither after a first sync with since
// nor after a --full one over records stored whole before; the ids are
// listed instead, and only a record the listing lacks is flagged.
func TestEngineReconcileSince(t *testing.T) {
	t.Parallel()
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		now := t0
		e := &Engine{Store: s, Now: func() time.Time { return now }}
		mem := &memCRM{name: "mem", ids: ints(1, 6), pageSize: 10, live: seq(1, 6)}

		// A first sync with since 4 into an empty warehouse: 4..6 stored,
		// nothing to flag, no listing.
		crm := sinceCRM{memReconciler{mem}, 4}
		sum, _ := e.Run(ctx, []Job{{Connector: crm}})
		if sum.Failed() {
			t.Fatal(sum.Err())
		}
		if o := sum.Connectors[0].Objects[0]; o.Records != 3 || o.Deleted != 0 || mem.listings != 0 {
			t.Errorf("first sync with since: %d records, %d flagged, %d listings; want 3, 0, 0", o.Records, o.Deleted, mem.listings)
		}
		live, _ := companyIDs(t, s)
		if diff := cmp.Diff(seq(4, 6), live); diff != "" {
			t.Errorf("stored after the first sync with since (-want +got):\n%s", diff)
		}

		// Records 1..6 stored whole (a sync before since was set), then
		// --full with since: 1..3 are not pulled, but they are live in
		// the CRM's listing, so nothing is flagged.
		crm.since = 0
		if sum, _ := e.Run(ctx, []Job{{Connector: crm, Full: true}}); sum.Failed() {
			t.Fatal(sum.Err())
		}
		listings := mem.listings
		crm.since = 4
		now = now.Add(time.Hour)
		sum, _ = e.Run(ctx, []Job{{Connector: crm, Full: true}})
		if sum.Failed() {
			t.Fatal(sum.Err())
		}
		if o := sum.Connectors[0].Objects[0]; o.Records != 3 || o.Deleted != 0 || mem.listings != listings+1 {
			t.Errorf("--full with since: %d records, %d flagged, %d listings; want 3, 0, %d", o.Records, o.Deleted, mem.listings, listings+1)
		}
		live, _ = companyIDs(t, s)
		if diff := cmp.Diff(seq(1, 6), live); diff != "" {
			t.Errorf("live after --full with since (-want +got):\n%s", diff)
		}

		// Record 2, older than since, is deleted in the CRM: the listing
		// lacks it, so it is flagged; the others stay.
		mem.ids, mem.live = []int{1, 3, 4, 5, 6}, []string{"1", "3", "4", "5", "6"}
		sum, _ = e.Run(ctx, []Job{{Connector: crm, Full: true}})
		if d := sum.Connectors[0].Objects[0].Deleted; d != 1 {
			t.Errorf("--full with since after a deletion: %d flagged, want 1", d)
		}
		live, _ = companyIDs(t, s)
		if diff := cmp.Diff(mem.live, live); diff != "" {
			t.Errorf("live after the deletion (-want +got):\n%s", diff)
		}
	})
}

// TestE2ESinceNeverFlagsOldRecords runs Bitrix24 deals, half of them
// modified before since, through the engine into both warehouses: a first
// sync with since stores the new ones and lists nothing; a --full with
// since over the deals stored whole flags none of the old ones (every id
// is listed, one batch), and one deleted in the portal is flagged.
func TestE2ESinceNeverFlagsOldRecords(t *testing.T) {
	t.Parallel()
	since := time.Date(2024, 8, 1, 0, 0, 0, 0, time.UTC)
	warehousetest.EachParallel(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		clk := synctest.NewClock(time.Date(2024, 9, 2, 14, 48, 35, 0, time.UTC))
		srv := bitrix24test.NewServer(bitrix24test.WithClock(clk.Now), bitrix24test.WithRateLimit(0, 0))
		t.Cleanup(srv.Close)
		var ds []bitrix24test.Record
		var recent []string
		for i := 1; i <= 120; i++ {
			mod := "2024-08-20T10:00:00+03:00"
			if i%2 == 0 {
				mod = "2024-07-15T10:00:00+03:00"
			} else {
				recent = append(recent, strconv.Itoa(i))
			}
			ds = append(ds, bitrix24test.Record{"ID": i, "TITLE": fmt.Sprintf("Deal %d", i), "STAGE_ID": "NEW", "STAGE_SEMANTIC_ID": "P",
				"CATEGORY_ID": "0", "ASSIGNED_BY_ID": "1", "DATE_MODIFY": mod})
		}
		srv.AddMany(bitrix24test.Deals, ds)
		conn := func(name string, since time.Time) connectors.Connector {
			c, err := bitrix24.New(bitrix24.Options{Name: name, WebhookURL: srv.WebhookURL(), Now: clk.Now, Since: since,
				HTTPOptions: connectors.HTTPOptions{RateLimit: 10000, Burst: 100, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		e := &Engine{Store: s, Now: clk.Now}
		deals := []connectors.Object{connectors.ObjectDeals}
		run := func(c connectors.Connector, full bool) ObjectResult {
			t.Helper()
			srv.ResetCounts()
			sum, err := e.Run(ctx, []Job{{Connector: c, Full: full, Objects: deals}})
			if err != nil || sum.Failed() {
				t.Fatalf("Run: %v %v", err, sum.Err())
			}
			return sum.Connectors[0].Objects[0]
		}
		live := func(name string) []string {
			var ids []string
			for _, d := range warehousetest.Deals(t, s) {
				if d.Connector == name && !d.Deleted {
					ids = append(ids, d.ID)
				}
			}
			slices.SortFunc(ids, func(a, b string) int { return atoi(a) - atoi(b) })
			return ids
		}

		// A first sync with since: the 60 recent deals; server.time and
		// one batch, no id listing.
		o := run(conn("fresh", since), false)
		if o.Records != 60 || o.Deleted != 0 || srv.TotalRequests() != 2 {
			t.Errorf("first sync with since: %d records, %d flagged, %d requests; want 60, 0, 2", o.Records, o.Deleted, srv.TotalRequests())
		}
		if diff := cmp.Diff(recent, live("fresh")); diff != "" {
			t.Errorf("stored by the first sync with since (-want +got):\n%s", diff)
		}

		// Stored whole, then --full with since: 60 pulled, 120 listed,
		// nothing flagged.
		run(conn("b24", time.Time{}), false)
		c := conn("b24", since)
		o = run(c, true)
		if o.Records != 60 || o.Deleted != 0 || srv.TotalRequests() != 3 {
			t.Errorf("--full with since: %d records, %d flagged, %d requests; want 60, 0, 3 (server.time, a batch, the id listing)",
				o.Records, o.Deleted, srv.TotalRequests())
		}
		if diff := cmp.Diff(seq(1, 120), live("b24")); diff != "" {
			t.Errorf("live after --full with since (-want +got):\n%s", diff)
		}

		// An old deal deleted in the portal is flagged by the listing.
		srv.Delete(bitrix24test.Deals, "2")
		if o = run(c, true); o.Deleted != 1 {
			t.Errorf("--full with since after deal 2 was deleted: %d flagged, want 1", o.Deleted)
		}
		if got := live("b24"); len(got) != 119 || got[0] != "1" || got[1] != "3" {
			t.Errorf("live after the deletion: %d deals starting %q, want 119 without 2", len(got), got[:2])
		}
	})
}
