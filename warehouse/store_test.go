package warehouse_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/rows"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

const conn = "hub"

// at is a fixed time in the test's calendar: day d of October 2026, hour
// h, with a sub-second part to prove microseconds survive both engines.
func at(d, h int) time.Time {
	return time.Date(2026, 10, d, h, 0, 0, 123456000, time.UTC)
}

func ptr[T any](v T) *T { return &v }

func fixedClock(s *warehouse.Store, t time.Time) {
	warehouse.SetNow(s, func() time.Time { return t })
}

func apply(t *testing.T, s *warehouse.Store, obj connectors.Object, p connectors.Page) {
	t.Helper()
	if err := s.ApplyPage(context.Background(), conn, obj, &p); err != nil {
		t.Fatalf("ApplyPage: %v", err)
	}
}

func deals(t *testing.T, s *warehouse.Store) []connectors.Deal {
	t.Helper()
	return warehousetest.Deals(t, s)
}

func deal(id string, updated time.Time, name string) connectors.Deal {
	return connectors.Deal{Meta: connectors.Meta{ID: id, UpdatedAt: updated, Raw: json.RawMessage(`{"id": "` + id + `"}`)},
		Name: name, Status: connectors.StatusOpen, Currency: "EUR", CreatedAt: at(1, 9)}
}

// readBack is what warehousetest.Deals returns for a written deal: Connector set,
// Raw dropped.
func readBack(d connectors.Deal) connectors.Deal {
	d.Connector = conn
	d.Raw = nil
	return d
}

func TestMigrate(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		applied, err := s.Migrate(ctx)
		if err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if len(applied) != 0 {
			t.Errorf("second Migrate applied %v, want none", applied)
		}
		v, err := s.SchemaVersion(ctx)
		if err != nil || v != 5 {
			t.Errorf("SchemaVersion = %d, %v; want 5, nil", v, err)
		}
	})
}

