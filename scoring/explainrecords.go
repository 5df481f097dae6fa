package scoring

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/human"
	"github.com/crmkpi/crmkpi/warehouse/rows"
)

// explainer turns a tracer's notes into an Explanation's records and
// formula, after the model has settled and reported. It reads the model's
// state but decides nothing the model did not: what counts is what the
// tracer saw counted.
type explainer struct {
	m   *model
	t   *tracer
	loc *time.Location

	recs []ExplainedRecord
	refs []recRef // per record: what names and links it

	delDeals []deletedDeal
	delActs  []rows.Activity
}

// recRef is what a record's name, client and link come from.
type recRef struct {
	kind   string // rows.Kind* whose names table names the record
	client int32  // the record's client, -1 for none
	// An activity opens through its deal, else company, else contact
	// when its type has no page of its own.
	actType, dealID, companyID, contactID string
}

type deletedDeal struct {
	row    rows.Deal
	client int32
	owner  int32
}

func newExplainer(m *model, t *tracer) *explainer {
	loc := m.s.Location
	if loc == nil {
		loc = m.p.Start.Location()
	}
	return &explainer{m: m, t: t, loc: loc}
}

// userKeys lists the CRM users of manager i: those the warehouse has and
// the owner ids with no user record that became the manager.
func (m *model) userKeys(i int32) []rows.Key {
	var out []rows.Key
	for c, ids := range m.userMgr {
		for id, mi := range ids.num {
			if mi == i {
				out = append(out, rows.Key{Connector: m.conns[c], ID: strconv.FormatUint(id, 10)})
			}
		}
		for id, mi := range ids.str {
			if mi == i {
				out = append(out, rows.Key{Connector: m.conns[c], ID: id})
			}
		}
	}
	slices.SortFunc(out, func(a, b rows.Key) int {
		return cmp.Or(strings.Compare(a.Connector, b.Connector), strings.Compare(a.ID, b.ID))
	})
	return out
}

// deleted reads the manager's deals and activities the CRM reports
// deleted near P: they count nowhere, and explain lists them as such.
func (x *explainer) deleted(ctx context.Context, src ExplainSource) error {
	owners := x.m.userKeys(x.t.mgr)
	if len(owners) == 0 {
		return nil
	}
	from, to := time.UnixMicro(x.t.near0), time.UnixMicro(x.t.near1)
	if err := src.ScanDeletedDeals(ctx, owners, from, to, func(r *rows.Deal) error {
		client := int32(-1)
		if c, ok := x.m.connIx[r.Connector]; ok {
			client = x.m.dealClient(c, r.CompanyID, r.ContactID)
		}
		x.delDeals = append(x.delDeals, deletedDeal{row: *r, client: client, owner: x.t.mgr})
		return nil
	}); err != nil {
		return fmt.Errorf("read deleted deals: %w", err)
	}
	if err := src.ScanDeletedActivities(ctx, owners, from, to, func(r *rows.Activity) error {
		x.delActs = append(x.delActs, *r)
		return nil
	}); err != nil {
		return fmt.Errorf("read deleted activities: %w", err)
	}
	return nil
}

func (x *explainer) add(r ExplainedRecord, ref recRef) {
	x.recs = append(x.recs, r)
	x.refs = append(x.refs, ref)
}

func (x *explainer) at(us int64) *time.Time {
	t := time.UnixMicro(us).In(x.loc)
	return &t
}

func (x *explainer) date(us int64) string {
	return time.UnixMicro(us).In(x.loc).Format("2006-01-02 15:04")
}

func (x *explainer) ownerKey(i int32) string {
	if i < 0 {
		return ""
	}
	return x.m.managers[i].key
}

// dealRec is the record of kept deal i: its close time (its creation for
// an open deal), its amount in its currency and in the reporting one.
func (x *explainer) dealRec(i int32) (ExplainedRecord, recRef) {
	m := x.m
	d := &m.deals[i]
	at := d.created
	if d.flags&dealShut != 0 {
		at = d.closed
	}
	r := ExplainedRecord{Kind: "deal", Connector: m.conns[m.dealIx.ents[d.ent].conn], ID: string(m.dealID(d)),
		Time: x.at(at), Stage: dealStatus(d.flags), Amount: ptr(d.amount), Currency: m.currencies[d.cur], Owner: x.ownerKey(d.owner)}
	if rev, ok := m.revenue(d); ok {
		r.Reporting = &rev
	}
	return r, recRef{kind: rows.KindDeal, client: d.client}
}

