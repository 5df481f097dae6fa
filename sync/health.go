package sync

import (
	"sort"
	"time"

	"github.com/crmkpi/crmkpi/warehouse"
)

// Health is what sales ops need to know of one connector and object.
type Health struct {
	warehouse.ObjectStatus
	// Failing is set when the last finished run failed.
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
		h.Failing = s.Status == warehouse.RunFailed
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
