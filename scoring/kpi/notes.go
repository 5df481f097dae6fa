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

func satisfactionNote(d Details, w Writer) string {
	n, ok := d.Number(DetailAnswers)
	if !ok {
		return ""
	}
	s := w.Count(n, "answer", "answers")
	p, okP := d.Number(DetailPromoters)
	de, okD := d.Number(DetailDetractors)
	if okP && okD {
		s += " (" + w.Number(p, 0) + " promoters, " + w.Number(de, 0) + " detractors)"
	}
	return s
}

func retentionNote(d Details, w Writer) string {
	a, okA := d.Number(DetailActiveStart)
	r, okR := d.Number(DetailRetained)
	if !okA || !okR {
		return ""
	}
	return w.Number(r, 0) + " of " + w.Count(a, "client", "clients") + " retained"
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

func penetrationNote(d Details, w Writer) string {
	e, okE := d.Number(DetailExpansionRevenue)
	r, okR := d.Number(DetailRevenue)
	if !okE || !okR {
		return ""
	}
	return "expansion " + w.Money(e) + " of " + w.Money(r)
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

func closedWonSample(d Details, w Writer) string {
	won, okW := d.Number(DetailWon)
	l, okL := d.Number(DetailLost)
	if okW && okL {
		return w.Count(won+l, "closed deal", "closed deals")
	}
	return ""
}

func responseTimeNote(d Details, w Writer) string {
	n, ok := d.Number(DetailInbound)
	if !ok {
		return ""
	}
	s := w.Count(n, "inbound", "inbound")
	if u, ok := d.Number(DetailUnanswered); ok && u > 0 {
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

func costPerClientNote(d Details, w Writer) string {
	c, okC := d.Number(DetailCost)
	n, okN := d.Number(DetailClients)
	if !okC || !okN {
		return ""
	}
	return w.Money(c) + " over " + w.Count(n, "client", "clients")
}