func TestRoundTrip(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		fixedClock(s, at(20, 12))
		raw := json.RawMessage(`{"id": 7, "name": "Anna"}`)
		p := connectors.Page{
			Users: []connectors.User{
				{Meta: connectors.Meta{ID: "7", UpdatedAt: at(2, 1), Raw: raw}, Email: "anna@example.com", Name: "Anna", Active: true},
				{Meta: connectors.Meta{ID: "8", UpdatedAt: at(2, 2), Deleted: true}, Name: "Gone"},
			},
			Stages: []connectors.Stage{
				{Meta: connectors.Meta{ID: "p1:won", UpdatedAt: at(2, 3)}, PipelineID: "p1", PipelineName: "Sales", Name: "Won", Status: connectors.StatusWon, Sort: 90},
			},
			Companies: []connectors.Company{
				{Meta: connectors.Meta{ID: "c1", UpdatedAt: at(2, 4)}, Name: "ACME", OwnerID: "7", KeyClient: ptr(true), CreatedAt: at(1, 1)},
				{Meta: connectors.Meta{ID: "c2", UpdatedAt: at(2, 5)}, Name: "Nobody's"},
			},
			Contacts: []connectors.Contact{
				{Meta: connectors.Meta{ID: "p1", UpdatedAt: at(2, 6)}, Name: "Petr", Email: "petr@acme.test", CompanyID: "c1", OwnerID: "7",
					NPSScore: ptr(9.0), NPSAt: ptr(at(2, 0)), CreatedAt: at(1, 2)},
				{Meta: connectors.Meta{ID: "p2", UpdatedAt: at(2, 7)}, Name: "Olga", NPSScore: ptr(3.0)},
				{Meta: connectors.Meta{ID: "p3", UpdatedAt: at(2, 8)}, Name: "Ivan"},
			},
			Deals: []connectors.Deal{
				{Meta: connectors.Meta{ID: "d1", UpdatedAt: at(3, 1), Raw: raw}, Name: "Big", PipelineID: "p1", StageID: "p1:won",
					Status: connectors.StatusWon, Amount: ptr(12345.67), Currency: "RUB", OwnerID: "7", CompanyID: "c1", ContactID: "p1",
					CreatedAt: at(1, 3), ClosedAt: ptr(at(3, 0)), Expense: ptr(0.1)},
				{Meta: connectors.Meta{ID: "d2", UpdatedAt: at(3, 2)}, Status: connectors.StatusOpen},
			},
			Activities: []connectors.Activity{
				{Meta: connectors.Meta{ID: "a1", UpdatedAt: at(4, 1)}, Type: connectors.ActivityCall, Direction: connectors.DirectionOutbound,
					OwnerID: "7", CompanyID: "c1", ContactID: "p1", DealID: "d1", OccurredAt: at(4, 0), Completed: true, DurationS: ptr(125),
					Connected: ptr(false)},
				{Meta: connectors.Meta{ID: "a2", UpdatedAt: at(4, 2)}, Type: connectors.ActivityTask, Subject: "Call back", OccurredAt: at(5, 0)},
				{Meta: connectors.Meta{ID: "a3", UpdatedAt: at(4, 3)}, Type: connectors.ActivityNote, Subject: "outside", OccurredAt: at(9, 0)},
			},
			Cursor: "c-1",
		}
		apply(t, s, connectors.ObjectDeals, p)

		users := warehousetest.Users(t, s)
		wantUsers := []connectors.User{
			{Meta: connectors.Meta{Connector: conn, ID: "7", UpdatedAt: at(2, 1), Raw: raw}, Email: "anna@example.com", Name: "Anna", Active: true},
			{Meta: connectors.Meta{Connector: conn, ID: "8", UpdatedAt: at(2, 2), Deleted: true}, Name: "Gone"},
		}
		if diff := cmp.Diff(wantUsers, users); diff != "" {
			t.Errorf("warehousetest.Users (-want +got):\n%s", diff)
		}
		stages := warehousetest.Stages(t, s)
		wantStages := []connectors.Stage{{Meta: connectors.Meta{Connector: conn, ID: "p1:won", UpdatedAt: at(2, 3)},
			PipelineID: "p1", PipelineName: "Sales", Name: "Won", Status: connectors.StatusWon, Sort: 90}}
		if diff := cmp.Diff(wantStages, stages); diff != "" {
			t.Errorf("warehousetest.Stages (-want +got):\n%s", diff)
		}
		companies := warehousetest.Companies(t, s)
		wantCompanies := []connectors.Company{
			{Meta: connectors.Meta{Connector: conn, ID: "c1", UpdatedAt: at(2, 4)}, Name: "ACME", OwnerID: "7", KeyClient: ptr(true), CreatedAt: at(1, 1)},
			{Meta: connectors.Meta{Connector: conn, ID: "c2", UpdatedAt: at(2, 5)}, Name: "Nobody's"},
		}
		if diff := cmp.Diff(wantCompanies, companies); diff != "" {
			t.Errorf("warehousetest.Companies (-want +got):\n%s", diff)
		}
		contacts := warehousetest.Contacts(t, s)
		wantContacts := []connectors.Contact{
			{Meta: connectors.Meta{Connector: conn, ID: "p1", UpdatedAt: at(2, 6)}, Name: "Petr", Email: "petr@acme.test", CompanyID: "c1", OwnerID: "7",
				NPSScore: ptr(9.0), NPSAt: ptr(at(2, 0)), CreatedAt: at(1, 2)},
			// No answer date mapped: the answer counts from when the
			// warehouse first saw it.
			{Meta: connectors.Meta{Connector: conn, ID: "p2", UpdatedAt: at(2, 7)}, Name: "Olga", NPSScore: ptr(3.0), NPSAt: ptr(at(20, 12))},
			{Meta: connectors.Meta{Connector: conn, ID: "p3", UpdatedAt: at(2, 8)}, Name: "Ivan"},
		}
		if diff := cmp.Diff(wantContacts, contacts); diff != "" {
			t.Errorf("warehousetest.Contacts (-want +got):\n%s", diff)
		}
		wantDeals := []connectors.Deal{readBack(p.Deals[0]), readBack(p.Deals[1])}
		if diff := cmp.Diff(wantDeals, deals(t, s)); diff != "" {
			t.Errorf("warehousetest.Deals (-want +got):\n%s", diff)
		}
		acts := warehousetest.Activities(t, s, at(4, 0), at(9, 0))
		wantActs := []connectors.Activity{p.Activities[0], p.Activities[1]}
		for i := range wantActs {
			wantActs[i].Connector = conn
		}
		if diff := cmp.Diff(wantActs, acts); diff != "" {
			t.Errorf("warehousetest.Activities (-want +got):\n%s", diff)
		}
		if c, err := s.Cursor(ctx, conn, connectors.ObjectDeals); err != nil || c != "c-1" {
			t.Errorf("Cursor = %q, %v; want c-1", c, err)
		}
	})
}

