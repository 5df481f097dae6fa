// Package scoringtest syncs a connector from its fake into a warehouse and
// scores it, for the tests that check a connector's mapping by the KPIs it
// gives (worked by hand from the fake's records).
package scoringtest

import (
	"context"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/scoring"
	crmsync "github.com/crmkpi/crmkpi/sync"
	"github.com/crmkpi/crmkpi/warehouse"
)

// SyncAndScore runs job into s on the clock now, scores period p with o,
// and returns the scorecard of manager (a lower-case e-mail). It fails the
// test on a failed sync, an error of scoring, or no scorecard for manager.
func SyncAndScore(t testing.TB, s *warehouse.Store, job crmsync.Job, now func() time.Time, o scoring.Options, p scoring.Period, manager string) *scoring.Scorecard {
	t.Helper()
	ctx := context.Background()
	e := &crmsync.Engine{Store: s, Now: now, Holder: "kpi-test"}
	sum, err := e.Run(ctx, []crmsync.Job{job})
	if err != nil || sum.Failed() {
		t.Fatalf("sync: %v %v", err, sum.Err())
	}
	r, err := scoring.Compute(ctx, s, o, p)
	if err != nil {
		t.Fatalf("score %s: %v", p.Label(), err)
	}
	for i := range r.Managers {
		if r.Managers[i].Manager == manager {
			return &r.Managers[i]
		}
	}
	t.Fatalf("no scorecard for %s in %+v", manager, r.Managers)
	return nil
}
