package scoring

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/warehouse"
)

// Source is the part of the warehouse that scoring reads; *warehouse.Store
// implements it. Every method returns the records of all connectors with
// Meta.Connector filled in. Deleted records may be left out, except users,
// which come with User.Deleted set; scoring skips deleted records itself
// anyway. connectors.User has no deactivation time, so through a Source
// alone every inactive user counts as first seen inactive (see ranked); a
// Scanner reads it.
type Source interface {
	ReadUsers(ctx context.Context) ([]connectors.User, error)
	ReadCompanies(ctx context.Context) ([]connectors.Company, error)
	ReadContacts(ctx context.Context) ([]connectors.Contact, error)
	ReadDeals(ctx context.Context) ([]connectors.Deal, error)
	// ReadActivities returns the activities with occurred_at in [from, to).
	ReadActivities(ctx context.Context, from, to time.Time) ([]connectors.Activity, error)
}

// Scanner is an optional capability of a Source, found by type assertion:
// it streams the few columns scoring needs, row by row, so that Compute
// keeps a compact form of the warehouse instead of every record whole.
// *warehouse.Store implements it; the rows and their contracts are
// documented there. ScanActivities must pass the activities latest first.
// LastActivity is asked only for the users of inactive managers whose
// deactivation the warehouse did not see, when the activities scanned do
// not show them working in the period.
type Scanner interface {
	ScanUsers(ctx context.Context, fn func(*warehouse.UserRow) error) error
	LastActivity(ctx context.Context, connector, ownerID string, until time.Time) (time.Time, bool, error)
	ScanCompanies(ctx context.Context, fn func(*warehouse.CompanyRow) error) error
	ScanContacts(ctx context.Context, fn func(*warehouse.ContactRow) error) error
	ScanDeals(ctx context.Context, fn func(*warehouse.DealRow) error) error
	ScanActivities(ctx context.Context, from, to time.Time, fn func(*warehouse.ActivityRow) error) error
}

var _ Scanner = (*warehouse.Store)(nil)

// answerCap is the longest response time counted; a later answer, or none,
// counts as this.
const answerCap = 168 * time.Hour

// dataset is everything one computation reads, whole records as a Source
// without Scanner returns them; users as the warehouse keeps them.
type dataset struct {
	Users      []warehouse.UserRow
	Companies  []connectors.Company
	Contacts   []connectors.Contact
	Deals      []connectors.Deal
	Activities []connectors.Activity
}