func TestUpsertRules(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		d1 := deal("d1", at(5, 0), "v5")

		// The same page twice leaves one row with the same values.
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{d1}})
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{d1}})
		if diff := cmp.Diff([]connectors.Deal{readBack(d1)}, deals(t, s)); diff != "" {
			t.Errorf("after the same page twice (-want +got):\n%s", diff)
		}

		// An older copy does not overwrite; a newer one does, as does an
		// equal one (a re-sync repairs).
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{deal("d1", at(4, 0), "v4")}})
		if diff := cmp.Diff([]connectors.Deal{readBack(d1)}, deals(t, s)); diff != "" {
			t.Errorf("after an older copy (-want +got):\n%s", diff)
		}
		eq := deal("d1", at(5, 0), "v5 again")
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{eq}})
		if diff := cmp.Diff([]connectors.Deal{readBack(eq)}, deals(t, s)); diff != "" {
			t.Errorf("after an equal copy (-want +got):\n%s", diff)
		}
		d6 := deal("d1", at(6, 0), "v6")
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{d6}})
		if diff := cmp.Diff([]connectors.Deal{readBack(d6)}, deals(t, s)); diff != "" {
			t.Errorf("after a newer copy (-want +got):\n%s", diff)
		}

		// Duplicates within one page: the newest wins.
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{
			deal("d2", at(7, 0), "new"), deal("d2", at(6, 0), "old")}})
		if got := deals(t, s); len(got) != 2 || got[1].Name != "new" {
			t.Errorf("after duplicates in a page, deals = %+v, want d2 named new", got)
		}
	})
}

func TestDeletions(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		fixedClock(s, at(20, 0))

		// A record the CRM reports deleted is stored flagged.
		apply(t, s, connectors.ObjectUsers, connectors.Page{Users: []connectors.User{
			{Meta: connectors.Meta{ID: "u1", UpdatedAt: at(1, 0), Deleted: true}, Name: "Ex"}}})
		users := warehousetest.Users(t, s)
		want := []connectors.User{{Meta: connectors.Meta{Connector: conn, ID: "u1", UpdatedAt: at(1, 0), Deleted: true}, Name: "Ex"}}
		if diff := cmp.Diff(want, users); diff != "" {
			t.Errorf("deleted user (-want +got):\n%s", diff)
		}

		// A Deletion of a stored deal flags it, keeping its columns, and
		// moves updated_at to the deletion time; an equal-time copy
		// fetched before the deletion cannot undo it.
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{deal("d1", at(2, 0), "kept")}})
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deletions: []connectors.Deletion{
			{Object: connectors.ObjectDeals, ID: "d1", At: at(3, 0)}}})
		if got := deals(t, s); len(got) != 0 {
			t.Errorf("after Deletion, deals = %+v, want none", got)
		}
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{deal("d1", at(2, 0), "kept")}})
		if got := deals(t, s); len(got) != 0 {
			t.Errorf("after an older copy of a deleted deal, deals = %+v, want none", got)
		}

		// A Deletion of a record never seen leaves a tombstone: an older
		// copy stays deleted, a newer one restores it.
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deletions: []connectors.Deletion{
			{Object: connectors.ObjectDeals, ID: "d2", At: at(5, 0)}}})
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{deal("d2", at(4, 0), "old")}})
		if got := deals(t, s); len(got) != 0 {
			t.Errorf("after an older copy of a tombstone, deals = %+v, want none", got)
		}
		restored := deal("d2", at(6, 0), "restored")
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{restored}})
		if diff := cmp.Diff([]connectors.Deal{readBack(restored)}, deals(t, s)); diff != "" {
			t.Errorf("after a newer copy of a tombstone (-want +got):\n%s", diff)
		}

		// A Deletion without a time counts as deleted now.
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deletions: []connectors.Deletion{
			{Object: connectors.ObjectDeals, ID: "d2"}}})
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{restored}})
		if got := deals(t, s); len(got) != 0 {
			t.Errorf("after a Deletion with no time, deals = %+v, want none", got)
		}
	})
}

