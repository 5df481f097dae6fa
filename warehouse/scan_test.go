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

// TestScan stores a few records of each kind, some deleted, and checks what
// the Scan methods pass: the columns as stored, times to the microsecond in
// UTC, statuses and directions mapped, subjects of tasks only, deleted
// records left out and activities latest first.
func TestScan(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		m := func(id string) connectors.Meta { return connectors.Meta{ID: id, UpdatedAt: at(1, 0)} }
		gone := func(id string) connectors.Meta { return connectors.Meta{ID: id, UpdatedAt: at(1, 0), Deleted: true} }
		pages := map[connectors.Object]*connectors.Page{
			connectors.ObjectCompanies: {Companies: []connectors.Company{
				{Meta: m("C1"), OwnerID: "u1", KeyClient: ptr(true)}, {Meta: m("C2")}, {Meta: gone("C3")}}},
			connectors.ObjectContacts: {Contacts: []connectors.Contact{
				{Meta: m("K1"), CompanyID: "C1", OwnerID: "u2", NPSScore: ptr(9.0), NPSAt: ptr(at(2, 3))}, {Meta: m("K2")}, {Meta: gone("K3")}}},
			connectors.ObjectDeals: {Deals: []connectors.Deal{
				{Meta: m("D1"), Status: connectors.StatusWon, Amount: ptr(1234.5), Currency: "USD", OwnerID: "u1", CompanyID: "C1",
					ContactID: "K1", CreatedAt: at(3, 4), ClosedAt: ptr(at(4, 5)), Expense: ptr(10.0)},
				{Meta: m("D2"), Status: connectors.StatusLost, CreatedAt: at(5, 6), ClosedAt: ptr(at(6, 7))},
				{Meta: m("D3"), Status: "pending"},
				{Meta: gone("D4"), Status: connectors.StatusWon}}},
			connectors.ObjectActivities: {Activities: []connectors.Activity{
				{Meta: m("A1"), Type: connectors.ActivityEmail, Direction: connectors.DirectionInbound, Subject: "hi", OwnerID: "u1", CompanyID: "C1", OccurredAt: at(10, 1)},
				{Meta: m("A2"), Type: connectors.ActivityTask, Subject: "#team x", OwnerID: "u1", DealID: "D1", OccurredAt: at(12, 1), Completed: true},
				{Meta: m("A3"), Type: connectors.ActivityCall, Direction: connectors.DirectionOutbound, ContactID: "K1", OccurredAt: at(11, 1)},
				{Meta: m("A4"), Type: connectors.ActivityCall, OccurredAt: at(20, 1)},
				{Meta: m("A6"), Type: connectors.ActivityCall, Direction: connectors.DirectionOutbound, Connected: ptr(false), OccurredAt: at(13, 1)},
				{Meta: m("A7"), Type: connectors.ActivityCall, Direction: connectors.DirectionOutbound, Connected: ptr(true), OccurredAt: at(13, 0)},
				{Meta: gone("A5"), Type: connectors.ActivityCall, OccurredAt: at(11, 2)}}},
		}
		for _, obj := range []connectors.Object{connectors.ObjectCompanies, connectors.ObjectContacts, connectors.ObjectDeals, connectors.ObjectActivities} {
			if err := s.ApplyPage(ctx, conn, obj, pages[obj]); err != nil {
				t.Fatalf("ApplyPage(%s): %v", obj, err)
			}
		}

		var companies []rows.Company
		if err := s.ScanCompanies(ctx, func(r *rows.Company) error { companies = append(companies, *r); return nil }); err != nil {
			t.Fatalf("ScanCompanies: %v", err)
		}
		wantCompanies := []rows.Company{{Connector: conn, ID: "C1", OwnerID: "u1", KeyClient: true}, {Connector: conn, ID: "C2"}}
		if diff := cmp.Diff(wantCompanies, sortBy(companies, func(r rows.Company) string { return r.ID })); diff != "" {
			t.Errorf("ScanCompanies mismatch (-want +got):\n%s", diff)
		}

		var contacts []rows.Contact
		if err := s.ScanContacts(ctx, func(r *rows.Contact) error { contacts = append(contacts, *r); return nil }); err != nil {
			t.Fatalf("ScanContacts: %v", err)
		}
		wantContacts := []rows.Contact{
			{Connector: conn, ID: "K1", CompanyID: "C1", OwnerID: "u2", NPSScore: sql.NullFloat64{Float64: 9, Valid: true}, NPSAt: sql.NullTime{Time: at(2, 3), Valid: true}},
			{Connector: conn, ID: "K2"}}
		if diff := cmp.Diff(wantContacts, sortBy(contacts, func(r rows.Contact) string { return r.ID })); diff != "" {
			t.Errorf("ScanContacts mismatch (-want +got):\n%s", diff)
		}

		var deals []rows.Deal
		if err := s.ScanDeals(ctx, func(r *rows.Deal) error { deals = append(deals, *r); return nil }); err != nil {
			t.Fatalf("ScanDeals: %v", err)
		}
		wantDeals := []rows.Deal{
			{Connector: conn, ID: "D1", Status: connectors.StatusWon, Currency: "USD", OwnerID: "u1", CompanyID: "C1", ContactID: "K1",
				Amount: sql.NullFloat64{Float64: 1234.5, Valid: true}, Expense: sql.NullFloat64{Float64: 10, Valid: true},
				CreatedAt: at(3, 4), ClosedAt: sql.NullTime{Time: at(4, 5), Valid: true}},
			{Connector: conn, ID: "D2", Status: connectors.StatusLost, CreatedAt: at(5, 6), ClosedAt: sql.NullTime{Time: at(6, 7), Valid: true}},
			{Connector: conn, ID: "D3", Status: connectors.StatusOpen}}
		if diff := cmp.Diff(wantDeals, sortBy(deals, func(r rows.Deal) string { return r.ID })); diff != "" {
			t.Errorf("ScanDeals mismatch (-want +got):\n%s", diff)
		}

		var acts []rows.Activity
		if err := s.ScanActivities(ctx, at(10, 0), at(20, 1), func(r *rows.Activity) error { acts = append(acts, *r); return nil }); err != nil {
			t.Fatalf("ScanActivities: %v", err)
		}
		wantActs := []rows.Activity{
			{Connector: conn, Type: connectors.ActivityCall, Direction: connectors.DirectionOutbound, OccurredAt: at(13, 1), DidNotConnect: true},
			{Connector: conn, Type: connectors.ActivityCall, Direction: connectors.DirectionOutbound, OccurredAt: at(13, 0)},
			{Connector: conn, Type: connectors.ActivityTask, Subject: "#team x", OwnerID: "u1", DealID: "D1", OccurredAt: at(12, 1), Completed: true},
			{Connector: conn, Type: connectors.ActivityCall, Direction: connectors.DirectionOutbound, ContactID: "K1", OccurredAt: at(11, 1)},
			{Connector: conn, Type: connectors.ActivityEmail, Direction: connectors.DirectionInbound, OwnerID: "u1", CompanyID: "C1", OccurredAt: at(10, 1)}}
		if diff := cmp.Diff(wantActs, acts); diff != "" {
			t.Errorf("ScanActivities mismatch (-want +got):\n%s", diff)
		}

		boom := errors.New("boom")
		n := 0
		err := s.ScanActivities(ctx, at(1, 0), at(30, 0), func(*rows.Activity) error { n++; return boom })
		if !errors.Is(err, boom) || n != 1 {
			t.Errorf("ScanActivities with a failing fn = %v after %d rows, want boom after 1", err, n)
		}
	})
}