// Compute scores period p: it reads the warehouse through src and returns
// every eligible manager's scorecard, with each KPI's value in p.Previous()
// beside it. Activities are read from the start of the previous period to
// 168 hours after p ends, so that answers given after the period still
// count for inbound activity inside it. When src is also a Scanner, Compute
// streams companies, contacts, deals and activities through it and keeps
// only what the two periods need, so its memory grows with the clients and
// the deals of the lookback, not with the whole warehouse.
func Compute(ctx context.Context, src Source, opts Options, p Period) (*Report, error) {
	if !p.Start.Before(p.End) {
		return nil, fmt.Errorf("score period %s..%s: start is not before end", p.Start, p.End)
	}
	from, to := p.Previous().Start, p.End.Add(answerCap)
	sc, ok := src.(Scanner)
	if !ok {
		return computeRecords(ctx, src, opts, p, from, to)
	}

	s := newSettings(opts)
	m := newModel(s, p)
	var users []warehouse.UserRow
	if err := sc.ScanUsers(ctx, func(r *warehouse.UserRow) error { users = append(users, *r); return nil }); err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	m.addUsers(users)
	if err := pipe(ctx, sc.ScanCompanies, func(r *warehouse.CompanyRow) error {
		m.addCompany(r.Connector, r.ID, r.OwnerID, r.KeyClient)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read companies: %w", err)
	}
	if err := pipe(ctx, sc.ScanContacts, func(r *warehouse.ContactRow) error {
		m.addContact(r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read contacts: %w", err)
	}
	m.indexClients()
	if err := pipe(ctx, sc.ScanDeals, func(r *warehouse.DealRow) error {
		m.addDeal(r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read deals: %w", err)
	}
	m.finishDeals()
	scanActs := func(ctx context.Context, fn func(*warehouse.ActivityRow) error) error {
		return sc.ScanActivities(ctx, from, to, fn)
	}
	if err := pipe(ctx, scanActs, m.addActivity); err != nil {
		return nil, fmt.Errorf("read activities: %w", err)
	}
	m.settle()
	if err := m.lastWork(ctx, sc.LastActivity); err != nil {
		return nil, fmt.Errorf("read last activities: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return m.report(), nil
}

// computeRecords is Compute for a Source without Scanner, on whole records.
// The latest activity of a user outside [from, to) comes from a second read
// of every activity up to now, made only when some manager needs it.
func computeRecords(ctx context.Context, src Source, opts Options, p Period, from, to time.Time) (*Report, error) {
	us, err := src.ReadUsers(ctx)
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	d := dataset{Users: make([]warehouse.UserRow, len(us))}
	for i, u := range us {
		d.Users[i] = warehouse.UserRow{Connector: u.Connector, ID: u.ID, Email: u.Email, Name: u.Name, Active: u.Active, Deleted: u.Deleted}
	}
	if d.Companies, err = src.ReadCompanies(ctx); err != nil {
		return nil, fmt.Errorf("read companies: %w", err)
	}
	if d.Contacts, err = src.ReadContacts(ctx); err != nil {
		return nil, fmt.Errorf("read contacts: %w", err)
	}
	if d.Deals, err = src.ReadDeals(ctx); err != nil {
		return nil, fmt.Errorf("read deals: %w", err)
	}
	if d.Activities, err = src.ReadActivities(ctx, from, to); err != nil {
		return nil, fmt.Errorf("read activities: %w", err)
	}
	var all []connectors.Activity
	read := false
	last := func(ctx context.Context, conn, id string, until time.Time) (time.Time, bool, error) {
		if !read {
			if all, err = src.ReadActivities(ctx, time.Time{}, until.Add(time.Microsecond)); err != nil {
				return time.Time{}, false, err
			}
			read = true
		}
		t, ok := lastActivityIn(all, conn, id, until)
		return t, ok, nil
	}
	r, err := computeWith(ctx, &d, opts, p, last)
	if err != nil {
		return nil, fmt.Errorf("read last activities: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return r, nil
}

// lastActivityIn is the latest activity not deleted of user id of conn in
// acts, at or before until.
func lastActivityIn(acts []connectors.Activity, conn, id string, until time.Time) (time.Time, bool) {
	var last time.Time
	ok := false
	for i := range acts {
		a := &acts[i]
		if a.Deleted || a.Connector != conn || a.OwnerID != id || a.OccurredAt.After(until) {
			continue
		}
		if !ok || a.OccurredAt.After(last) {
			last, ok = a.OccurredAt, true
		}
	}
	return last, ok
}

// pipe runs scan on a goroutine of its own and passes its rows, in
// batches, to add on the calling one, so that decoding rows and folding
// them into the model overlap on two cores. It returns add's first error
// (after which the scan is cancelled) or else scan's.
func pipe[R any](ctx context.Context, scan func(context.Context, func(*R) error) error, add func(*R) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	const size = 512
	full := make(chan []R, 4)
	free := make(chan []R, 6)
	scanErr := make(chan error, 1)
	go func() {
		defer close(full)
		send := func(b []R) error {
			select {
			case full <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		b := make([]R, 0, size)
		err := scan(ctx, func(r *R) error {
			b = append(b, *r)
			if len(b) < size {
				return nil
			}
			if err := send(b); err != nil {
				return err
			}
			select {
			case b = <-free:
				b = b[:0]
			default:
				b = make([]R, 0, size)
			}
			return nil
		})
		if err == nil && len(b) > 0 {
			err = send(b)
		}
		scanErr <- err
	}()
	var addErr error
	for b := range full {
		for i := 0; i < len(b) && addErr == nil; i++ {
			if addErr = add(&b[i]); addErr != nil {
				cancel()
			}
		}
		select {
		case free <- b:
		default:
		}
	}
	if err := <-scanErr; addErr == nil {
		return err
	}
	return addErr
}

// computeFrom is the pure core of Compute, on whole records: it feeds them
// to the model as the scans of Compute would, and answers the model's
// questions about users' latest activities from d.Activities.
func computeFrom(d *dataset, opts Options, p Period) *Report {
	last := func(_ context.Context, conn, id string, until time.Time) (time.Time, bool, error) {
		t, ok := lastActivityIn(d.Activities, conn, id, until)
		return t, ok, nil
	}
	r, err := computeWith(context.Background(), d, opts, p, last)
	if err != nil {
		panic(err) // last never fails
	}
	return r
}

// lastActivityFunc is the signature of Scanner.LastActivity.
type lastActivityFunc func(ctx context.Context, connector, ownerID string, until time.Time) (time.Time, bool, error)

func computeWith(ctx context.Context, d *dataset, opts Options, p Period, last lastActivityFunc) (*Report, error) {
	m := newModel(newSettings(opts), p)
	m.addUsers(slices.Clone(d.Users))
	for i := range d.Companies {
		if c := &d.Companies[i]; !c.Deleted {
			m.addCompany(c.Connector, c.ID, c.OwnerID, c.KeyClient != nil && *c.KeyClient)
		}
	}
	for i := range d.Contacts {
		c := &d.Contacts[i]
		if c.Deleted {
			continue
		}
		r := warehouse.ContactRow{Connector: c.Connector, ID: c.ID, CompanyID: c.CompanyID, OwnerID: c.OwnerID}
		if c.NPSScore != nil {
			r.NPSScore.Float64, r.NPSScore.Valid = *c.NPSScore, true
		}
		if c.NPSAt != nil {
			r.NPSAt.Time, r.NPSAt.Valid = *c.NPSAt, true
		}
		m.addContact(&r)
	}
	m.indexClients()
	for i := range d.Deals {
		dl := &d.Deals[i]
		if dl.Deleted {
			continue
		}
		r := warehouse.DealRow{Connector: dl.Connector, ID: dl.ID, Status: dl.Status, Currency: dl.Currency,
			OwnerID: dl.OwnerID, CompanyID: dl.CompanyID, ContactID: dl.ContactID, CreatedAt: dl.CreatedAt}
		if dl.Amount != nil {
			r.Amount.Float64, r.Amount.Valid = *dl.Amount, true
		}
		if dl.Expense != nil {
			r.Expense.Float64, r.Expense.Valid = *dl.Expense, true
		}
		if dl.ClosedAt != nil {
			r.ClosedAt.Time, r.ClosedAt.Valid = *dl.ClosedAt, true
		}
		m.addDeal(&r)
	}
	m.finishDeals()
	// Latest first, as ScanActivities passes them; ties in read order.
	type timed struct {
		at int64
		i  int32
	}
	acts := make([]timed, 0, len(d.Activities))
	for i := range d.Activities {
		if a := &d.Activities[i]; !a.Deleted {
			acts = append(acts, timed{micros(a.OccurredAt), int32(i)})
		}
	}
	slices.SortFunc(acts, func(a, b timed) int { return cmp.Or(cmp.Compare(b.at, a.at), cmp.Compare(a.i, b.i)) })
	for _, t := range acts {
		a := &d.Activities[t.i]
		r := warehouse.ActivityRow{Connector: a.Connector, Type: a.Type, Direction: a.Direction, OwnerID: a.OwnerID,
			CompanyID: a.CompanyID, ContactID: a.ContactID, DealID: a.DealID, OccurredAt: a.OccurredAt, Completed: a.Completed,
			DidNotConnect: a.Connected != nil && !*a.Connected}
		if a.Type == connectors.ActivityTask {
			r.Subject = a.Subject
		}
		if err := m.addActivity(&r); err != nil {
			panic(err) // sorted above, so never out of order
		}
	}
	m.settle()
	if err := m.lastWork(ctx, last); err != nil {
		return nil, err
	}
	return m.report(), nil
}

// settle counts the last activities and completes the figures of both
// periods, after every record.
func (m *model) settle() {
	m.flushActivities()
	m.cur = m.periodStats(0)
	m.before = m.periodStats(1)
}

// ranked reports whether manager i, eligible for P, gets a scorecard: not
// excluded, listed when only listed managers are scored, and, when every
// CRM user of theirs is inactive (or deleted), P starting before they left.
// They left at the latest time the warehouse saw one of their users turn
// inactive when it saw that for each; otherwise (a user first seen
// inactive) at their last own work in the warehouse, and a manager with
// none never worked here and is never ranked. A manager with no user
// record (an owner id the CRM no longer lists) is ranked: nothing says
// they left.
func (m *model) ranked(i int) bool {
	mi := &m.managers[i]
	switch {
	case m.s.excluded[mi.key], m.s.OnlyListed && !mi.listed:
		return false
	case mi.users == 0 || mi.inactive < mi.users:
		return true
	}
	left := mi.leftAt
	if mi.dated < mi.users {
		left = mi.lastWork
	}
	return left != noWork && m.bounds[0][0] < left
}

// lastWork settles, for the inactive managers eligible for P whose leaving
// is their last work and whose records read so far do not show them
// working in P, when their users' latest activities occurred, asking last:
// those may lie outside the activities scanned.
func (m *model) lastWork(ctx context.Context, last lastActivityFunc) error {
	now := time.UnixMicro(m.now).UTC()
	for _, u := range m.accounts {
		mi := &m.managers[u.mgr]
		if !m.cur[u.mgr].eligible || mi.inactive < mi.users || mi.dated == mi.users || m.bounds[0][0] < mi.lastWork {
			continue
		}
		t, ok, err := last(ctx, m.conns[u.conn], u.id, now)
		if err != nil {
			return err
		}
		if ok {
			m.work(u.mgr, micros(t))
		}
	}
	return nil
}

// report finishes the computation, after settle: every ranked eligible
// manager's scorecard for P with the values of P-1 beside it, best score
// first.
func (m *model) report() *Report {
	p, prev := m.p, m.prev
	cur, before := m.cur, m.before

	r := &Report{Period: p, Currency: m.s.Currency, Managers: make([]Scorecard, 0)}
	for i, mi := range m.managers {
		if !cur[i].eligible || !m.ranked(i) {
			continue
		}
		if mi.name == "" {
			// Neither the config nor any CRM has a name: show the key.
			mi.name = mi.key
		}
		sc := Scorecard{Manager: mi.key, Name: mi.name, Team: mi.team, Email: mi.email, SlackID: mi.slackID, KPIs: make(map[string]*KPI, len(kpi.Keys))}
		m.markSkipped(cur[i], before[i])
		nowVals := m.kpiValues(&cur[i], p, mi.key)
		prevVals := m.kpiValues(&before[i], prev, mi.key)
		var sum, weights float64
		for _, def := range kpi.Table {
			key := def.Key
			v := nowVals[key]
			target, weight := m.s.target(mi.team, key)
			k := &KPI{Label: def.Label, Unit: def.Unit, LowerIsBetter: def.LowerIsBetter,
				Value: v.value, Target: target, Weight: weight, Previous: prevVals[key].value, Details: v.details, Manual: v.manual}
			if v.value == nil {
				k.Reason = ptr(v.reason)
			} else {
				a := attainment(*v.value, target, def.LowerIsBetter, m.s.Cap)
				k.Attainment = &a
				if weight > 0 {
					sum += weight * a
					weights += weight
				}
			}
			sc.KPIs[key] = k
		}
		if weights > 0 {
			score := sum / weights
			sc.Score = &score
		}
		sc.Status = status(sc.Score)
		r.Managers = append(r.Managers, sc)
	}
	slices.SortFunc(r.Managers, func(a, b Scorecard) int {
		switch {
		case a.Score == nil && b.Score != nil:
			return 1
		case a.Score != nil && b.Score == nil:
			return -1
		case a.Score != nil && *a.Score != *b.Score:
			return cmp.Compare(*b.Score, *a.Score)
		}
		return strings.Compare(a.Manager, b.Manager)
	})
	r.Warnings = append(m.refWarnings(), m.warnings()...)
	return r
}

// refWarnings names, in the order of Options.Refs, each manager key of the
// config that matches no CRM user: most likely a typo, or a user of a CRM
// not synced yet.
func (m *model) refWarnings() []string {
	var w []string
	for _, ref := range m.s.Refs {
		key := managerKey(ref.Key)
		if _, ok := m.mgrIndex[key]; !ok {
			w = append(w, fmt.Sprintf("%s: %s matches no CRM user", ref.Where, key))
		}
	}
	return w
}

// markSkipped records the deals left out of a scorecard's money figures.
func (m *model) markSkipped(ss ...stats) {
	for _, s := range ss {
		for _, i := range s.skipped {
			cur := strings.ToUpper(strings.TrimSpace(m.currencies[m.deals[i].cur]))
			if m.skipped[cur] == nil {
				m.skipped[cur] = map[int]bool{}
			}
			m.skipped[cur][i] = true
		}
	}
}

// fsum adds money without ever reaching ±Inf: absurd CRM amounts saturate
// at the largest float instead of turning a KPI into NaN.
func fsum(a, b float64) float64 {
	return max(-math.MaxFloat64, min(a+b, math.MaxFloat64))
}

// attainment is KPIS.md's attainment in percent, clamped to [0, cap]. A
// target of 0 or below never divides: where higher is better any positive
// value attains the cap, where lower is better only 0 does.
func attainment(v, target float64, lower bool, cap float64) float64 {
	var a float64
	switch {
	case lower && v <= 0:
		a = cap
	case lower && target <= 0:
		a = 0
	case lower:
		a = 100 * target / v
	case v <= 0:
		a = 0
	case target <= 0:
		a = cap
	default:
		a = 100 * v / target
	}
	if math.IsNaN(a) {
		return 0
	}
	return min(max(a, 0), cap)
}

// status is decided on the score itself, unrounded: 99.96 is amber. The
// table and Slack cut, not round, scores for people, so they never show
// 100.0 beside amber.
func status(score *float64) string {
	if score == nil {
		return StatusNone
	}
	switch s := *score; {
	case s >= 100:
		return StatusGreen
	case s >= 80:
		return StatusAmber
	}
	return StatusRed
}

// monthShare is how many months p is worth: for each calendar month it
// touches, the days of p in that month over the days of the month.
func monthShare(p Period, loc *time.Location) float64 {
	if loc == nil {
		loc = p.Start.Location()
	}
	day := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	start, end := day(p.Start), day(p.End)
	var share float64
	for ms := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC); ms.Before(end); {
		me := ms.AddDate(0, 1, 0)
		from, to := maxTime(ms, start), minTime(me, end)
		share += to.Sub(from).Hours() / me.Sub(ms).Hours()
		ms = me
	}
	return share
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// kpiValue is one KPI's value before targets: nil with a reason when there
// is no data.
type kpiValue struct {
	value   *float64
	reason  string
	details map[string]any
	manual  bool
}

// The reasons shown for "n/a".
const (
	reasonNoAnswers      = "no NPS answers in the period"
	reasonNoActive       = "no active clients at the start of the period"
	reasonNoKeyClients   = "no key clients"
	reasonNoKeyRevenue   = "no key-client revenue in the previous period"
	reasonNoRevenue      = "no revenue in the period"
	reasonNoInbound      = "no inbound activity in the period"
	reasonNoClientServed = "no client served in the period"
	reasonOutOfRange     = "figures too large to compute"
)

func val(v float64) *float64 { return &v }

// kpiValues turns one manager's stats into the nine values, manual figures
// for p applied.
func (m *model) kpiValues(s *stats, p Period, manager string) map[string]kpiValue {
	out := make(map[string]kpiValue, len(kpi.Keys))

	sat := kpiValue{details: map[string]any{"answers": s.answers, "promoters": s.promoters, "detractors": s.detractors}}
	if s.answers > 0 {
		sat.value = val(100 * float64(s.promoters-s.detractors) / float64(s.answers))
	} else {
		sat.reason = reasonNoAnswers
	}
	out[kpi.Satisfaction] = sat

	ret := kpiValue{details: map[string]any{"active_start": s.activeStart, "retained": s.retained}}
	if s.activeStart > 0 {
		ret.value = val(100 * float64(s.retained) / float64(s.activeStart))
	} else {
		ret.reason = reasonNoActive
	}
	out[kpi.Retention] = ret

	kg := kpiValue{details: map[string]any{"key_clients": s.keyClients, "revenue": s.keyRev, "revenue_previous": s.keyRevPrev}}
	switch {
	case s.keyClients == 0:
		kg.reason = reasonNoKeyClients
	case s.keyRevPrev <= 0:
		kg.reason = reasonNoKeyRevenue
	default:
		kg.value = val(100 * (s.keyRev - s.keyRevPrev) / s.keyRevPrev)
	}
	out[kpi.KeyClientGrowth] = kg

	pen := kpiValue{details: map[string]any{"revenue": s.revenue, "expansion_revenue": s.expansionRev}}
	if s.revenue > 0 {
		pen.value = val(100 * s.expansionRev / s.revenue)
	} else {
		pen.reason = reasonNoRevenue
	}
	out[kpi.Penetration] = pen

	var winRate any
	if s.won+s.lost > 0 {
		winRate = 100 * float64(s.won) / float64(s.won+s.lost)
	}
	out[kpi.ClosedWon] = kpiValue{value: val(float64(s.won)), details: map[string]any{"won": s.won, "lost": s.lost, "win_rate": winRate, "revenue": s.revenue}}

	rt := kpiValue{details: map[string]any{"inbound": len(s.responses), "unanswered": s.unanswered}}
	if len(s.responses) > 0 {
		rt.value = val(median(s.responses))
	} else {
		rt.reason = reasonNoInbound
	}
	out[kpi.ResponseTime] = rt

	out[kpi.TeamContribution] = kpiValue{value: val(float64(s.tasks)), details: map[string]any{"tasks": s.tasks, "manual": false}}

	out[kpi.NewDeals] = kpiValue{value: val(float64(s.newDeals)), details: map[string]any{}}

	cpc := kpiValue{details: map[string]any{"cost": s.cost, "clients": len(s.served)}}
	if len(s.served) > 0 {
		cpc.value = val(s.cost / float64(len(s.served)))
	} else {
		cpc.reason = reasonNoClientServed
	}
	out[kpi.CostPerClient] = cpc

	for key, k := range out {
		if k.value != nil && (math.IsNaN(*k.value) || math.IsInf(*k.value, 0)) {
			k.value, k.reason = nil, reasonOutOfRange
			out[key] = k
		}
	}

	spec := p.Spec()
	for _, key := range kpi.Keys {
		if v, ok := m.s.manualValue(spec, manager, key); ok {
			k := out[key]
			k.value, k.reason, k.manual = val(v), "", true
			if key == kpi.TeamContribution {
				k.details["manual"] = true
			}
			out[key] = k
		}
	}
	return out
}

// median of xs (not empty); sorts xs.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

func (m *model) warnings() []string {
	curs := make([]string, 0, len(m.skipped))
	for c := range m.skipped {
		curs = append(curs, c)
	}
	slices.Sort(curs)
	var w []string
	for _, c := range curs {
		if c == "" { // sorted first
			w = append(w, fmt.Sprintf("%d won deal(s) with unknown currency left out of revenue and cost figures", len(m.skipped[c])))
			continue
		}
		w = append(w, fmt.Sprintf("no fx rate for %s into %s: %d won deal(s) left out of revenue and cost figures", c, m.s.Currency, len(m.skipped[c])))
	}
	return w
}