func TestFailedPageStoresNothing(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		if err := s.SetCursor(ctx, conn, connectors.ObjectDeals, "before"); err != nil {
			t.Fatal(err)
		}
		// The deals are written first and are valid; the contact's raw
		// JSON is broken, which both engines reject, in a later statement
		// of the same transaction.
		p := connectors.Page{
			Deals: []connectors.Deal{deal("d1", at(1, 0), "one"), deal("d2", at(1, 0), "two")},
			Contacts: []connectors.Contact{{Meta: connectors.Meta{ID: "p1", UpdatedAt: at(1, 0),
				Raw: json.RawMessage(`{"broken":`)}}},
			Cursor: "after",
		}
		err := s.ApplyPage(ctx, conn, connectors.ObjectDeals, &p)
		if err == nil {
			t.Fatal("ApplyPage with a broken record succeeded, want an error")
		}
		if !strings.Contains(err.Error(), "hub deals page") {
			t.Errorf("ApplyPage error %q does not name the connector and object", err)
		}
		if got := deals(t, s); len(got) != 0 {
			t.Errorf("after a failed page, deals = %+v, want none", got)
		}
		if c, err := s.Cursor(ctx, conn, connectors.ObjectDeals); err != nil || c != "before" {
			t.Errorf("after a failed page, Cursor = %q, %v; want before", c, err)
		}

		// A cancelled context fails the page the same way.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		p.Contacts = nil
		if err := s.ApplyPage(cctx, conn, connectors.ObjectDeals, &p); !errors.Is(err, context.Canceled) {
			t.Errorf("ApplyPage with a cancelled context = %v, want context.Canceled", err)
		}
		if got := deals(t, s); len(got) != 0 {
			t.Errorf("after a cancelled page, deals = %+v, want none", got)
		}
	})
}

func TestCursors(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		check := func(obj connectors.Object, want string) {
			t.Helper()
			if c, err := s.Cursor(ctx, conn, obj); err != nil || c != want {
				t.Errorf("Cursor(%s) = %q, %v; want %q", obj, c, err, want)
			}
		}
		check(connectors.ObjectDeals, "")
		if err := s.SetCursor(ctx, conn, connectors.ObjectDeals, "1"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetCursor(ctx, conn, connectors.ObjectDeals, "2"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetCursor(ctx, "other", connectors.ObjectDeals, "x"); err != nil {
			t.Fatal(err)
		}
		// A page without a cursor keeps the saved one.
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{deal("d1", at(1, 0), "x")}})
		check(connectors.ObjectDeals, "2")
		apply(t, s, connectors.ObjectContacts, connectors.Page{Cursor: "c"})
		check(connectors.ObjectContacts, "c")
		if err := s.ClearCursors(ctx, conn); err != nil {
			t.Fatal(err)
		}
		check(connectors.ObjectDeals, "")
		check(connectors.ObjectContacts, "")
		if c, err := s.Cursor(ctx, "other", connectors.ObjectDeals); err != nil || c != "x" {
			t.Errorf("other connector's Cursor = %q, %v; want x", c, err)
		}
	})
}

