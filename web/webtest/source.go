// Package webtest holds an in-memory web.Source and a hand-written world
// for it (Fixture): tests of the pages and the browser test read it, and
// so can anything that wants the pages without a warehouse.
package webtest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/crmkpi/crmkpi/period"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/web"
)

// Source is a web.Source over maps. Its fields are read, never written,
// by its methods, so it is safe for concurrent requests once built.
type Source struct {
	// Reports holds the scored periods by period.Key(); any other period
	// is scored as empty, as a warehouse without data for it would be.
	Reports map[string]*scoring.Report
	// Explanations holds explanations by ExplanationKey.
	Explanations map[string]*scoring.Explanation
	Connectors   []web.Freshness
	// Currency is that of the empty reports.
	Currency string
	// Err, when set, is what every method returns: a warehouse that is
	// down.
	Err error

	// The configuration the world was scored with.
	Kind     period.Kind
	Location *time.Location
	Now      time.Time
}

var _ web.Source = (*Source)(nil)

// ExplanationKey is the key of Source.Explanations.
func ExplanationKey(p period.Period, manager, kpi string) string {
	return p.Key() + "|" + manager + "|" + kpi
}

// Options returns web.Options for the world: its period kind, zone and
// clock, served on loopback without auth.
func (s *Source) Options() web.Options {
	return web.Options{Kind: s.Kind, Location: s.Location, Now: func() time.Time { return s.Now }, Listen: "127.0.0.1:0"}
}

// Report returns the report of p, or an empty one.
func (s *Source) Report(ctx context.Context, p period.Period) (*scoring.Report, error) {
	if s.Err != nil {
		return nil, s.Err
	}
	if r, ok := s.Reports[p.Key()]; ok {
		return r, nil
	}
	return &scoring.Report{Period: p, Currency: s.Currency}, nil
}

// History returns the manager's scorecards of the n periods before p.
func (s *Source) History(ctx context.Context, manager string, p period.Period, n int) ([]*scoring.Scorecard, error) {
	if s.Err != nil {
		return nil, s.Err
	}
	out := make([]*scoring.Scorecard, n)
	for i := n - 1; i >= 0; i-- {
		p = p.Previous()
		if r, ok := s.Reports[p.Key()]; ok {
			if j := slices.IndexFunc(r.Managers, func(sc scoring.Scorecard) bool { return sc.Manager == manager }); j >= 0 {
				out[i] = &r.Managers[j]
			}
		}
	}
	return out, nil
}

// Explain returns the stored explanation; one not stored is an error, so
// a test cannot pass on an explanation nobody wrote.
func (s *Source) Explain(ctx context.Context, p period.Period, manager, kpi string) (*scoring.Explanation, error) {
	if s.Err != nil {
		return nil, s.Err
	}
	e, ok := s.Explanations[ExplanationKey(p, manager, kpi)]
	if !ok {
		return nil, fmt.Errorf("webtest: no explanation of %s for %s in %s", kpi, manager, p.Spec())
	}
	return e, nil
}

// Freshness returns Connectors.
func (s *Source) Freshness(ctx context.Context) ([]web.Freshness, error) {
	if s.Err != nil {
		return nil, s.Err
	}
	return s.Connectors, nil
}
