package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"

	"github.com/crmkpi/crmkpi/period"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
)

// kpiCard is one KPI on a manager's page; every number links to its
// explanation.
type kpiCard struct {
	Key, Label string
	URL        string
	Value      cell
	NA         bool
	Reason     string
	Target     cell
	Attainment cell
	Weight     string
	Previous   string // the value in the period before, "" when none
	Manual     bool
	Chart      chart
}

type managerPage struct {
	page
	Key, Name, Team string
	Score           cell
	ScoreChart      chart
	KPIs            []kpiCard
}

// find returns the scorecard of manager in r, or nil.
func find(r *scoring.Report, manager string) *scoring.Scorecard {
	for i := range r.Managers {
		if r.Managers[i].Manager == manager {
			return &r.Managers[i]
		}
	}
	return nil
}

// scorecard reads p and the manager's scorecard in it, answering 404 when
// the manager has none.
func (s *server) scorecard(w http.ResponseWriter, r *http.Request, p period.Period, key string) (*scoring.Report, *scoring.Scorecard, bool) {
	rep, err := s.src.Report(r.Context(), p)
	if err != nil {
		s.internal(w, r, err)
		return nil, nil, false
	}
	sc := find(rep, key)
	if sc == nil {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("No scorecard for %s in %s.", key, p.Label()), nil)
		return nil, nil, false
	}
	return rep, sc, true
}

// periodsBack returns the n periods ending with p, oldest first.
func periodsBack(p period.Period, n int) []period.Period {
	out := make([]period.Period, n)
	for i := n - 1; i >= 0; i-- {
		out[i] = p
		p = p.Previous()
	}
	return out
}

func nan(v *float64) float64 {
	if !valid(v) {
		return math.NaN()
	}
	return *v
}

func (s *server) manager(w http.ResponseWriter, r *http.Request) {
	p, ok := s.period(w, r)
	if !ok {
		return
	}
	key := r.PathValue("key")
	rep, sc, ok := s.scorecard(w, r, p, key)
	if !ok {
		return
	}
	hist, err := s.src.History(r.Context(), key, p, HistoryPeriods-1)
	if err == nil && len(hist) != HistoryPeriods-1 {
		err = fmt.Errorf("history of %s before %s: %d periods, want %d", key, p.Spec(), len(hist), HistoryPeriods-1)
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	// The charts end with p's own scorecard, so their last point is the
	// number the page shows.
	cards := append(slices.Clip(hist), sc)
	periods := periodsBack(p, HistoryPeriods)
	labels := make([]string, len(periods))
	for i, q := range periods {
		labels[i] = q.Spec()
	}
	name := displayName(sc)
	mp := managerPage{page: s.page(name, p, s.selector(p, func(q period.Period) string { return managerURL(key, q) }, "/managers/"+url.PathEscape(key))),
		Key: key, Name: name, Team: sc.Team}
	var prevScore *float64
	if last := hist[len(hist)-1]; last != nil {
		prevScore = last.Score
	}
	mp.Score = scoreCell(sc, prevScore, p.Previous().Label())
	scores := make([]float64, len(cards))
	for i, c := range cards {
		scores[i] = math.NaN()
		if c != nil {
			scores[i] = nan(c.Score)
		}
	}
	mp.ScoreChart = drawChart("chart-score", name+": overall score, last "+itoa(HistoryPeriods)+" periods",
		series{values: scores, labels: labels, target: 100, hasTarget: true, format: pctCut})

	for _, k := range kpi.Keys {
		mp.KPIs = append(mp.KPIs, s.card(sc, k, p, rep.Currency, cards, labels))
	}
	s.render(w, r, "manager", http.StatusOK, mp)
}

func (s *server) card(sc *scoring.Scorecard, key string, p period.Period, currency string, cards []*scoring.Scorecard, labels []string) kpiCard {
	k := sc.KPIs[key]
	d := def(key, k)
	u := explainURL(sc.Manager, key, p, "")
	c := kpiCard{Key: key, Label: d.Label, URL: u, NA: true, Reason: "not computed",
		Value: cell{Text: "n/a", URL: u}, Attainment: cell{Text: "n/a", URL: u, Word: statusWord("")}, Target: cell{Text: "—", URL: u}}
	val := func(v float64) string { return valueText(d.Unit, v, currency) }
	if k != nil {
		c.Target = cell{Text: targetText(d, k.Target, currency), Value: raw(k.Target), URL: u}
		c.Weight = number(k.Weight, decimals(k.Weight))
		c.Manual = k.Manual
		if valid(k.Previous) {
			c.Previous = val(*k.Previous)
		}
		if valid(k.Value) {
			c.NA, c.Reason = false, ""
			c.Value = cell{Text: val(*k.Value), Value: raw(*k.Value), URL: u,
				Trend: trendOf(k.Value, k.Previous, d.LowerIsBetter, p.Previous().Label(), val)}
			if valid(k.Attainment) {
				st := statusFor(k.Attainment)
				c.Attainment = cell{Text: pctCut(*k.Attainment), Value: raw(*k.Attainment), Status: st, Word: statusWord(st), URL: u}
			}
		} else if k.Reason != nil {
			c.Reason = *k.Reason
		} else {
			c.Reason = "no data"
		}
	}
	values := make([]float64, len(cards))
	for i, h := range cards {
		values[i] = math.NaN()
		if h != nil && h.KPIs[key] != nil {
			values[i] = nan(h.KPIs[key].Value)
		}
	}
	s2 := series{values: values, labels: labels, format: val}
	if k != nil {
		s2.target, s2.hasTarget = k.Target, true
	}
	c.Chart = drawChart("chart-"+key, displayName(sc)+": "+d.Label+", last "+itoa(HistoryPeriods)+" periods", s2)
	return c
}
