package scoring

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/rows"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// TestComputeScanned stores random small warehouses and checks that Compute
// streaming them through the warehouse's Scan methods gives the Report it
// gives on the same rows in memory, the dataset every hand-computed test
// uses, on both engines. Records the CRM reports deleted are stored beside
// them and must change nothing.
func TestComputeScanned(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(7, 8))
		d := unique(randomDataset(rng, 30))
		storeAll(t, s, d)
		// What would count if deletions were not filtered: a won deal and
		// a company of every user, and an activity on each.
		for _, u := range d.Users {
			closed := time.Date(2026, 10, 10, 0, 0, 0, 0, time.UTC)
			m := connectors.Meta{ID: "gone-" + u.ID, UpdatedAt: updated, Deleted: true}
			for obj, p := range map[connectors.Object]*connectors.Page{
				connectors.ObjectCompanies: {Companies: []connectors.Company{{Meta: m, OwnerID: u.ID}}},
				connectors.ObjectDeals: {Deals: []connectors.Deal{{Meta: m, Status: connectors.StatusWon, Amount: f64(1000), Currency: "RUB",
					OwnerID: u.ID, CompanyID: m.ID, CreatedAt: closed, ClosedAt: &closed}}},
				connectors.ObjectActivities: {Activities: []connectors.Activity{{Meta: m, Type: connectors.ActivityEmail,
					Direction: connectors.DirectionInbound, CompanyID: m.ID, OccurredAt: closed}}},
			} {
				if err := s.ApplyPage(ctx, u.Connector, obj, p); err != nil {
					t.Fatalf("ApplyPage(%s, %s, deleted): %v", u.Connector, obj, err)
				}
			}
		}
		// The warehouse dates an answer the CRM gives no date for when it
		// first sees it, by its own clock: take that date.
		seen := map[[2]string]rows.Contact{}
		if err := s.ScanContacts(ctx, func(r *rows.Contact) error { seen[[2]string{r.Connector, r.ID}] = *r; return nil }); err != nil {
			t.Fatal(err)
		}
		for i, c := range d.Contacts {
			if c.NPSScore.Valid && !c.NPSAt.Valid {
				d.Contacts[i].NPSAt = seen[[2]string{c.Connector, c.ID}].NPSAt
			}
		}
		for _, kind := range []PeriodKind{Week, Month, Quarter} {
			p, err := ParsePeriod("current", kind, time.UTC, time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			// Now is fixed: in the current period the pace depends on it.
			opts := Options{Now: time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC), Currency: "RUB", FXRates: map[string]float64{"USD": 90, "BAD": math.NaN()}, KeyClientsTop: 2,
				KeyClientConnectors: map[string]bool{"b": true}, Costs: map[string]float64{CostMonthly: 100}}
			want, err := Compute(ctx, d, opts, p)
			if err != nil {
				t.Fatalf("Compute(in memory): %v", err)
			}
			got, err := Compute(ctx, s, opts, p)
			if err != nil {
				t.Fatalf("Compute(scanned): %v", err)
			}
			if len(want.Managers) == 0 {
				t.Fatalf("%s: no scorecards; the test data scores nobody", kind)
			}
			if diff := cmp.Diff(want, got, approx); diff != "" {
				t.Errorf("%s: Compute scanned mismatch (-in memory +scanned):\n%s", kind, diff)
			}
		}
	})
}

// unique keeps the first row of each (connector, id) of d, as a warehouse
// holds one record of each. Activities, which storeAll gives ids of their
// own, are all kept.
func unique(d *dataset) *dataset {
	type key struct{ conn, id string }
	keep := func(seen map[key]bool, conn, id string) bool {
		k := key{conn, id}
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
	out := &dataset{}
	seen := map[key]bool{}
	for _, u := range d.Users {
		if keep(seen, u.Connector, u.ID) {
			out.Users = append(out.Users, u)
		}
	}
	seen = map[key]bool{}
	for _, c := range d.Companies {
		if keep(seen, c.Connector, c.ID) {
			out.Companies = append(out.Companies, c)
		}
	}
	seen = map[key]bool{}
	for _, c := range d.Contacts {
		if keep(seen, c.Connector, c.ID) {
			out.Contacts = append(out.Contacts, c)
		}
	}
	seen = map[key]bool{}
	for _, dl := range d.Deals {
		if keep(seen, dl.Connector, dl.ID) {
			out.Deals = append(out.Deals, dl)
		}
	}
	out.Activities = d.Activities
	return out
}
