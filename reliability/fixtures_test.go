package reliability

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	crmsync "github.com/crmkpi/crmkpi/sync"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
)

// clock is a settable clock shared by a fake, its connector and the engine.
type clock = connectortest.Clock

// crm is one CRM type against its fake, as the fault tests drive it.
type crm = connectortest.Fixture

// kinds are the three CRM types, each against a fake with short pages, so
// that the faults can aim at a page of deals after the first.
var kinds = []struct {
	name string
	new  func(t testing.TB) *crm
}{
	{"hubspot", short(synctest.NewHubSpot)},
	{"amocrm", short(synctest.NewAmoCRM)},
	{"bitrix24", short(synctest.NewBitrix24)},
}

func short(f connectortest.Factory) func(testing.TB) *crm {
	return func(t testing.TB) *crm { return f(t, connectortest.FakeOptions{ShortPages: true}) }
}

// The transient faults every fake serves, in its own shapes.
var (
	fault5xx       = connectortest.Fault{Status: 500}
	faultHTML      = connectortest.Fault{Kind: connectortest.FaultHTML, Status: 502}
	faultSlow      = connectortest.Fault{Kind: connectortest.FaultSlow, Delay: time.Minute}
	faultReset     = connectortest.Fault{Kind: connectortest.FaultReset}
	faultTruncated = connectortest.Fault{Kind: connectortest.FaultTruncated}
	faultMalformed = connectortest.Fault{Kind: connectortest.FaultMalformed}
	fault401       = connectortest.Fault{Status: 401}
)

// connOpts tune the connector a test builds.
type connOpts = connectortest.ConnOptions

// syncRun runs one sync of conn within a deadline that catches endless
// loops, and returns its summary.
func syncRun(t testing.TB, s crmsync.Store, clk *clock, conn connectors.Connector, full bool) *crmsync.Summary {
	t.Helper()
	return syncRunWithin(t, s, clk, conn, full, 30*time.Second)
}

// syncRunWithin is syncRun with its own deadline, for syncs that are slow
// by design (megabyte strings under the race detector on a busy machine).
func syncRunWithin(t testing.TB, s crmsync.Store, clk *clock, conn connectors.Connector, full bool, limit time.Duration) *crmsync.Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	e := &crmsync.Engine{Store: s, Now: clk.Now, Holder: "reliability"}
	sum, err := e.Run(ctx, []crmsync.Job{{Connector: conn, Full: full, ReconcileEvery: 24 * time.Hour}})
	if ctx.Err() != nil {
		t.Fatalf("sync of %s did not end within %s (an endless loop?): %v", conn.Name(), limit, sum.Err())
	}
	if err != nil {
		t.Fatalf("sync of %s: %v", conn.Name(), err)
	}
	return sum
}

// mustSync runs a sync that must succeed.
func mustSync(t testing.TB, s crmsync.Store, clk *clock, conn connectors.Connector, full bool) *crmsync.Summary {
	t.Helper()
	sum := syncRun(t, s, clk, conn, full)
	if sum.Failed() {
		t.Fatalf("sync of %s failed: %v", conn.Name(), sum.Err())
	}
	return sum
}

// equalFake fails unless the warehouse holds exactly want for connector.
func equalFake(t testing.TB, s *warehouse.Store, connector string, want synctest.Rows) {
	t.Helper()
	got, err := synctest.Read(context.Background(), synctest.DB(t, s), connector)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warehouse differs from the fake (-fake +warehouse):\n%s", diff)
	}
}

// noneRunning fails when a run of connector is left "running".
func noneRunning(t testing.TB, s *warehouse.Store, connector string) []synctest.Run {
	t.Helper()
	runs, err := synctest.Runs(context.Background(), synctest.DB(t, s), connector)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Status == warehouse.RunRunning || r.Finished.IsZero() {
			t.Errorf("run %d of %s %s left %s", r.ID, connector, r.Object, r.Status)
		}
	}
	return runs
}