func dealStatus(flags uint8) string {
	switch {
	case flags&dealWon != 0:
		return rows.DealWon
	case flags&dealLost != 0:
		return rows.DealLost
	}
	return rows.DealOpen
}

// rowDealRec is the record of a deal the model did not keep.
func (x *explainer) rowDealRec(d *rows.Deal, client, owner int32) ExplainedRecord {
	at := d.CreatedAt
	if d.ClosedAt.Valid {
		at = d.ClosedAt.Time
	}
	t := at.In(x.loc)
	r := ExplainedRecord{Kind: "deal", Connector: d.Connector, ID: d.ID, Time: &t, Stage: d.Status,
		Currency: d.Currency, Owner: x.ownerKey(owner)}
	if d.Amount.Valid {
		r.Amount = ptr(d.Amount.Float64)
		if v, ok := x.m.s.rate(d.Currency); ok && !math.IsInf(d.Amount.Float64*v, 0) {
			r.Reporting = ptr(d.Amount.Float64 * v)
		}
	}
	return r
}

// actRec is the record of traced activity i.
func (x *explainer) actRec(i int) (ExplainedRecord, recRef) {
	a := &x.t.acts[i]
	return x.rowActRec(a, x.t.notes[i].client)
}

func (x *explainer) rowActRec(a *rows.Activity, client int32) (ExplainedRecord, recRef) {
	owner := int32(-1)
	if c, ok := x.m.connIx[a.Connector]; ok {
		if o, ok := x.m.userMgr[c].get(a.OwnerID); ok {
			owner = o
		}
	}
	t := a.OccurredAt.In(x.loc)
	r := ExplainedRecord{Kind: "activity", Connector: a.Connector, ID: a.ID, Name: activityName(a), Time: &t, Owner: x.ownerKey(owner)}
	return r, recRef{kind: rows.KindActivity, client: client, actType: a.Type, dealID: a.DealID, companyID: a.CompanyID, contactID: a.ContactID}
}

// activityName is an activity's type and direction, before the subject
// that names add.
func activityName(a *rows.Activity) string {
	if a.Direction != "" {
		return a.Direction + " " + a.Type
	}
	return a.Type
}

// clientRec is the record of client c.
func (x *explainer) clientRec(c int32) (ExplainedRecord, recRef) {
	cl := &x.m.clients[c]
	kind := rows.KindCompany
	if cl.flags&clientContact != 0 {
		kind = rows.KindContact
	}
	return ExplainedRecord{Kind: "client", Connector: x.m.conns[cl.conn], ID: cl.id, Owner: x.ownerKey(cl.owner)},
		recRef{kind: kind, client: c}
}

// moneyWhy says why a deal's money is left out: no rate, or no currency.
func (x *explainer) moneyWhy(cur uint16) string {
	c := strings.ToUpper(strings.TrimSpace(x.m.currencies[cur]))
	if c == "" {
		return "its currency is unknown"
	}
	return fmt.Sprintf("no fx rate for %s into %s", c, x.m.s.Currency)
}

// outside says on which side of P a time fell.
func (x *explainer) outside(us int64, what string) string {
	if us < x.m.bounds[0][0] {
		return what + " before the period"
	}
	return what + " after the period"
}

// explain builds the records of KPI key and returns its formula; k is the
// scorecard's KPI (nil without a scorecard).
func (x *explainer) explain(key string, k *KPI) string {
	f := measures[key].explain(x)
	if k == nil {
		return f
	}
	if k.Manual && k.Value != nil {
		for i := range x.recs {
			if x.recs[i].Counts {
				x.recs[i].Counts = false
				x.recs[i].Why += "; replaced by the figure entered by hand"
			}
		}
		return fmt.Sprintf("entered by hand in scoring.manual for %s: %s; the records give %s", x.m.p.Spec(), num(*k.Value), f)
	}
	if k.Value == nil && k.Reason != nil {
		return "n/a: " + *k.Reason
	}
	return f
}

