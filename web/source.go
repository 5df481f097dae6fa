package web

import (
	"context"
	"time"

	"github.com/crmkpi/crmkpi/period"
	"github.com/crmkpi/crmkpi/scoring"
)

// Source is what the pages read. Every method is called with the
// request's context, from concurrent requests. An error shows the reader
// a 500 page and goes to the log, never to the page.
type Source interface {
	// Report returns the scorecards of period p, the figures of
	// `crmkpi score --format json`; a period without data has no
	// managers. The pages call it for the period shown and, on the
	// leaderboard, for the one before it (the score's trend).
	Report(ctx context.Context, p period.Period) (*scoring.Report, error)
	// History returns the scorecards of manager in the n periods before
	// p, oldest first: n entries, nil for a period without one. Only
	// Score and each KPI's Value and Target are read; the manager page
	// draws them with p's own from Report.
	History(ctx context.Context, manager string, p period.Period, n int) ([]*scoring.Scorecard, error)
	// Explain returns the records behind one KPI value of manager in p,
	// whose Value and Reason equal the scored KPI's.
	Explain(ctx context.Context, p period.Period, manager, kpi string) (*scoring.Explanation, error)
	// Freshness returns the sync state of each configured connector, in
	// config order.
	Freshness(ctx context.Context) ([]Freshness, error)
}

// Freshness is how fresh one connector's data is.
type Freshness struct {
	Connector string
	// LastSuccess is when the connector's newest successful sync
	// finished; zero when it never had one.
	LastSuccess time.Time
	// State is the rule of /healthz: "ok", "stale" or "failing" (the
	// sync package's StateOK, StateStale, StateFailing).
	State string
}

// Connector states of Freshness.State.
const (
	StateOK      = "ok"
	StateStale   = "stale"
	StateFailing = "failing"
)