// TestLastActivity checks the latest activity of one user: at or before
// the limit, deleted ones and other users' and connectors' left out, and
// none for a user without any.
func TestLastActivity(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		m := func(id string) connectors.Meta { return connectors.Meta{ID: id, UpdatedAt: at(1, 0)} }
		gone := m("A4")
		gone.Deleted = true
		acts := &connectors.Page{Activities: []connectors.Activity{
			{Meta: m("A1"), Type: connectors.ActivityCall, OwnerID: "u1", OccurredAt: at(10, 1)},
			{Meta: m("A2"), Type: connectors.ActivityTask, OwnerID: "u1", OccurredAt: at(12, 3)},
			{Meta: m("A3"), Type: connectors.ActivityTask, OwnerID: "u1", OccurredAt: at(20, 0)}, // after the limit
			{Meta: gone, Type: connectors.ActivityCall, OwnerID: "u1", OccurredAt: at(15, 0)},
			{Meta: m("A5"), Type: connectors.ActivityCall, OwnerID: "u2", OccurredAt: at(16, 0)},
		}}
		if err := s.ApplyPage(ctx, conn, connectors.ObjectActivities, acts); err != nil {
			t.Fatal(err)
		}
		other := &connectors.Page{Activities: []connectors.Activity{{Meta: m("B1"), Type: connectors.ActivityCall, OwnerID: "u1", OccurredAt: at(17, 0)}}}
		if err := s.ApplyPage(ctx, "other", connectors.ObjectActivities, other); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			owner  string
			until  time.Time
			want   time.Time
			wantOK bool
		}{
			{"u1", at(19, 0), at(12, 3), true},
			{"u1", at(12, 3), at(12, 3), true}, // at the limit counts
			{"u1", at(11, 0), at(10, 1), true},
			{"u1", at(10, 0), time.Time{}, false},
			{"u2", at(30, 0), at(16, 0), true},
			{"u3", at(30, 0), time.Time{}, false},
		}
		for _, tt := range tests {
			got, ok, err := s.LastActivity(ctx, conn, tt.owner, tt.until)
			if err != nil || ok != tt.wantOK || !got.Equal(tt.want) {
				t.Errorf("LastActivity(%s, %s, %s) = %s, %v, %v; want %s, %v", conn, tt.owner, tt.until, got, ok, err, tt.want, tt.wantOK)
			}
		}
	})
}

func sortBy[R any](rs []R, key func(R) string) []R {
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && key(rs[j]) < key(rs[j-1]); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
	return rs
}