// ownDeals lists the manager's deals that the own-deals loop of P saw, as
// each KPI of the manager's deals reads them: in P (decide says whether
// and why a deal closed in P counts), and just outside it; then the won
// deals of the manager's clients owned by others and the deals deleted in
// the CRM. wonOnly leaves out lost and open deals outside the decision.
func (x *explainer) ownDeals(wonOnly bool, decide func(n *dealNote, d *deal) (bool, string)) {
	m, t := x.m, x.t
	for i := range t.own {
		n := &t.own[i]
		d := &m.deals[n.d]
		won := d.flags&dealWon != 0
		var counts bool
		var why string
		switch {
		case n.closedIn && (won || !wonOnly):
			counts, why = decide(n, d)
		case n.closedIn:
			continue
		case d.flags&dealShut == 0:
			if wonOnly || !m.in(d.created, 0) {
				continue
			}
			why = "open: not closed"
		case !t.near(d.closed) || wonOnly && !won:
			continue
		default:
			why = x.outside(d.closed, "closed")
		}
		r, ref := x.dealRec(n.d)
		r.Counts, r.Why = counts, why
		x.add(r, ref)
	}
	for _, u := range t.unkeptDeals {
		if wonOnly && u.row.Status != rows.DealWon || u.row.Status == rows.DealOpen {
			continue
		}
		r := x.rowDealRec(&u.row, u.client, t.mgr)
		r.Why = x.outside(micros(u.row.ClosedAt.Time), "closed")
		x.add(r, recRef{kind: rows.KindDeal, client: u.client})
	}
	// Won deals on the manager's clients that others own count for them.
	if int(t.mgr) < len(m.byOwner) {
		for _, c := range m.byOwner[t.mgr] {
			for _, di := range m.wonOf(c) {
				d := &m.deals[di]
				if d.owner == t.mgr || !m.in(d.closed, 0) {
					continue
				}
				r, ref := x.dealRec(di)
				owner := "nobody"
				if d.owner >= 0 {
					owner = m.managers[d.owner].key
				}
				r.Why = "owned by " + owner + " (on a client of this manager): it counts for its owner"
				x.add(r, ref)
			}
		}
	}
	for _, dd := range x.delDeals {
		if wonOnly && dd.row.Status != rows.DealWon {
			continue
		}
		r := x.rowDealRec(&dd.row, dd.client, dd.owner)
		r.Why = "deleted in the CRM"
		x.add(r, recRef{kind: rows.KindDeal, client: dd.client})
	}
}

func (x *explainer) closedWon() string {
	x.ownDeals(false, func(n *dealNote, d *deal) (bool, string) {
		if d.flags&dealLost != 0 {
			return false, "lost in the period: counts in the win rate only"
		}
		why := "won in the period"
		if _, ok := x.m.revenue(d); !ok {
			why += "; " + x.moneyWhy(d.cur) + ", so it is left out of revenue only"
		}
		return true, why
	})
	return count(float64(x.t.stats.won), "won deal", "won deals")
}

// before names the won deal of d's client closed before it, which makes d
// an expansion deal.
func (x *explainer) before(di int32) string {
	m := x.m
	d := &m.deals[di]
	if d.client < 0 {
		return ""
	}
	won := m.wonOf(d.client)
	// The latest closed strictly before d: one closed at the same instant
	// makes no deal expansion.
	for i := slices.Index(won, di) - 1; i >= 0; i-- {
		if p := &m.deals[won[i]]; p.closed < d.closed {
			return fmt.Sprintf(" (%s, closed %s)", m.dealID(p), x.date(p.closed))
		}
	}
	if m.clients[d.client].flags&clientOldWon != 0 {
		return fmt.Sprintf(" (closed before %s)", x.date(m.lo))
	}
	return ""
}

func (x *explainer) newDeals() string {
	x.ownDeals(true, func(n *dealNote, d *deal) (bool, string) {
		switch {
		case d.flags&dealNew != 0:
			return true, "new business: the client's first won deal"
		case d.client < 0:
			return false, "no client (neither a company nor a contact), so it is no client's first won deal"
		}
		return false, "expansion: the client had a won deal before" + x.before(n.d)
	})
	return count(float64(x.t.stats.newDeals), "new-business deal", "new-business deals")
}

func (x *explainer) penetration() string {
	x.ownDeals(true, func(n *dealNote, d *deal) (bool, string) {
		switch {
		case !n.revOK:
			return false, x.moneyWhy(d.cur) + ": left out of revenue"
		case d.flags&dealNew != 0:
			return true, "new business: counts in revenue only"
		case d.client < 0:
			return true, "no client (neither a company nor a contact), so no expansion: counts in revenue only"
		}
		return true, "expansion: counts in expansion revenue and in revenue" + x.before(n.d)
	})
	s := &x.t.stats
	v := 0.0
	if s.revenue > 0 {
		v = 100 * s.expansionRev / s.revenue
	}
	return fmt.Sprintf("100 × %s expansion / %s revenue = %s", x.money(s.expansionRev), x.money(s.revenue), num(v))
}

