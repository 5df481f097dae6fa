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
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// readOnly hides the Scanner methods of a Store, so that Compute takes the
// path of whole records.
type readOnly struct{ Source }

// TestComputeScanned stores random small warehouses and checks that Compute
// streaming them through Scanner gives the Report it gives reading whole
// records, on both engines.
func TestComputeScanned(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(7, 8))
		d := randomDataset(rng, 30)
		store := map[string]*connectors.Page{}
		page := func(conn string) *connectors.Page {
			if store[conn] == nil {
				store[conn] = &connectors.Page{}
			}
			return store[conn]
		}
		for _, u := range d.Users {
			page(u.Connector).Users = append(page(u.Connector).Users, crmUser(u))
		}
		for _, c := range d.Companies {
			page(c.Connector).Companies = append(page(c.Connector).Companies, c)
		}
		for _, c := range d.Contacts {
			page(c.Connector).Contacts = append(page(c.Connector).Contacts, c)
		}
		for _, dl := range d.Deals {
			page(dl.Connector).Deals = append(page(dl.Connector).Deals, dl)
		}
		for _, a := range d.Activities {
			page(a.Connector).Activities = append(page(a.Connector).Activities, a)
		}
		for conn, p := range store {
			for _, obj := range []connectors.Object{connectors.ObjectUsers, connectors.ObjectCompanies, connectors.ObjectContacts, connectors.ObjectDeals, connectors.ObjectActivities} {
				one := &connectors.Page{}
				switch obj {
				case connectors.ObjectUsers:
					one.Users = p.Users
				case connectors.ObjectCompanies:
					one.Companies = p.Companies
				case connectors.ObjectContacts:
					one.Contacts = p.Contacts
				case connectors.ObjectDeals:
					one.Deals = p.Deals
				case connectors.ObjectActivities:
					one.Activities = p.Activities
				}
				for i := range one.Users {
					one.Users[i].Connector = ""
				}
				for i := range one.Companies {
					one.Companies[i].Connector = ""
				}
				for i := range one.Contacts {
					one.Contacts[i].Connector = ""
				}
				for i := range one.Deals {
					one.Deals[i].Connector = ""
				}
				for i := range one.Activities {
					one.Activities[i].Connector = ""
				}
				if err := s.ApplyPage(ctx, conn, obj, one); err != nil {
					t.Fatalf("ApplyPage(%s, %s): %v", conn, obj, err)
				}
			}
		}
		for _, kind := range []PeriodKind{Week, Month, Quarter} {
			p, err := ParsePeriod("current", kind, time.UTC, time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{Currency: "RUB", FXRates: map[string]float64{"USD": 90, "BAD": math.NaN()}, KeyClientsTop: 2,
				KeyClientConnectors: map[string]bool{"b": true}, Costs: map[string]float64{CostMonthly: 100}}
			want, err := Compute(ctx, readOnly{s}, opts, p)
			if err != nil {
				t.Fatalf("Compute(whole records): %v", err)
			}
			got, err := Compute(ctx, s, opts, p)
			if err != nil {
				t.Fatalf("Compute(scanned): %v", err)
			}
			if len(want.Managers) == 0 {
				t.Fatalf("%s: no scorecards; the test data scores nobody", kind)
			}
			if diff := cmp.Diff(want, got, approx); diff != "" {
				t.Errorf("%s: Compute scanned mismatch (-whole records +scanned):\n%s", kind, diff)
			}
		}
	})
}