func TestLinks(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		d := deal("d1", at(1, 0), "linked")
		d.CompanyID, d.ContactID = "c1", "p1"
		apply(t, s, connectors.ObjectDeals, connectors.Page{
			Deals:    []connectors.Deal{d},
			Contacts: []connectors.Contact{{Meta: connectors.Meta{ID: "p1", UpdatedAt: at(1, 0)}, Name: "P"}},
			Activities: []connectors.Activity{{Meta: connectors.Meta{ID: "a1", UpdatedAt: at(1, 0)},
				Type: connectors.ActivityCall, OccurredAt: at(1, 0), DealID: "d0"}},
		})
		apply(t, s, connectors.ObjectDeals, connectors.Page{Links: []connectors.Links{
			{Object: connectors.ObjectDeals, ID: "d1", CompanyID: ptr("c2")},
			{Object: connectors.ObjectDeals, ID: "d1", ContactID: ptr("")}, // clears
			{Object: connectors.ObjectDeals, ID: "missing", CompanyID: ptr("c9")},
			{Object: connectors.ObjectContacts, ID: "p1", CompanyID: ptr("c2")},
			{Object: connectors.ObjectActivities, ID: "a1", CompanyID: ptr("c2"), ContactID: ptr("p1"), DealID: ptr("d1")},
		}})
		d.CompanyID, d.ContactID = "c2", ""
		if diff := cmp.Diff([]connectors.Deal{readBack(d)}, deals(t, s)); diff != "" {
			t.Errorf("linked deals (-want +got):\n%s", diff)
		}
		contacts := warehousetest.Contacts(t, s)
		if len(contacts) != 1 || contacts[0].CompanyID != "c2" {
			t.Errorf("linked contacts = %+v, want p1 at c2", contacts)
		}
		acts := warehousetest.Activities(t, s, at(1, 0), at(2, 0))
		if len(acts) != 1 || acts[0].CompanyID != "c2" || acts[0].ContactID != "p1" || acts[0].DealID != "d1" {
			t.Errorf("linked activities = %+v, want a1 at c2, p1, d1", acts)
		}

		// A link column the object does not have is an error.
		p := connectors.Page{Links: []connectors.Links{{Object: connectors.ObjectContacts, ID: "p1", DealID: ptr("d1")}}}
		if err := s.ApplyPage(ctx, conn, connectors.ObjectContacts, &p); err == nil {
			t.Error("ApplyPage linking a contact to a deal succeeded, want an error")
		}
	})
}

func TestMarkMissingDeleted(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{
			deal("d1", at(1, 0), "1"), deal("d2", at(1, 0), "2"), deal("d3", at(1, 0), "3")}})
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{deal("x1", at(1, 0), "x")}})
		n, err := s.MarkMissingDeleted(ctx, conn, connectors.ObjectDeals, []string{"d2", "d2", "nope"}, at(9, 0))
		if err != nil || n != 3 {
			t.Errorf("MarkMissingDeleted = %d, %v; want 3, nil", n, err)
		}
		want := []connectors.Deal{readBack(deal("d2", at(1, 0), "2"))}
		if diff := cmp.Diff(want, deals(t, s)); diff != "" {
			t.Errorf("after MarkMissingDeleted (-want +got):\n%s", diff)
		}
		// Already deleted rows are not counted again.
		n, err = s.MarkMissingDeleted(ctx, conn, connectors.ObjectDeals, []string{"d2"}, at(10, 0))
		if err != nil || n != 0 {
			t.Errorf("second MarkMissingDeleted = %d, %v; want 0, nil", n, err)
		}
		// The flag carries the reconcile time, so an older copy stays
		// deleted.
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{deal("d1", at(8, 0), "1")}})
		if diff := cmp.Diff(want, deals(t, s)); diff != "" {
			t.Errorf("after an older copy (-want +got):\n%s", diff)
		}
		// An empty live list flags everything.
		n, err = s.MarkMissingDeleted(ctx, conn, connectors.ObjectDeals, nil, at(10, 0))
		if err != nil || n != 1 {
			t.Errorf("MarkMissingDeleted(nil) = %d, %v; want 1, nil", n, err)
		}
	})
}