func (x *explainer) money(v float64) string { return number(v, 0) + " " + x.m.s.Currency }

func (x *explainer) costPerClient() string {
	m, t := x.m, x.t
	served := map[int32][2]int{} // client → activities, won deals of the manager in P
	for i := range t.acts {
		a, n := &t.acts[i], &t.notes[i]
		if n.owner != t.mgr {
			continue
		}
		r, ref := x.actRec(i)
		switch {
		case n.inP:
			r.Counts = true
			r.Figure = ptr(m.s.costs[a.Type])
			r.Why = fmt.Sprintf("%s: costs %s", a.Type, x.money(m.s.costs[a.Type]))
			if n.client >= 0 {
				c := served[n.client]
				c[0]++
				served[n.client] = c
			}
		case t.near(micros(a.OccurredAt)):
			r.Why = x.outside(micros(a.OccurredAt), "occurred")
		default:
			continue
		}
		x.add(r, ref)
	}
	var expenses float64
	for i := range t.own {
		n := &t.own[i]
		d := &m.deals[n.d]
		if !n.closedIn || d.flags&dealWon == 0 {
			continue
		}
		if d.client >= 0 {
			c := served[d.client]
			c[1]++
			served[d.client] = c
		}
		if d.flags&dealExpense == 0 {
			continue
		}
		r, ref := x.dealRec(n.d)
		r.Amount, r.Reporting = ptr(m.expenses[n.d]), nil
		if n.expOK {
			r.Counts, r.Reporting = true, ptr(n.exp)
			r.Why = "expense of a deal won in the period"
			expenses += n.exp
		} else {
			r.Why = "expense of a deal won in the period; " + x.moneyWhy(d.cur) + ": left out"
		}
		x.add(r, ref)
	}
	for _, c := range t.stats.served {
		r, ref := x.clientRec(c)
		r.Counts = true
		s := served[c]
		r.Why = fmt.Sprintf("served in the period: %s, %s", count(float64(s[0]), "activity", "activities"), count(float64(s[1]), "won deal", "won deals"))
		x.add(r, ref)
	}
	for i := range x.delActs {
		a := &x.delActs[i]
		r, ref := x.rowActRec(a, -1)
		r.Why = "deleted in the CRM"
		x.add(r, ref)
	}
	s := &t.stats
	acts := s.cost - expenses - t.fixed
	if math.Abs(acts) < 1e-9*math.Max(1, s.cost) {
		acts = 0
	}
	n := len(s.served)
	v := 0.0
	if n > 0 {
		v = s.cost / float64(n)
	}
	return fmt.Sprintf("(%s activities + %s deal expenses + %s fixed) %s / %s = %s",
		number(acts, 0), number(expenses, 0), number(t.fixed, 0), m.s.Currency, count(float64(n), "client", "clients"), number(v, 0))
}

func (x *explainer) satisfaction() string {
	m, t := x.m, x.t
	for _, i := range t.answers {
		a := &m.nps[i]
		in := m.in(a.at, 0)
		if !in && !t.near(a.at) {
			continue
		}
		ct := &m.clients[a.contact]
		r := ExplainedRecord{Kind: "contact", Connector: m.conns[ct.conn], ID: ct.id, Time: x.at(a.at), Figure: ptr(a.score),
			Owner: x.ownerKey(m.clients[a.client].owner)}
		valid := a.score >= 0 && a.score <= 10
		switch {
		case in && valid:
			r.Counts = true
			switch {
			case a.score >= 9:
				r.Why = "promoter (9-10)"
			case a.score <= 6:
				r.Why = "detractor (0-6)"
			default:
				r.Why = "passive (7-8): counts in the answers only"
			}
		case in:
			r.Why = "score " + num(a.score) + " is not an NPS answer (0-10)"
		default:
			r.Why = x.outside(a.at, "answered")
		}
		x.add(r, recRef{kind: rows.KindContact, client: a.client})
	}
	s := &t.stats
	v := 0.0
	if s.answers > 0 {
		v = 100 * float64(s.promoters-s.detractors) / float64(s.answers)
	}
	return fmt.Sprintf("100 × (%s − %s) / %s = %s", count(float64(s.promoters), "promoter", "promoters"),
		count(float64(s.detractors), "detractor", "detractors"), count(float64(s.answers), "answer", "answers"), num(v))
}

