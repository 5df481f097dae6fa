package kpi

// The notes and samples of Table: how each KPI's details read for people.

// sampleOf is a Sample that counts detail key: "12 NPS answers".
func sampleOf(key, one, many string) func(Details, Writer) string {
	return func(d Details, w Writer) string {
		if n, ok := d.Number(key); ok {
			return w.Count(n, one, many)
		}
		return ""
	}
}

// pair is a note that f writes from details a and b, "" unless both are
// there.
func pair(a, b string, f func(x, y float64, w Writer) string) func(Details, Writer) string {
	return func(d Details, w Writer) string {
		x, okX := d.Number(a)
		y, okY := d.Number(b)
		if !okX || !okY {
			return ""
		}
		return f(x, y, w)
	}
}

// The notes that take two details.
var (
	retentionNote = pair(DetailActiveStart, DetailRetained, func(active, retained float64, w Writer) string {
		return w.Number(retained, 0) + " of " + w.Count(active, "client", "clients") + " retained"
	})
	penetrationNote = pair(DetailExpansionRevenue, DetailRevenue, func(expansion, revenue float64, w Writer) string {
		return "expansion " + w.Money(expansion) + " of " + w.Money(revenue)
	})
	closedWonSample = pair(DetailWon, DetailLost, func(won, lost float64, w Writer) string {
		return w.Count(won+lost, "closed deal", "closed deals")
	})
	costPerClientNote = pair(DetailCost, DetailClients, func(cost, clients float64, w Writer) string {
		return w.Money(cost) + " over " + w.Count(clients, "client", "clients")
	})
)

func satisfactionNote(d Details, w Writer) string {
	s := sampleOf(DetailAnswers, "answer", "answers")(d, w)
	p, okP := d.Number(DetailPromoters)
	de, okD := d.Number(DetailDetractors)
	if s != "" && okP && okD {
		s += " (" + w.Count(p, "promoter", "promoters") + ", " + w.Count(de, "detractor", "detractors") + ")"
	}
	return s
}

func keyClientGrowthNote(d Details, w Writer) string {
	n, okN := d.Number(DetailKeyClients)
	r, okR := d.Number(DetailRevenue)
	p, okP := d.Number(DetailRevenuePrevious)
	switch {
	case okN && okR && okP:
		return w.Count(n, "key client", "key clients") + ": " + w.Money(r) + " vs " + w.Money(p)
	case okN:
		return w.Count(n, "key client", "key clients")
	}
	return ""
}

func closedWonNote(d Details, w Writer) string {
	wr, ok := d.Number(DetailWinRate)
	if !ok {
		return ""
	}
	s := "win rate " + w.Percent(wr)
	if l, ok := d.Number(DetailLost); ok {
		s += " (" + w.Number(l, 0) + " lost)"
	}
	return s
}

func responseTimeNote(d Details, w Writer) string {
	s := sampleOf(DetailInbound, "inbound", "inbound")(d, w)
	if u, ok := d.Number(DetailUnanswered); s != "" && ok && u > 0 {
		s += ", " + w.Number(u, 0) + " unanswered"
	}
	return s
}

func teamContributionNote(d Details, _ Writer) string {
	if d.Flag(DetailManual) {
		return "entered by hand"
	}
	return ""
}
