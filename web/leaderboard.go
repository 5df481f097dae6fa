package web

import (
	"cmp"
	"net/http"
	"slices"

	"github.com/crmkpi/crmkpi/period"
	"github.com/crmkpi/crmkpi/scoring"
	"github.com/crmkpi/crmkpi/scoring/kpi"
)

// cell is one number with what the page shows beside it.
type cell struct {
	Text   string // as people read it: "87.5%", "7 deals"
	Value  string // full precision for data-value; "" when n/a
	Status string // green, amber, red or ""
	Word   string // the status in words
	Title  string // tooltip
	URL    string // the explanation, where there is one
	Trend  trend
}

type column struct{ Key, Short, Label string }

type boardRow struct {
	Rank       string // "" for a manager without a score
	Key        string
	Name, Team string
	URL        string
	Score      cell
	KPIs       []cell
}

type freshRow struct {
	Connector   string
	State       string // ok, stale, failing
	LastSuccess string // "" when never
	Ago         string
}

type boardPage struct {
	page
	Columns []column
	Rows    []boardRow
	Fresh   []freshRow
	// FreshErr is set when freshness could not be read; the scores
	// still show.
	FreshErr bool
}

func displayName(sc *scoring.Scorecard) string { return sc.DisplayName() }

// scoreCell is a manager's overall score, with its trend against prev.
func scoreCell(sc *scoring.Scorecard, prev *float64, prevLabel string) cell {
	c := cell{Text: "n/a", Status: statusFor(sc.Score)}
	c.Word = statusWord(c.Status)
	if valid(sc.Score) {
		c.Text, c.Value = pctCut(*sc.Score), raw(*sc.Score)
	}
	c.Trend = trendOf(sc.Score, prev, false, prevLabel, pctCut)
	return c
}

// attainmentCell is one KPI's attainment on the leaderboard.
func attainmentCell(sc *scoring.Scorecard, key string, p period.Period, currency string) cell {
	k := sc.KPIs[key]
	d := def(key, k)
	c := cell{Text: "n/a", Word: statusWord(""), Title: d.Label + ": no data", URL: explainURL(sc.Manager, key, p, "")}
	if k == nil {
		return c
	}
	if !valid(k.Value) || !valid(k.Attainment) {
		if k.Reason != nil {
			c.Title = d.Label + ": n/a, " + *k.Reason
		}
		return c
	}
	c.Text, c.Value = pctCut(*k.Attainment), raw(*k.Attainment)
	c.Status = statusFor(k.Attainment)
	c.Word = statusWord(c.Status)
	val := func(v float64) string { return valueText(d.Unit, v, currency) }
	c.Title = d.Label + ": " + val(*k.Value) + ", target " + targetText(d, k.Target, currency)
	c.Trend = trendOf(k.Value, k.Previous, d.LowerIsBetter, p.Previous().Label(), val)
	return c
}

// sortBoard orders managers best score first, those without one last,
// then by name and key, as the Slack leaderboard does.
func sortBoard(ms []scoring.Scorecard) []*scoring.Scorecard {
	out := make([]*scoring.Scorecard, len(ms))
	for i := range ms {
		out[i] = &ms[i]
	}
	slices.SortStableFunc(out, scoring.CompareBoard)
	return out
}

func (s *server) leaderboard(w http.ResponseWriter, r *http.Request) {
	p, ok := s.period(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	rep, err := s.src.Report(ctx, p)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	prevRep, err := s.src.Report(ctx, p.Previous())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	prevScore := map[string]*float64{}
	for i := range prevRep.Managers {
		prevScore[prevRep.Managers[i].Manager] = prevRep.Managers[i].Score
	}

	bp := boardPage{page: s.page("Leaderboard", p, s.selector(p, boardURL, "/"))}
	bp.Crumbs = nil
	for _, key := range kpi.Keys {
		d := def(key, nil)
		bp.Columns = append(bp.Columns, column{Key: key, Short: cmp.Or(d.Short, d.Label), Label: d.Label})
	}
	prevLabel := p.Previous().Label()
	rank := 0
	sorted := sortBoard(rep.Managers)
	for i, sc := range sorted {
		row := boardRow{Key: sc.Manager, Name: displayName(sc), Team: sc.Team, URL: managerURL(sc.Manager, p),
			Score: scoreCell(sc, prevScore[sc.Manager], prevLabel)}
		if valid(sc.Score) {
			// Competition ranking: equal scores share a rank (1, 2, 2, 4).
			if i == 0 || *sorted[i-1].Score != *sc.Score {
				rank = i + 1
			}
			row.Rank = itoa(rank)
		}
		for _, key := range kpi.Keys {
			row.KPIs = append(row.KPIs, attainmentCell(sc, key, p, rep.Currency))
		}
		bp.Rows = append(bp.Rows, row)
	}

	fresh, err := s.src.Freshness(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "read sync freshness", "err", err)
		bp.FreshErr = true
	}
	now := s.opt.Now()
	for _, f := range fresh {
		fr := freshRow{Connector: f.Connector, State: f.State}
		if !f.LastSuccess.IsZero() {
			fr.LastSuccess, fr.Ago = timeText(f.LastSuccess, s.opt.Location), ago(f.LastSuccess, now)
		}
		bp.Fresh = append(bp.Fresh, fr)
	}
	s.render(w, r, "leaderboard", http.StatusOK, bp)
}

func itoa(n int) string { return number(float64(n), 0) }

// page is the frame of a page about period p.
func (s *server) page(title string, p period.Period, sel *selector) page {
	return page{Title: title + " · " + p.Label(), Heading: title, Period: p.Label(), PeriodSpec: p.Spec(), Selector: sel,
		Crumbs: []crumb{{Text: "Leaderboard", URL: boardURL(p)}}}
}

// selector lists recent periods of each kind, the one shown marked.
type selector struct {
	Action string // the form's path, for any other SPEC
	Spec   string
	Groups []selGroup
}

type selGroup struct {
	Name  string
	Links []selLink
}

type selLink struct {
	Text, Title, URL string
	Selected         bool
}

func (s *server) selector(cur period.Period, link func(period.Period) string, action string) *selector {
	sel := &selector{Action: action, Spec: cur.Spec()}
	now := s.opt.Now()
	for _, g := range []struct {
		name string
		kind period.Kind
		n    int
		text func(period.Period) string
	}{
		{"Months", period.Month, 6, func(p period.Period) string { return p.Start.Format("Jan 2006") }},
		{"Weeks", period.Week, 6, func(p period.Period) string { _, w := p.Start.ISOWeek(); return "W" + itoa(w) }},
		{"Quarters", period.Quarter, 4, func(p period.Period) string { return p.Spec()[5:] + " " + p.Spec()[:4] }},
	} {
		p, err := period.Parse("current", g.kind, s.opt.Location, now)
		if err != nil {
			continue // the kinds above all parse
		}
		group := selGroup{Name: g.name}
		for i := 0; i < g.n; i++ {
			l := selLink{Text: g.text(p), URL: link(p), Selected: p.Key() == cur.Key(),
				Title: p.Spec() + ": " + p.Start.Format("2006-01-02") + " – " + p.End.AddDate(0, 0, -1).Format("2006-01-02")}
			if i == 0 {
				l.Text += " (so far)"
			}
			group.Links = append([]selLink{l}, group.Links...)
			p = p.Previous()
		}
		sel.Groups = append(sel.Groups, group)
	}
	return sel
}