// lastWon is client c's latest won deal closed before t, -1 for none.
func (x *explainer) lastWon(c int32, t int64) int32 {
	won := x.m.wonOf(c)
	if i := x.m.firstClosed(won, t); i > 0 {
		return won[i-1]
	}
	return -1
}

func (x *explainer) retention() string {
	m, t := x.m, x.t
	days := m.s.LookbackDays
	for _, n := range t.clients {
		if !n.activeStart && len(m.wonOf(n.c)) == 0 {
			// Never a won deal in the model's window: nothing to tell.
			continue
		}
		r, ref := x.clientRec(n.c)
		start, end := m.bounds[0][0], m.bounds[0][1]
		switch {
		case n.activeStart && n.activeEnd:
			r.Counts = true
			d := x.lastWon(n.c, end)
			r.Time = x.at(m.deals[d].closed)
			r.Why = fmt.Sprintf("retained: active at the start and at the end (won deal %s closed %s)", m.dealID(&m.deals[d]), x.date(m.deals[d].closed))
		case n.activeStart:
			r.Counts = true
			d := x.lastWon(n.c, start)
			r.Time = x.at(m.deals[d].closed)
			r.Why = fmt.Sprintf("lost: active at the start (won deal %s closed %s), no won deal in the %d days before the end", m.dealID(&m.deals[d]), x.date(m.deals[d].closed), days)
		default:
			if d := x.lastWon(n.c, end); d >= 0 {
				r.Time = x.at(m.deals[d].closed)
			}
			r.Why = fmt.Sprintf("not active at the start: no won deal in the %d days before it", days)
		}
		x.add(r, ref)
	}
	s := &t.stats
	v := 0.0
	if s.activeStart > 0 {
		v = 100 * float64(s.retained) / float64(s.activeStart)
	}
	return fmt.Sprintf("100 × %s retained / %s active at the start = %s", number(float64(s.retained), 0),
		count(float64(s.activeStart), "client", "clients"), num(v))
}

func (x *explainer) keyClientGrowth() string {
	m, t := x.m, x.t
	sums := map[int32][2]float64{}
	for _, kd := range t.keyDeals {
		d := &m.deals[kd.d]
		r, ref := x.dealRec(kd.d)
		when := "won in the period"
		if kd.window == 1 {
			when = "won in the previous period"
		}
		if kd.ok {
			r.Counts, r.Why = true, when
			s := sums[d.client]
			s[kd.window] += kd.rev
			sums[d.client] = s
		} else {
			r.Why = when + "; " + x.moneyWhy(d.cur) + ": left out"
		}
		x.add(r, ref)
	}
	rank := map[int32]rankNote{}
	for _, rn := range t.ranked {
		rank[rn.c] = rn
	}
	for _, c := range t.keys {
		r, ref := x.clientRec(c)
		r.Counts = true
		rn, ranked := rank[c]
		s := sums[c]
		if ranked {
			r.Why = fmt.Sprintf("key client: #%d by revenue in the %d days before the period (%s)", rn.rank, m.s.LookbackDays, x.money(rn.rev))
		} else {
			r.Why = "key client: flagged in the CRM"
		}
		r.Why += fmt.Sprintf("; %s in the period, %s in the previous", x.money(s[0]), x.money(s[1]))
		x.add(r, ref)
	}
	for _, rn := range t.ranked {
		if rn.key {
			continue
		}
		r, ref := x.clientRec(rn.c)
		r.Why = fmt.Sprintf("not a key client: #%d by revenue in the %d days before the period (%s); the top %d are", rn.rank, m.s.LookbackDays, x.money(rn.rev), m.s.KeyClientsTop)
		x.add(r, ref)
	}
	s := &t.stats
	v := 0.0
	if s.keyRevPrev > 0 {
		v = 100 * (s.keyRev - s.keyRevPrev) / s.keyRevPrev
	}
	return fmt.Sprintf("100 × (%s − %s) / %s %s = %s, over %s", number(s.keyRev, 0), number(s.keyRevPrev, 0), number(s.keyRevPrev, 0),
		m.s.Currency, num(v), count(float64(s.keyClients), "key client", "key clients"))
}

