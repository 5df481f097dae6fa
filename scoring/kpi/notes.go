package kpi

// The notes and samples of Table: how each KPI's details read for people.

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

func satisfactionSample(d Details, w Writer) string {
	if n, ok := d.Number(DetailAnswers); ok {
		return w.Count(n, "NPS answer", "NPS answers")
	}
	return ""
}

func retentionNote(d Details, w Writer) string {
	a, okA := d.Number(DetailActiveStart)
	r, okR := d.Number(DetailRetained)
	if !okA || !okR {
		return ""
	}
	return w.Number(r, 0) + " of " + w.Count(a, "client", "clients") + " retained"
}

func retentionSample(d Details, w Writer) string {
	if n, ok := d.Number(DetailActiveStart); ok {
		return w.Count(n, "active client", "active clients")
	}
	return ""
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

func keyClientGrowthSample(d Details, w Writer) string {
	if n, ok := d.Number(DetailKeyClients); ok {
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

func responseTimeSample(d Details, w Writer) string {
	if n, ok := d.Number(DetailInbound); ok {
		return w.Count(n, "inbound message", "inbound messages")
	}
	return ""
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

func costPerClientSample(d Details, w Writer) string {
	if n, ok := d.Number(DetailClients); ok {
		return w.Count(n, "client served", "clients served")
	}
	return ""
}
