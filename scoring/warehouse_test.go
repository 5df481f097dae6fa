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
// names left to the warehouse), with its deleted deal D10, and checks that
// Compute reading it back gives the Report the fixture computes. It catches
// what the in-memory test cannot: time zones and precision lost in
// storage, the activity read window, and deleted rows filtered on read.
func TestComputeWarehouse(t *testing.T) {
	warehousetest.Each(t, func(t *testing.T, s *warehouse.Store) {
		ctx := context.Background()
		storeAll(t, s, fixtureData())
		if err := s.ApplyPage(ctx, "amo", connectors.ObjectDeals, fixtureGone()); err != nil {
			t.Fatalf("ApplyPage(amo, deals, D10 deleted): %v", err)
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