func (x *explainer) responseTime() string {
	m, t := x.m, x.t
	capH := answerCap.Hours()
	for i := range t.acts {
		a, n := &t.acts[i], &t.notes[i]
		at := micros(a.OccurredAt)
		clientOwner := int32(-1)
		if n.client >= 0 {
			clientOwner = m.clients[n.client].owner
		}
		owner := n.owner
		r, ref := x.actRec(i)
		switch {
		case n.responded:
			r.Counts, r.Figure = true, ptr(n.hours)
			switch {
			case n.answeredAt == noTime:
				r.Why = fmt.Sprintf("no answer by the client's owner: counts as %s h", num(capH))
			case n.answeredAt-at > answerCap.Microseconds():
				r.Why = fmt.Sprintf("answered %s later, over %s h: counts as %s h", x.hours(n.answeredAt-at), num(capH), num(capH))
			default:
				r.Why = fmt.Sprintf("answered after %s h", num(n.hours))
				if n.answer > 0 {
					ans := &t.acts[n.answer-1]
					r.Why += fmt.Sprintf(" by %s %s at %s", ans.Type, ans.ID, x.date(micros(ans.OccurredAt)))
				}
			}
		case n.flags&actInbound != 0 && clientOwner == t.mgr && t.near(at):
			r.Why = x.outside(at, "received")
		case n.flags&actInbound != 0 && owner == t.mgr && n.client < 0 && n.inP:
			r.Why = "no client: an inbound activity counts for its client's owner"
		case clientOwner == t.mgr && owner != t.mgr && n.flags&actAnswer != 0 && at >= m.bounds[0][0] && at < m.bounds[0][1]+answerCap.Microseconds():
			r.Why = "an answer by " + cmp.Or(x.ownerKey(owner), "nobody") + ": only the client owner's answers count"
		case clientOwner == t.mgr && owner == t.mgr && a.Type == rows.ActivityCall && a.Direction == rows.DirectionOutbound &&
			a.DidNotConnect && at >= m.bounds[0][0] && at < m.bounds[0][1]+answerCap.Microseconds():
			r.Why = "a call that did not connect: not an answer"
		default:
			continue
		}
		x.add(r, ref)
	}
	s := &t.stats
	hs := s.responses // sorted by median in kpiValues
	if len(hs) == 0 {
		return "no inbound activity"
	}
	n := len(hs)
	var b strings.Builder
	b.WriteString("median of " + count(float64(n), "inbound", "inbound"))
	if s.unanswered > 0 {
		fmt.Fprintf(&b, " (%s unanswered, counted as %s h)", number(float64(s.unanswered), 0), num(capH))
	}
	if n <= 12 {
		parts := make([]string, n)
		for i, h := range hs {
			parts[i] = num(h)
		}
		b.WriteString(" [" + strings.Join(parts, ", ") + "]")
	}
	switch {
	case n%2 == 1 && n <= 12:
		fmt.Fprintf(&b, " = %s h", num(hs[n/2]))
	case n%2 == 1:
		fmt.Fprintf(&b, ": the %s = %s h", ordinal(n/2+1), num(hs[n/2]))
	case n <= 12:
		fmt.Fprintf(&b, " = (%s + %s) / 2 = %s h", num(hs[n/2-1]), num(hs[n/2]), num((hs[n/2-1]+hs[n/2])/2))
	default:
		fmt.Fprintf(&b, ": the %s and %s, (%s + %s) / 2 = %s h", ordinal(n/2), ordinal(n/2+1), num(hs[n/2-1]), num(hs[n/2]), num((hs[n/2-1]+hs[n/2])/2))
	}
	return b.String()
}

// ordinal is 1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, 21st.
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return number(float64(n), 0) + suffix
}

func (x *explainer) hours(us int64) string {
	return num((time.Duration(us) * time.Microsecond).Hours()) + " h"
}

func (x *explainer) teamContribution() string {
	m, t := x.m, x.t
	tag := m.s.TeamTag
	for i := range t.acts {
		a, n := &t.acts[i], &t.notes[i]
		if a.Type != rows.ActivityTask || n.owner != t.mgr {
			continue
		}
		r, ref := x.actRec(i)
		switch {
		case n.inP && n.flags&actTeamTask != 0:
			r.Counts, r.Why = true, "completed, and its text has "+tag
		case n.inP && !a.Completed:
			r.Why = "not completed"
		case n.inP:
			r.Why = "its text has no " + tag + " (the tag is case-sensitive)"
		case t.near(micros(a.OccurredAt)):
			r.Why = x.outside(micros(a.OccurredAt), "due")
		default:
			continue
		}
		x.add(r, ref)
	}
	for i := range x.delActs {
		if a := &x.delActs[i]; a.Type == rows.ActivityTask {
			r, ref := x.rowActRec(a, -1)
			r.Why = "deleted in the CRM"
			x.add(r, ref)
		}
	}
	return count(float64(t.stats.tasks), "completed task tagged "+tag, "completed tasks tagged "+tag)
}

