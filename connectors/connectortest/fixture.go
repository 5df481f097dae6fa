package connectortest

import (
	"net/http"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// FakeOptions size and slow down the fake a Factory starts.
type FakeOptions struct {
	// ShortPages makes the fake (or the connector) page by about ten
	// records, so that a pull has many pages and kill points.
	ShortPages bool
	// Latency delays every answer of the fake (wall time), so that
	// cancellations land mid-request.
	Latency time.Duration
	// Records, when set, sizes the world by the main object instead: that
	// many HubSpot contacts, amoCRM leads or Bitrix24 deals, few of the
	// others.
	Records int
}

// ConnOptions tune the connector a Fixture builds.
type ConnOptions struct {
	// Transport carries the connector's requests (the fake's own when nil).
	Transport http.RoundTripper
	// Timeout and MaxRetries override the fixture's (0 keeps them).
	Timeout    time.Duration
	MaxRetries int
	// Secret replaces the credentials (token or webhook URL).
	Secret string
}

// Fixture is one connector type against its fake, as the conformance
// suite, the sync engine's end-to-end tests and the reliability tests
// drive it. A Factory fills every field.
type Fixture struct {
	// Kind is the connector type: hubspot, amocrm or bitrix24.
	Kind string
	// Clock is shared by the fake and the connectors the fixture builds.
	Clock *Clock
	// Server is the fake (*hubspottest.Server, ...), closed when the test
	// ends.
	Server any
	// Faults is the fake's fault queue and request log.
	Faults *Faults
	// Connector returns a new connector named name, as a new crmkpi
	// process builds it.
	Connector func(t testing.TB, name string, o ConnOptions) connectors.Connector
	// Want is what the warehouse should hold after a full sync of the
	// fake's data now. Records deleted in the fake are gone from it,
	// except where the CRM keeps them flagged (HubSpot's archive): add the
	// others with Tombstone.
	Want func() Rows
	// Mutate changes 10 records and deletes 2 in the fake (moving the
	// clock past them), and returns the keys of the deleted ones that Want
	// no longer holds.
	Mutate func(t testing.TB) (deleted []string)
	// Touch changes k records of the main object (HubSpot contacts,
	// amoCRM leads, Bitrix24 deals).
	Touch func(t testing.TB, k int)
	// RenameDeal renames the i-th deal (id order), moving its modified
	// time to the clock's now; DealCount is how many deals the fake holds.
	RenameDeal func(t testing.TB, i int, name string)
	DealCount  func() int
	// Revoke makes the credentials answer 401; Restore gives the
	// connectors built after it working credentials again.
	Revoke, Restore func()

	// IsDeals reports whether a request reads a page of deals (not an
	// archived or deleted listing).
	IsDeals func(req *http.Request, body []byte) bool
	// Records and SetRecords read and replace the records of a decoded
	// deals page; SameCursor makes the page's "more" point at the
	// request's own position, as a server stuck on one page would.
	Records    func(page map[string]any) []any
	SetRecords func(page map[string]any, rs []any)
	SameCursor func(page map[string]any, req *http.Request, body []byte)

	// Overlap is how far back an incremental pull reaches before its
	// cursor, for CRM clocks that lag.
	Overlap time.Duration
	// SlowTimeout is a client timeout that a FaultSlow trips and a
	// normal answer does not.
	SlowTimeout time.Duration
	// ReconcileEvery is the cadence of the ID listings that find
	// deletions, for a connector without a deletion feed (0: it has one).
	ReconcileEvery time.Duration
}

// Factory starts a fake seeded with its world and returns the fixture
// around it; the fake is closed when the test ends.
type Factory func(t testing.TB, o FakeOptions) *Fixture
