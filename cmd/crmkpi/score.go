package main

import (
	"cmp"
	"context"
	"encoding/json"
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

// parsePeriod reads --period against the configured period kind and zone.
func parsePeriod(cfg *config.Config, spec string, now time.Time) (scoring.Period, error) {
	p, err := scoring.ParsePeriod(spec, scoring.PeriodKind(cfg.Scoring.Period), cfg.Location, now)
	if err != nil {
		return p, usageError{fmt.Errorf("--period: %w", err)}
	}
	return p, nil
}

// openForPeriod loads the config, reads --period against it and opens the
// warehouse: what score, notify and run all start with. The caller closes
// the store.
func openForPeriod(ctx context.Context, e *env, cfgPath, periodSpec string) (*config.Config, scoring.Period, *warehouse.Store, error) {
	cfg, err := loadConfig(e, cfgPath)
	if err != nil {
		return nil, scoring.Period{}, nil, err
	}
	// The period is checked before the warehouse is touched: a typo is a
	// usage error, not a database session.
	p, err := parsePeriod(cfg, periodSpec, time.Now())
	if err != nil {
		return nil, p, nil, err
	}
	s, err := openWarehouse(ctx, cfg)
	if err != nil {
		return nil, p, nil, err
	}
	return cfg, p, s, nil
}

// scorePeriod computes period p from the warehouse and stores the result,
// replacing an earlier scoring of the same period.
func scorePeriod(ctx context.Context, e *env, cfg *config.Config, s *warehouse.Store, p scoring.Period) (*scoring.Report, error) {
	r, err := scoring.Compute(ctx, s, scoringOptions(cfg), p)
	if err != nil {
		return nil, fmt.Errorf("score %s: %w", p.Label(), err)
	}
	if err := s.SaveScorecards(ctx, string(p.Kind), p.Start, scoring.Rows(r, time.Now())); err != nil {
		return nil, fmt.Errorf("store scorecards: %w", err)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
	return r, nil
}

func runScore(ctx context.Context, e *env, args []string) error {
	fs, cfgPath := newFlags(e, "score", "score [--config FILE] [--period SPEC] [--format table|json]")
	period := fs.String("period", "previous", "period: 2026-10, 2026-W43, 2026-Q3, current or previous")
	format, checkFormat := formatFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkFormat(); err != nil {
		return err
	}
	cfg, p, s, err := openForPeriod(ctx, e, *cfgPath, *period)
	if err != nil {
		return err
	}
	defer s.Close()
	r, err := scorePeriod(ctx, e, cfg, s, p)
	if err != nil {
		return err
	}
	return writeReport(e, r, *format)
}

func writeReport(e *env, r *scoring.Report, format string) error {
	if format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return writeTable(e, r)
}

// history returns each manager's overall score in the n periods before p,
// oldest first, NaN where a period was not scored, for the sparkline.
func history(ctx context.Context, s *warehouse.Store, p scoring.Period, n int) (map[string][]float64, error) {
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