// finish names the records and their clients, links them, and sorts them:
// those that count first, each part by time.
func (x *explainer) finish(ctx context.Context, src ExplainSource) error {
	want := map[string][]rows.Key{}
	key := func(kind, conn, id string) {
		if id != "" {
			want[kind] = append(want[kind], rows.Key{Connector: conn, ID: id})
		}
	}
	clientKey := func(c int32) (string, rows.Key) {
		cl := &x.m.clients[c]
		kind := rows.KindCompany
		if cl.flags&clientContact != 0 {
			kind = rows.KindContact
		}
		return kind, rows.Key{Connector: x.m.conns[cl.conn], ID: cl.id}
	}
	for i, r := range x.recs {
		ref := x.refs[i]
		key(ref.kind, r.Connector, r.ID)
		if ref.client >= 0 {
			kind, k := clientKey(ref.client)
			key(kind, k.Connector, k.ID)
		}
	}
	names := map[string]map[rows.Key]rows.RecordName{}
	for kind, keys := range want {
		got := map[rows.Key]rows.RecordName{}
		if err := src.ScanRecordNames(ctx, kind, keys, func(n *rows.RecordName) error {
			got[rows.Key{Connector: n.Connector, ID: n.ID}] = *n
			return nil
		}); err != nil {
			return fmt.Errorf("read record names: %w", err)
		}
		names[kind] = got
	}
	links := map[[2]string]string{}
	if err := src.ScanRecordLinks(ctx, func(l *rows.RecordLink) error {
		links[[2]string{l.Connector, l.Kind}] = l.URL
		return nil
	}); err != nil {
		return fmt.Errorf("read record links: %w", err)
	}
	link := func(conn, kind, id string) string {
		u, ok := links[[2]string{conn, kind}]
		if !ok || id == "" {
			return ""
		}
		return strings.ReplaceAll(u, rows.LinkID, url.PathEscape(id))
	}
	for i := range x.recs {
		r, ref := &x.recs[i], x.refs[i]
		n := names[ref.kind][rows.Key{Connector: r.Connector, ID: r.ID}]
		switch {
		case r.Kind == "activity" && n.Name != "":
			r.Name += ": " + n.Name
		case r.Kind != "activity":
			r.Name = n.Name
		}
		if ref.kind == rows.KindDeal && n.Stage != "" {
			r.Stage = n.Stage
		}
		if ref.client >= 0 {
			kind, k := clientKey(ref.client)
			r.Client = names[kind][k].Name
			if r.Client == "" {
				r.Client = k.ID
			}
		}
		switch ref.kind {
		case rows.KindActivity:
			r.Link = link(r.Connector, ref.actType, r.ID)
			for _, via := range [][2]string{{rows.KindDeal, ref.dealID}, {rows.KindCompany, ref.companyID}, {rows.KindContact, ref.contactID}} {
				if r.Link == "" {
					r.Link = link(r.Connector, via[0], via[1])
				}
			}
		default:
			r.Link = link(r.Connector, ref.kind, r.ID)
		}
	}
	slices.SortStableFunc(x.recs, func(a, b ExplainedRecord) int {
		if a.Counts != b.Counts {
			if a.Counts {
				return -1
			}
			return 1
		}
		switch {
		case a.Time == nil && b.Time != nil:
			return 1
		case a.Time != nil && b.Time == nil:
			return -1
		case a.Time != nil && !a.Time.Equal(*b.Time):
			return a.Time.Compare(*b.Time)
		}
		return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Connector, b.Connector), strings.Compare(a.ID, b.ID))
	})
	return nil
}

// number is human.Number: explanations write numbers as Slack and the
// web pages do.
var number = human.Number

// num is a figure for people: whole numbers without decimals, others with
// one.
func num(v float64) string { return number(v, human.Decimals(v)) }

// count is human.Count: "1 won deal", "7 won deals".
var count = human.Count
