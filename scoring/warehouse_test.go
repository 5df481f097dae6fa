package scoring

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/warehouse"
	"github.com/crmkpi/crmkpi/warehouse/warehousetest"
)

// TestComputeWarehouse stores the hand-computed fixture in a real warehouse,
// as the sync engine would (one page per connector and object, connector
// names left to the warehouse), and checks that Compute reading it back
// gives the same Report as the pure core. It catches what the in-memory
// test cannot: time zones and precision lost in storage, the activity read
// window, and deleted rows filtered on read.
func TestComputeWarehouse(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		d := fixtureData()
		pages := map[string]map[connectors.Object]*connectors.Page{}
		page := func(conn string, obj connectors.Object) *connectors.Page {
			if pages[conn] == nil {
				pages[conn] = map[connectors.Object]*connectors.Page{}
			}
			if pages[conn][obj] == nil {
				pages[conn][obj] = &connectors.Page{}
			}
			return pages[conn][obj]
		}
		for _, u := range d.Users {
			p := page(u.Connector, connectors.ObjectUsers)
			cu := crmUser(u)
			cu.Connector = ""
			p.Users = append(p.Users, cu)
		}
		for _, c := range d.Companies {
			p := page(c.Connector, connectors.ObjectCompanies)
			c.Connector = ""
			p.Companies = append(p.Companies, c)
		}
		for _, c := range d.Contacts {
			p := page(c.Connector, connectors.ObjectContacts)
			c.Connector = ""
			p.Contacts = append(p.Contacts, c)
		}
		for _, dl := range d.Deals {
			p := page(dl.Connector, connectors.ObjectDeals)
			dl.Connector = ""
			p.Deals = append(p.Deals, dl)
		}
		for _, a := range d.Activities {
			p := page(a.Connector, connectors.ObjectActivities)
			a.Connector = ""
			p.Activities = append(p.Activities, a)
		}
		for conn, byObj := range pages {
			for obj, p := range byObj {
				if err := s.ApplyPage(ctx, conn, obj, p); err != nil {
					t.Fatalf("ApplyPage(%s, %s): %v", conn, obj, err)
				}
			}
		}
		got, err := Compute(ctx, s, fixtureOptions(), fixturePeriod())
		if err != nil {
			t.Fatalf("Compute: %v", err)
		}
		if diff := cmp.Diff(wantFixture(), got, approx); diff != "" {
			t.Errorf("Compute(warehouse fixture) mismatch (-want +got):\n%s", diff)
		}
	})
}
