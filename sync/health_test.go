package sync

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/warehouse"
)

// TestJudge: the health of connectors in every state a run history can be
// in, an hour after serve started and a day and an hour after.
func TestJudge(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	st := []warehouse.ObjectStatus{
		// Synced an hour ago.
		{Connector: "fresh", Object: "deals", StartedAt: now.Add(-61 * time.Minute), FinishedAt: ago(time.Hour),
			Status: warehouse.RunSucceeded, LastSuccess: ago(time.Hour)},
		// Its first run failed five minutes ago: failing at once.
		{Connector: "first-failed", Object: "deals", StartedAt: now.Add(-6 * time.Minute), FinishedAt: ago(5 * time.Minute),
			Status: warehouse.RunFailed, Error: "first-failed deals page 1: authentication failed (HTTP 401)", LastFailure: ago(5 * time.Minute)},
		{Connector: "first-failed", Object: "users", StartedAt: now.Add(-6 * time.Minute), FinishedAt: ago(5 * time.Minute),
			Status: warehouse.RunSucceeded, LastSuccess: ago(5 * time.Minute)},
		// Its first run is still going.
		{Connector: "first-running", Object: "deals", StartedAt: now.Add(-30 * time.Minute), Status: warehouse.RunRunning},
		// Failed ten minutes ago, retrying now: still failing.
		{Connector: "retrying", Object: "deals", StartedAt: now.Add(-time.Minute), Status: warehouse.RunRunning,
			LastSuccess: ago(2 * time.Hour), LastFailure: ago(10 * time.Minute)},
		// Failed two hours ago, succeeded since.
		{Connector: "recovered", Object: "deals", StartedAt: now.Add(-61 * time.Minute), FinishedAt: ago(time.Hour),
			Status: warehouse.RunSucceeded, LastSuccess: ago(time.Hour), LastFailure: ago(2 * time.Hour)},
		// Interrupted after a success: not failing.
		{Connector: "interrupted", Object: "deals", StartedAt: now.Add(-2 * time.Minute), FinishedAt: ago(time.Minute),
			Status: "interrupted", LastSuccess: ago(time.Hour)},
		// Last success thirty hours ago, beyond stale_after.
		{Connector: "old", Object: "deals", StartedAt: now.Add(-30 * time.Hour), FinishedAt: ago(30 * time.Hour),
			Status: warehouse.RunSucceeded, LastSuccess: ago(30 * time.Hour)},
		{Connector: "old", Object: "users", StartedAt: now.Add(-time.Hour), FinishedAt: ago(time.Hour),
			Status: warehouse.RunSucceeded, LastSuccess: ago(time.Hour)},
	}
	limits := map[string]time.Duration{}
	for _, c := range []string{"fresh", "first-failed", "first-running", "retrying", "recovered", "interrupted", "old", "never"} {
		limits[c] = 24 * time.Hour
	}
	hs := Assess(st, limits, now)
	failing := func(c, err string, objs ...string) ConnectorState {
		return ConnectorState{Connector: c, State: StateFailing, Failing: objs, Error: err}
	}
	stale := func(c string, objs ...string) ConnectorState {
		return ConnectorState{Connector: c, State: StateStale, Stale: objs}
	}
	ok := func(c string) ConnectorState { return ConnectorState{Connector: c, State: StateOK} }
	tests := []struct {
		name  string
		since time.Time
		want  []ConnectorState
	}{
		{"an hour after start", now.Add(-time.Hour), []ConnectorState{
			failing("first-failed", "first-failed deals page 1: authentication failed (HTTP 401)", "deals"),
			ok("first-running"), ok("fresh"), ok("interrupted"), ok("never"), stale("old", "deals"), ok("recovered"),
			failing("retrying", "", "deals"),
		}},
		{"a day and an hour after start", now.Add(-25 * time.Hour), []ConnectorState{
			failing("first-failed", "first-failed deals page 1: authentication failed (HTTP 401)", "deals"),
			stale("first-running", "deals"), ok("fresh"), ok("interrupted"), stale("never", "*"), stale("old", "deals"), ok("recovered"),
			failing("retrying", "", "deals"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Judge(hs, limits, tt.since, now)); diff != "" {
				t.Errorf("Judge (-want +got):\n%s", diff)
			}
		})
	}
	// status (Healthy) has no grace: a connector that never synced is
	// not healthy there.
	if Healthy(hs) {
		t.Error("Healthy = true, want false")
	}
}