// TestUserDeactivatedAt checks the warehouse's own record of when a user
// turned inactive: unknown for a user first seen inactive, the sync time of
// the first inactive copy after an active one, kept while inactive, cleared
// on reactivation.
func TestUserDeactivatedAt(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		steps := []struct {
			now          time.Time
			anna, boris  bool // active
			wantA, wantB *time.Time
		}{
			{at(10, 0), true, false, nil, nil},             // Boris first seen inactive: unknown
			{at(11, 0), false, false, ptr(at(11, 0)), nil}, // Anna turns inactive
			{at(12, 0), false, false, ptr(at(11, 0)), nil}, // still inactive: kept
			{at(13, 0), true, true, nil, nil},              // both back
			{at(14, 0), true, false, nil, ptr(at(14, 0))},
		}
		for i, st := range steps {
			fixedClock(s, st.now)
			apply(t, s, connectors.ObjectUsers, connectors.Page{Users: []connectors.User{
				{Meta: connectors.Meta{ID: "1", UpdatedAt: at(1, i)}, Email: "anna@x", Active: st.anna},
				{Meta: connectors.Meta{ID: "2", UpdatedAt: at(1, i)}, Email: "boris@x", Active: st.boris},
			}})
			got := map[string]*time.Time{}
			err := s.ScanUsers(ctx, func(r *rows.User) error {
				if r.DeactivatedAt.Valid {
					got[r.ID] = ptr(r.DeactivatedAt.Time)
				} else {
					got[r.ID] = nil
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]*time.Time{"1": st.wantA, "2": st.wantB}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("step %d: deactivated_at (-want +got):\n%s", i, diff)
			}
		}
	})
}

func TestNPSSeenAt(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		contact := func(updated time.Time, score *float64) connectors.Contact {
			return connectors.Contact{Meta: connectors.Meta{ID: "p1", UpdatedAt: updated}, Name: "P", NPSScore: score}
		}
		steps := []struct {
			now   time.Time
			score *float64
			want  *time.Time
		}{
			{at(10, 0), nil, nil},                 // no answer yet
			{at(11, 0), ptr(7.0), ptr(at(11, 0))}, // first answer
			{at(12, 0), ptr(7.0), ptr(at(11, 0))}, // same answer: kept
			{at(13, 0), ptr(9.0), ptr(at(13, 0))}, // new answer
			{at(14, 0), nil, ptr(at(13, 0))},      // answer cleared: score NULL, time kept but unused
		}
		for i, st := range steps {
			fixedClock(s, st.now)
			apply(t, s, connectors.ObjectContacts, connectors.Page{Contacts: []connectors.Contact{contact(at(1, i), st.score)}})
			cs := warehousetest.Contacts(t, s)
			if diff := cmp.Diff(st.score, cs[0].NPSScore); diff != "" {
				t.Errorf("step %d: NPSScore (-want +got):\n%s", i, diff)
			}
			if diff := cmp.Diff(st.want, cs[0].NPSAt); diff != "" {
				t.Errorf("step %d: NPSAt (-want +got):\n%s", i, diff)
			}
		}
	})
}

