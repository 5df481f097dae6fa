package warehouse_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/rows"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// TestRecordLinks stores a connector's record links, replaces them, and
// refuses a link with no {id}; a fenced save by a sync that lost its lease
// stores nothing.
func TestRecordLinks(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		if ok, err := s.HasRecordLinks(ctx, conn); err != nil || ok {
			t.Fatalf("HasRecordLinks before any = %v, %v; want false", ok, err)
		}
		first := []connectors.RecordLink{{Kind: "deal", URL: "https://a.example/d/{id}"}, {Kind: "call", URL: "https://a.example/c/{id}"}}
		if err := s.SaveRecordLinks(ctx, conn, first); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveRecordLinks(ctx, "amo", []connectors.RecordLink{{Kind: "deal", URL: "https://amo.example/leads/detail/{id}"}}); err != nil {
			t.Fatal(err)
		}
		second := []connectors.RecordLink{{Kind: "deal", URL: "https://b.example/d/{id}"}, {Kind: "company", URL: "https://b.example/co/{id}"}}
		if err := s.SaveRecordLinks(ctx, conn, second); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveRecordLinks(ctx, conn, []connectors.RecordLink{{Kind: "deal", URL: "https://b.example/d/"}}); err == nil {
			t.Error("SaveRecordLinks of a link without {id} succeeded")
		}
		l, err := s.TryLock(ctx, conn, "sync-a")
		if err != nil {
			t.Fatal(err)
		}
		l2, err := warehousetest.Reopen(t, s).TryLock(ctx, conn, "sync-b")
		if err == nil {
			// SQLite's lock file is held by l: the second sync is refused,
			// and l is still the lease; PostgreSQL's advisory lock alike.
			l2.Release()
			t.Fatal("a second TryLock succeeded")
		}
		if err := s.SaveRecordLinksFenced(ctx, l, []connectors.RecordLink{{Kind: "deal", URL: "https://c.example/d/{id}"}}); err != nil {
			t.Fatalf("SaveRecordLinksFenced under the lease: %v", err)
		}
		l.Release()
		var lost *warehouse.LostLeaseError
		if err := s.SaveRecordLinksFenced(ctx, l, second); !errors.As(err, &lost) {
			t.Errorf("SaveRecordLinksFenced after release = %v, want a LostLeaseError", err)
		}
		var got []rows.RecordLink
		if err := s.ScanRecordLinks(ctx, func(r *rows.RecordLink) error { got = append(got, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		want := []rows.RecordLink{
			{Connector: "amo", Kind: "deal", URL: "https://amo.example/leads/detail/{id}"},
			{Connector: conn, Kind: "deal", URL: "https://c.example/d/{id}"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ScanRecordLinks mismatch (-want +got):\n%s", diff)
		}
		if ok, err := s.HasRecordLinks(ctx, conn); err != nil || !ok {
			t.Errorf("HasRecordLinks = %v, %v; want true", ok, err)
		}
	})
}

// TestExplainReads stores live and deleted deals and activities and reads
// them as explain does: activities with their ids, the deleted ones of
// given owners in a window, and names with stage names from crm_stages.
func TestExplainReads(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		apply(t, s, connectors.ObjectStages, connectors.Page{Stages: []connectors.Stage{
			{Meta: meta("p1:won"), PipelineID: "p1", Name: "Closed won", Status: connectors.StatusWon},
		}})
		apply(t, s, connectors.ObjectCompanies, connectors.Page{Companies: []connectors.Company{{Meta: meta("C1"), Name: "Acme"}}})
		apply(t, s, connectors.ObjectContacts, connectors.Page{Contacts: []connectors.Contact{{Meta: meta("K1"), Name: "Kim"}}})
		closed := at(10, 9)
		gone := meta("D2")
		gone.Deleted = true
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{
			{Meta: meta("D1"), Name: "Big one", StageID: "p1:won", Status: connectors.StatusWon, OwnerID: "7", CreatedAt: at(1, 9), ClosedAt: &closed},
			{Meta: gone, Name: "Gone", StageID: "unknown-stage", Status: connectors.StatusWon, OwnerID: "7", CompanyID: "C1", CreatedAt: at(2, 9), ClosedAt: &closed},
			{Meta: func() connectors.Meta { m := meta("D3"); m.Deleted = true; return m }(), Status: connectors.StatusWon, OwnerID: "8", CreatedAt: at(2, 9), ClosedAt: &closed},
		}})
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deletions: []connectors.Deletion{{Object: connectors.ObjectDeals, ID: "D9"}}})
		actGone := meta("A2")
		actGone.Deleted = true
		apply(t, s, connectors.ObjectActivities, connectors.Page{Activities: []connectors.Activity{
			{Meta: meta("A1"), Type: connectors.ActivityTask, Subject: "#team retro", OwnerID: "7", OccurredAt: at(5, 9), Completed: true},
			{Meta: actGone, Type: connectors.ActivityCall, Direction: connectors.DirectionOutbound, OwnerID: "7", OccurredAt: at(6, 9)},
		}})

		var acts []rows.Activity
		if err := s.ScanActivityRecords(ctx, at(1, 0), at(30, 0), func(r *rows.Activity) error { acts = append(acts, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		wantActs := []rows.Activity{{Connector: conn, ID: "A1", Type: "task", Subject: "#team retro", OwnerID: "7", OccurredAt: at(5, 9), Completed: true}}
		if diff := cmp.Diff(wantActs, acts); diff != "" {
			t.Errorf("ScanActivityRecords mismatch (-want +got):\n%s", diff)
		}

		owners := []rows.Key{{Connector: conn, ID: "7"}, {Connector: "amo", ID: "7"}}
		var deals []rows.Deal
		if err := s.ScanDeletedDeals(ctx, owners, at(1, 0), at(30, 0), func(r *rows.Deal) error { deals = append(deals, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		wantDeals := []rows.Deal{{Connector: conn, ID: "D2", Status: "won", OwnerID: "7", CompanyID: "C1", CreatedAt: at(2, 9),
			ClosedAt: nullTime(closed)}}
		if diff := cmp.Diff(wantDeals, deals); diff != "" {
			t.Errorf("ScanDeletedDeals mismatch (-want +got):\n%s", diff)
		}
		deals = nil
		if err := s.ScanDeletedDeals(ctx, owners, at(20, 0), at(30, 0), func(r *rows.Deal) error { deals = append(deals, *r); return nil }); err != nil || len(deals) != 0 {
			t.Errorf("ScanDeletedDeals outside the window = %v, %v; want none", deals, err)
		}
		acts = nil
		if err := s.ScanDeletedActivities(ctx, owners, at(1, 0), at(30, 0), func(r *rows.Activity) error { acts = append(acts, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		wantActs = []rows.Activity{{Connector: conn, ID: "A2", Type: "call", Direction: "outbound", OwnerID: "7", OccurredAt: at(6, 9)}}
		if diff := cmp.Diff(wantActs, acts); diff != "" {
			t.Errorf("ScanDeletedActivities mismatch (-want +got):\n%s", diff)
		}

		names := map[string][]rows.RecordName{}
		for kind, keys := range map[string][]rows.Key{
			rows.KindDeal:     {{Connector: conn, ID: "D1"}, {Connector: conn, ID: "D2"}, {Connector: conn, ID: "nope"}, {Connector: "amo", ID: "D1"}},
			rows.KindCompany:  {{Connector: conn, ID: "C1"}},
			rows.KindContact:  {{Connector: conn, ID: "K1"}},
			rows.KindActivity: {{Connector: conn, ID: "A1"}, {Connector: conn, ID: "A1"}},
		} {
			if err := s.ScanRecordNames(ctx, kind, keys, func(r *rows.RecordName) error { names[kind] = append(names[kind], *r); return nil }); err != nil {
				t.Fatalf("ScanRecordNames(%s): %v", kind, err)
			}
		}
		wantNames := map[string][]rows.RecordName{
			rows.KindDeal:     {{Connector: conn, ID: "D1", Name: "Big one", Stage: "Closed won"}, {Connector: conn, ID: "D2", Name: "Gone", Stage: "unknown-stage"}},
			rows.KindCompany:  {{Connector: conn, ID: "C1", Name: "Acme"}},
			rows.KindContact:  {{Connector: conn, ID: "K1", Name: "Kim"}},
			rows.KindActivity: {{Connector: conn, ID: "A1", Name: "#team retro"}},
		}
		if diff := cmp.Diff(wantNames, names); diff != "" {
			t.Errorf("ScanRecordNames mismatch (-want +got):\n%s", diff)
		}
	})
}

func meta(id string) connectors.Meta { return connectors.Meta{ID: id, UpdatedAt: at(20, 0)} }

func nullTime(t time.Time) sql.NullTime { return sql.NullTime{Time: t, Valid: true} }
