package sync

import (
	"context"
	"slices"
	"strconv"
	gosync "sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
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