func TestRuns(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		if _, ok, err := s.LastSuccess(ctx); err != nil || ok {
			t.Errorf("LastSuccess on an empty warehouse = %v, %v; want false, nil", ok, err)
		}
		run := func(connector string, obj connectors.Object, start time.Time, status string, records int, errText string) int64 {
			t.Helper()
			id, err := s.StartRun(ctx, connector, obj, start)
			if err != nil {
				t.Fatal(err)
			}
			if status != warehouse.RunRunning {
				if err := s.FinishRun(ctx, id, start.Add(time.Minute), status, records, errText); err != nil {
					t.Fatal(err)
				}
			}
			return id
		}
		run("hub", connectors.ObjectDeals, at(1, 0), warehouse.RunSucceeded, 10, "")
		lastOK := run("hub", connectors.ObjectDeals, at(2, 0), warehouse.RunSucceeded, 5, "")
		failed := run("hub", connectors.ObjectDeals, at(3, 0), warehouse.RunFailed, 2, "fetch deals page 3: 503")
		// A failed run, then one still going: the failure is remembered.
		run("amo", connectors.ObjectUsers, at(3, 30), warehouse.RunFailed, 0, "authentication failed (HTTP 401)")
		running := run("amo", connectors.ObjectUsers, at(4, 0), warehouse.RunRunning, 0, "")
		// A connector's own object (HubSpot calls) reports the activities
		// table's newest row; bookkeeping rows report none.
		calls := run("hub", "calls", at(1, 0), warehouse.RunSucceeded, 1, "")
		rec := run("hub", "reconcile:deals", at(1, 0), warehouse.RunSucceeded, 0, "")
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: []connectors.Deal{deal("d1", at(1, 5), "a"), deal("d2", at(1, 7), "b")}})
		apply(t, s, "calls", connectors.Page{Activities: []connectors.Activity{{Meta: connectors.Meta{ID: "c1", UpdatedAt: at(1, 9)}, Type: connectors.ActivityCall, OccurredAt: at(1, 8)}}})
		_ = lastOK

		got, err := s.RunStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []warehouse.ObjectStatus{
			{Connector: "amo", Object: "users", LastRunID: running, StartedAt: at(4, 0), Status: warehouse.RunRunning,
				LastFailure: ptr(at(3, 30).Add(time.Minute))},
			{Connector: "hub", Object: "deals", LastRunID: failed, StartedAt: at(3, 0), FinishedAt: ptr(at(3, 0).Add(time.Minute)),
				Status: warehouse.RunFailed, Records: 2, Error: "fetch deals page 3: 503",
				LastSuccess: ptr(at(2, 0).Add(time.Minute)), LastFailure: ptr(at(3, 0).Add(time.Minute)), NewestData: ptr(at(1, 7))},
			{Connector: "hub", Object: "reconcile:deals", LastRunID: rec, StartedAt: at(1, 0), FinishedAt: ptr(at(1, 0).Add(time.Minute)),
				Status: warehouse.RunSucceeded, LastSuccess: ptr(at(1, 0).Add(time.Minute))},
		}
		want = append(want[:1], append([]warehouse.ObjectStatus{
			{Connector: "hub", Object: "calls", LastRunID: calls, StartedAt: at(1, 0), FinishedAt: ptr(at(1, 0).Add(time.Minute)),
				Status: warehouse.RunSucceeded, Records: 1, LastSuccess: ptr(at(1, 0).Add(time.Minute)), NewestData: ptr(at(1, 9))},
		}, want[1:]...)...)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("RunStatus (-want +got):\n%s", diff)
		}
		last, ok, err := s.LastSuccess(ctx)
		if err != nil || !ok || !last.Equal(at(2, 0).Add(time.Minute)) {
			t.Errorf("LastSuccess = %v, %v, %v; want %v, true, nil", last, ok, err, at(2, 0).Add(time.Minute))
		}
		if err := s.FinishRun(ctx, 9999, at(5, 0), warehouse.RunFailed, 0, "x"); err == nil {
			t.Error("FinishRun of an unknown run succeeded, want an error")
		}
	})
}

