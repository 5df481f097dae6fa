package app

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/config"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/warehouse"
)

// scoringOptions maps the config into what scoring needs.
func scoringOptions(cfg *config.Config) scoring.Options {
	o := scoring.Options{
		Location:      cfg.Location,
		Currency:      cfg.Currency,
		FXRates:       cfg.FXRates,
		LookbackDays:  cfg.Scoring.LookbackDays,
		Cap:           cfg.Scoring.Cap,
		KeyClientsTop: cfg.Scoring.KeyClients.Top,
		TeamTag:       cfg.Scoring.TeamTag,
		Costs: map[string]float64{
			"call": cfg.Scoring.Costs.Call, "email": cfg.Scoring.Costs.Email,
			"meeting": cfg.Scoring.Costs.Meeting, "message": cfg.Scoring.Costs.Message,
			"task": cfg.Scoring.Costs.Task, "note": cfg.Scoring.Costs.Note,
			scoring.CostMonthly: cfg.Scoring.Costs.MonthlyPerManager,
		},
		KPIs:                map[string]scoring.Target{},
		Teams:               map[string]map[string]scoring.Target{},
		Manual:              cfg.Scoring.Manual,
		KeyClientConnectors: map[string]bool{},
	}
	for k, v := range cfg.Scoring.KPIs {
		o.KPIs[k] = scoring.Target{Target: v.Target, Weight: v.Weight}
	}
	for team, t := range cfg.Scoring.Teams {
		m := map[string]scoring.Target{}
		for k, v := range t.KPIs {
			m[k] = scoring.Target{Target: v.Target, Weight: v.Weight}
		}
		o.Teams[team] = m
	}
	for _, m := range cfg.Managers {
		o.Managers = append(o.Managers, scoring.Manager{Email: m.Email, Name: m.Name, Team: m.Team, SlackID: m.SlackID})
	}
	for _, c := range cfg.Connectors {
		if c.Fields.KeyClient != "" {
			o.KeyClientConnectors[c.Name] = true
		}
	}
	o.OnlyListed = cfg.Scoring.OnlyListed
	for _, r := range cfg.Scoring.Exclude {
		o.Exclude = append(o.Exclude, r.Key)
	}
	o.Refs = managerRefs(cfg)
	return o
}

// managerRefs lists every manager key the config names, with where, in
// file order: scoring warns about the ones that match no CRM user.
func managerRefs(cfg *config.Config) []scoring.Ref {
	type ref struct {
		pos  config.Pos
		path string
		key  string
	}
	var refs []ref
	for i, m := range cfg.Managers {
		refs = append(refs, ref{m.Pos, fmt.Sprintf("managers[%d]", i), m.Email})
	}
	for i, r := range cfg.Scoring.Exclude {
		refs = append(refs, ref{r.Pos, fmt.Sprintf("scoring.exclude[%d]", i), r.Key})
	}
	for spec, byKey := range cfg.Scoring.ManualPos {
		for key, pos := range byKey {
			refs = append(refs, ref{pos, "scoring.manual." + spec, key})
		}
	}
	slices.SortFunc(refs, func(a, b ref) int {
		return cmp.Or(strings.Compare(a.pos.File, b.pos.File), cmp.Compare(a.pos.Line, b.pos.Line), strings.Compare(a.path, b.path), strings.Compare(a.key, b.key))
	})
	out := make([]scoring.Ref, len(refs))
	for i, r := range refs {
		out[i] = scoring.Ref{Key: r.key, Where: r.pos.String() + ": " + r.path}
	}
	return out
}

// ParsePeriod reads a period SPEC ("2026-10", "2026-W43", "2026-Q3",
// "current", "previous") against the configured period kind and zone.
func ParsePeriod(cfg *config.Config, spec string, now time.Time) (scoring.Period, error) {
	return scoring.ParsePeriod(spec, scoring.PeriodKind(cfg.Scoring.Period), cfg.Location, now)
}

// Score computes period p from the warehouse and stores the result,
// replacing an earlier scoring of the same period; its warnings (config
// keys that match no CRM user, and the like) go to a.Stderr.
func (a *App) Score(ctx context.Context, p scoring.Period) (*scoring.Report, error) {
	r, err := scoring.Compute(ctx, a.Store, scoringOptions(a.Config), p)
	if err != nil {
		return nil, fmt.Errorf("score %s: %w", p.Label(), err)
	}
	if err := a.Store.SaveScorecards(ctx, string(p.Kind), p.Start, scoring.Rows(r, a.now())); err != nil {
		return nil, fmt.Errorf("store scorecards: %w", err)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(a.stderr(), "warning: %s\n", w)
	}
	return r, nil
}

// History returns each manager's overall score in the n periods before p,
// oldest first, NaN where a period was not scored, for the sparkline.
func History(ctx context.Context, s *warehouse.Store, p scoring.Period, n int) (map[string][]float64, error) {
	periods := make([]scoring.Period, n)
	q := p
	for i := n - 1; i >= 0; i-- {
		q = q.Previous()
		periods[i] = q
	}
	out := map[string][]float64{}
	for i, q := range periods {
		rows, err := s.Scorecards(ctx, string(q.Kind), q.Start)
		if err != nil {
			return nil, fmt.Errorf("read scorecard history: %w", err)
		}
		for _, row := range rows {
			if row.KPI != scoring.KPIScore || row.Value == nil {
				continue
			}
			h := out[row.Manager]
			if h == nil {
				h = make([]float64, n)
				for j := range h {
					h[j] = math.NaN()
				}
				out[row.Manager] = h
			}
			h[i] = *row.Value
		}
	}
	return out, nil
}

// Explain is the records behind manager's kpi in p, each with why it
// counts or was left out, and the arithmetic; its value is Score's.
func (a *App) Explain(ctx context.Context, p scoring.Period, manager, kpi string) (*scoring.Explanation, error) {
	return scoring.Explain(ctx, a.Store, scoringOptions(a.Config), p, manager, kpi)
}
