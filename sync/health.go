package sync

import (
	"sort"
	"time"

	"github.com/crmkpi/crmkpi/warehouse"
)

// Health is what sales ops need to know of one connector and object.
type Health struct {
	warehouse.ObjectStatus
	// Failing is set when the newest run that finished with a verdict
	// failed: a run still going (or interrupted) after a failure does not
	// clear it, only a success does.
	Failing bool `json:"failing"`
	// Stale is set when no run succeeded within the connector's
	// stale_after, or none ever did.
	Stale bool `json:"stale"`
	// DataAge is the age of the newest record stored, nil without records.
	DataAge *time.Duration `json:"data_age_seconds,omitempty"`
}

// Assess judges run statuses. staleAfter holds every configured connector
// with its stale_after; a configured connector without any run gets one
// entry with object "*", stale. Statuses of connectors no longer configured
// are left out.
func Assess(st []warehouse.ObjectStatus, staleAfter map[string]time.Duration, now time.Time) []Health {
	var out []Health
	seen := map[string]bool{}
	for _, s := range st {
		limit, ok := staleAfter[s.Connector]
		if !ok || isInternalObject(s.Object) {
			continue
		}
		seen[s.Connector] = true
		h := Health{ObjectStatus: s}
		h.Failing = s.Status == warehouse.RunFailed ||
			(s.LastFailure != nil && (s.LastSuccess == nil || s.LastFailure.After(*s.LastSuccess)))
		h.Stale = s.LastSuccess == nil || now.Sub(*s.LastSuccess) > limit
		if s.NewestData != nil {
			age := now.Sub(*s.NewestData)
			h.DataAge = &age
		}
		out = append(out, h)
	}
	for name := range staleAfter {
		if !seen[name] {
			out = append(out, Health{ObjectStatus: warehouse.ObjectStatus{Connector: name, Object: "*", Error: "never synced"}, Stale: true})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Connector != out[j].Connector {
			return out[i].Connector < out[j].Connector
		}
		return out[i].Object < out[j].Object
	})
	return out
}

// Synced keeps the statuses of the objects that their connectors sync, as
// syncs tells (config.Config.Syncs), for Assess: an object taken out of a
// connector's objects keeps its old runs, which would turn stale and fail
// status and /healthz for an object nobody syncs any more.
func Synced(st []warehouse.ObjectStatus, syncs func(connector, object string) bool) []warehouse.ObjectStatus {
	var out []warehouse.ObjectStatus
	for _, s := range st {
		if syncs(s.Connector, s.Object) {
			out = append(out, s)
		}
	}
	return out
}

// isInternalObject tells bookkeeping rows (reconciliation times) apart
// from objects.
func isInternalObject(obj string) bool {
	return len(obj) > 10 && obj[:10] == "reconcile:"
}

// Healthy reports whether no connector is failing or stale.
func Healthy(hs []Health) bool {
	for _, h := range hs {
		if h.Failing || h.Stale {
			return false
		}
	}
	return true
}

// Connector states, as /healthz and the Slack alerts judge them.
const (
	StateOK      = "ok"
	StateFailing = "failing"
	StateStale   = "stale"
)

// ConnectorState sums up one connector's objects.
type ConnectorState struct {
	Connector string
	// State is StateFailing when an object is failing, else StateStale
	// when one is stale, else StateOK.
	State   string
	Failing []string // objects whose newest verdict is a failure, sorted
	Stale   []string // objects without a success within stale_after, sorted
	// Error is the newest run's error of the first failing object.
	Error string
}

// Judge sums up hs (as Assess returns them: sorted by connector) per
// connector. The one grace: an object that has never finished a run (its
// first sync still going, or not started yet) is not stale until its
// connector's stale_after has passed since since (the start of serve). An
// object whose first run failed is failing at once: nothing waits for it.
func Judge(hs []Health, staleAfter map[string]time.Duration, since, now time.Time) []ConnectorState {
	var out []ConnectorState
	for _, h := range hs {
		if len(out) == 0 || out[len(out)-1].Connector != h.Connector {
			out = append(out, ConnectorState{Connector: h.Connector, State: StateOK})
		}
		c := &out[len(out)-1]
		switch {
		case h.Failing:
			c.Failing = append(c.Failing, h.Object)
			if c.Error == "" {
				c.Error = h.Error
			}
		case h.Stale && neverFinished(h) && now.Sub(since) <= staleAfter[h.Connector]:
			// Catching up.
		case h.Stale:
			c.Stale = append(c.Stale, h.Object)
		}
	}
	for i := range out {
		switch {
		case len(out[i].Failing) > 0:
			out[i].State = StateFailing
		case len(out[i].Stale) > 0:
			out[i].State = StateStale
		}
	}
	return out
}

// neverFinished reports whether h has no run that ended in a verdict.
func neverFinished(h Health) bool {
	return h.LastSuccess == nil && h.LastFailure == nil && h.Status != warehouse.RunFailed
}