// TestBigPage stores pages large enough for PostgreSQL's COPY path and
// checks they read back as the INSERT path's do, duplicates and the
// updated_at guard included.
func TestBigPage(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		fixedClock(s, at(20, 0))
		var page []connectors.Deal
		var contacts []connectors.Contact
		for i := range 300 {
			d := deal(fmt.Sprintf("d%03d", i), at(2, 0), "first")
			d.Amount, d.OwnerID, d.ClosedAt = ptr(float64(i)+0.25), "7", ptr(at(3, i%24))
			page = append(page, d)
			contacts = append(contacts, connectors.Contact{Meta: connectors.Meta{ID: fmt.Sprintf("p%03d", i), UpdatedAt: at(2, 0)},
				Name: "P", NPSScore: ptr(float64(i % 11))})
		}
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: page, Contacts: contacts, Cursor: "big"})
		// Again, with every other deal older (kept) or newer (replaced).
		second := slices.Clone(page)
		want := make([]connectors.Deal, len(page))
		for i := range second {
			second[i].Name = "second"
			if i%2 == 0 {
				second[i].UpdatedAt = at(1, 0)
				want[i] = readBack(page[i])
			} else {
				second[i].UpdatedAt = at(4, 0)
				want[i] = readBack(second[i])
			}
		}
		fixedClock(s, at(21, 0))
		apply(t, s, connectors.ObjectDeals, connectors.Page{Deals: second, Contacts: contacts})
		if diff := cmp.Diff(want, deals(t, s)); diff != "" {
			t.Errorf("big page (-want +got):\n%s", diff)
		}
		cs := warehousetest.Contacts(t, s)
		if len(cs) != 300 || !cs[299].NPSAt.Equal(at(20, 0)) || *cs[299].NPSScore != 2 {
			t.Errorf("big page contacts: %d, last %+v; want 300, NPS 2 seen at %v", len(cs), cs[len(cs)-1], at(20, 0))
		}
		// A broken record fails the whole big page.
		bad := slices.Clone(second)
		for i := range bad {
			bad[i].UpdatedAt = at(9, 0)
		}
		bad[250].Raw = json.RawMessage(`{`)
		p := connectors.Page{Deals: bad, Cursor: "bad"}
		if err := s.ApplyPage(ctx, conn, connectors.ObjectDeals, &p); err == nil {
			t.Fatal("ApplyPage of a big page with a broken record succeeded")
		}
		if diff := cmp.Diff(want, deals(t, s)); diff != "" {
			t.Errorf("after a failed big page (-want +got):\n%s", diff)
		}
		if c, _ := s.Cursor(ctx, conn, connectors.ObjectDeals); c != "big" {
			t.Errorf("Cursor after a failed big page = %q, want big", c)
		}
	})
}

// TestMigrateRunStatusOK checks that migration 4 renames the status older
// versions wrote for a successful run, "succeeded", to the documented "ok".
func TestMigrateRunStatusOK(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		for _, q := range []string{
			"INSERT INTO sync_runs (connector, object, started_at, finished_at, status, records) VALUES ('c', 'deals', '2026-01-01T00:00:00.000000000Z', '2026-01-01T00:01:00.000000000Z', 'succeeded', 3)",
			// Back to version 3: the migrations after 4 undone as well.
			"DROP TABLE crm_record_links",
			"DELETE FROM schema_migrations WHERE version >= 4",
		} {
			if err := warehouse.Exec(ctx, s, q); err != nil {
				t.Fatal(err)
			}
		}
		if applied, err := s.Migrate(ctx); err != nil || len(applied) != 2 || applied[0] != 4 {
			t.Fatalf("Migrate = %v, %v; want migrations 4 and 5 applied again", applied, err)
		}
		st, err := s.RunStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != 1 || st[0].Status != warehouse.RunSucceeded || warehouse.RunSucceeded != "ok" {
			t.Errorf("RunStatus after migrating = %+v, want the run ok", st)
		}
	})
}
