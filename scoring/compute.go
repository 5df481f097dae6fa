package scoring

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/scoring/kpi"
	"github.com/crmkpi/crmkpi/warehouse/rows"
)

// Source is the part of the warehouse that scoring reads: the Scan methods
// of *warehouse.Store, which stream the few columns scoring needs, row by
// row, so that Compute keeps a compact form of the warehouse instead of
// every record whole. The rows and their contracts are documented in
// package rows. ScanActivities must pass the activities latest first.
// LastActivity is asked only for the users of inactive managers whose
// deactivation the warehouse did not see, when the activities scanned do
// not show them working in the period.
type Source interface {
	ScanUsers(ctx context.Context, fn func(*rows.User) error) error
	LastActivity(ctx context.Context, connector, ownerID string, until time.Time) (time.Time, bool, error)
	ScanCompanies(ctx context.Context, fn func(*rows.Company) error) error
	ScanContacts(ctx context.Context, fn func(*rows.Contact) error) error
	ScanDeals(ctx context.Context, fn func(*rows.Deal) error) error
	ScanActivities(ctx context.Context, from, to time.Time, fn func(*rows.Activity) error) error
}

// answerCap is the longest response time counted; a later answer, or none,
// counts as this.
const answerCap = 168 * time.Hour

// Compute scores period p: it reads the warehouse through src and returns
// every eligible manager's scorecard, with each KPI's value in p.Previous()
// beside it. Activities are read from the start of the previous period to
// 168 hours after p ends, so that answers given after the period still
// count for inbound activity inside it. Compute streams companies,
// contacts, deals and activities and keeps only what the two periods need,
// so its memory grows with the clients and the deals of the lookback, not
// with the whole warehouse.
func Compute(ctx context.Context, src Source, opts Options, p Period) (*Report, error) {
	m, err := run(ctx, src, src.ScanActivities, opts, p, nil)
	if err != nil {
		return nil, err
	}
	return m.report(), nil
}

// run reads the warehouse through src into a model of period p and
// settles every manager's figures; scanActs reads the activities
// (ScanActivities, or explain's ScanActivityRecords, the same rows with
// their ids). tr, when not nil, traces one manager for Explain.
func run(ctx context.Context, src Source, scanActs func(context.Context, time.Time, time.Time, func(*rows.Activity) error) error,
	opts Options, p Period, tr *tracer) (*model, error) {
	if !p.Start.Before(p.End) {
		return nil, fmt.Errorf("score period %s..%s: start is not before end", p.Start, p.End)
	}
	from, to := p.Previous().Start, p.End.Add(answerCap)
	s := newSettings(opts)
	m := newModel(s, p)
	m.tr = tr
	var users []rows.User
	if err := src.ScanUsers(ctx, func(r *rows.User) error { users = append(users, *r); return nil }); err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	m.addUsers(users)
	if err := pipe(ctx, src.ScanCompanies, func(r *rows.Company) error {
		m.addCompany(r.Connector, r.ID, r.OwnerID, r.KeyClient)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read companies: %w", err)
	}
	if err := pipe(ctx, src.ScanContacts, func(r *rows.Contact) error {
		m.addContact(r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read contacts: %w", err)
	}
	m.indexClients()
	if err := pipe(ctx, src.ScanDeals, func(r *rows.Deal) error {
		m.addDeal(r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read deals: %w", err)
	}
	m.finishDeals()
	acts := func(ctx context.Context, fn func(*rows.Activity) error) error {
		return scanActs(ctx, from, to, fn)
	}
	if err := pipe(ctx, acts, m.addActivity); err != nil {
		return nil, fmt.Errorf("read activities: %w", err)
	}
	m.settle()
	if err := m.lastWork(ctx, src.LastActivity); err != nil {
		return nil, fmt.Errorf("read last activities: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return m, nil
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

// lastActivityFunc is the signature of Source.LastActivity.
type lastActivityFunc func(ctx context.Context, connector, ownerID string, until time.Time) (time.Time, bool, error)

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
func (m *model) ranked(i int) bool { return m.unranked(i) == "" }

// unranked is why manager i gets no scorecard by ranked's rules, "" when
// it gets one.
func (m *model) unranked(i int) string {
	mi := &m.managers[i]
	switch {
	case m.s.excluded[mi.key]:
		return reasonExcluded
	case m.s.OnlyListed && !mi.listed:
		return reasonNotListed
	case mi.users == 0 || mi.inactive < mi.users:
		return ""
	}
	left := mi.leftAt
	if mi.dated < mi.users {
		left = mi.lastWork
	}
	if left != noWork && m.bounds[0][0] < left {
		return ""
	}
	return reasonLeft
}

// Why a manager gets no scorecard, as Explain says it.
const (
	reasonExcluded   = "excluded in the config (scoring.exclude): no scorecard"
	reasonNotListed  = "not listed under managers: while scoring.only_listed is on: no scorecard"
	reasonLeft       = "deactivated in the CRM before the period: no scorecard"
	reasonIneligible = "no scorecard for the period: no deal of theirs created or closed in it, no activity of theirs in it, no client of theirs active at its start"
)

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
	factor, current := paceFactor(p, m.s.Location, m.s.now)
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
			if current {
				k.Pace, k.Running = pace(key, v, &cur[i], factor), true
			}
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
		sc.Status = StatusOf(sc.Score)
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

// kpiValues turns one manager's stats into the value of every KPI, manual
// figures for p applied.
func (m *model) kpiValues(s *stats, p Period, manager string) map[string]kpiValue {
	out := make(map[string]kpiValue, len(kpi.Keys))
	spec := p.Spec()
	for _, key := range kpi.Keys {
		k := measures[key].value(s)
		if k.value != nil && (math.IsNaN(*k.value) || math.IsInf(*k.value, 0)) {
			k.value, k.reason = nil, reasonOutOfRange
		}
		if v, ok := m.s.manualValue(spec, manager, key); ok {
			k.value, k.reason, k.manual = val(v), "", true
			// A KPI whose details say whether it was entered by hand.
			if _, ok := k.details[kpi.DetailManual]; ok {
				k.details[kpi.DetailManual] = true
			}
		}
		out[key] = k
	}
	return out
}

func satisfactionValue(s *stats) kpiValue {
	k := kpiValue{details: map[string]any{kpi.DetailAnswers: s.answers, kpi.DetailPromoters: s.promoters, kpi.DetailDetractors: s.detractors}}
	if s.answers > 0 {
		k.value = val(100 * float64(s.promoters-s.detractors) / float64(s.answers))
	} else {
		k.reason = reasonNoAnswers
	}
	return k
}

func retentionValue(s *stats) kpiValue {
	k := kpiValue{details: map[string]any{kpi.DetailActiveStart: s.activeStart, kpi.DetailRetained: s.retained}}
	if s.activeStart > 0 {
		k.value = val(100 * float64(s.retained) / float64(s.activeStart))
	} else {
		k.reason = reasonNoActive
	}
	return k
}

func keyClientGrowthValue(s *stats) kpiValue {
	k := kpiValue{details: map[string]any{kpi.DetailKeyClients: s.keyClients, kpi.DetailRevenue: s.keyRev, kpi.DetailRevenuePrevious: s.keyRevPrev}}
	switch {
	case s.keyClients == 0:
		k.reason = reasonNoKeyClients
	case s.keyRevPrev <= 0:
		k.reason = reasonNoKeyRevenue
	default:
		k.value = val(100 * (s.keyRev - s.keyRevPrev) / s.keyRevPrev)
	}
	return k
}

// keyClientGrowthPace projects the revenue of the period so far, not the
// growth, and compares it with the whole previous period's.
func keyClientGrowthPace(_ float64, s *stats, factor float64) float64 {
	return 100 * (s.keyRev*factor - s.keyRevPrev) / s.keyRevPrev
}

func penetrationValue(s *stats) kpiValue {
	k := kpiValue{details: map[string]any{kpi.DetailRevenue: s.revenue, kpi.DetailExpansionRevenue: s.expansionRev}}
	if s.revenue > 0 {
		k.value = val(100 * s.expansionRev / s.revenue)
	} else {
		k.reason = reasonNoRevenue
	}
	return k
}

func closedWonValue(s *stats) kpiValue {
	var winRate any
	if s.won+s.lost > 0 {
		winRate = 100 * float64(s.won) / float64(s.won+s.lost)
	}
	return kpiValue{value: val(float64(s.won)), details: map[string]any{kpi.DetailWon: s.won, kpi.DetailLost: s.lost, kpi.DetailWinRate: winRate, kpi.DetailRevenue: s.revenue}}
}

func responseTimeValue(s *stats) kpiValue {
	k := kpiValue{details: map[string]any{kpi.DetailInbound: len(s.responses), kpi.DetailUnanswered: s.unanswered}}
	if len(s.responses) > 0 {
		k.value = val(median(s.responses))
	} else {
		k.reason = reasonNoInbound
	}
	return k
}

func teamContributionValue(s *stats) kpiValue {
	return kpiValue{value: val(float64(s.tasks)), details: map[string]any{kpi.DetailTasks: s.tasks, kpi.DetailManual: false}}
}

func newDealsValue(s *stats) kpiValue {
	return kpiValue{value: val(float64(s.newDeals)), details: map[string]any{}}
}

func costPerClientValue(s *stats) kpiValue {
	k := kpiValue{details: map[string]any{kpi.DetailCost: s.cost, kpi.DetailClients: len(s.served)}}
	if len(s.served) > 0 {
		k.value = val(s.cost / float64(len(s.served)))
	} else {
		k.reason = reasonNoClientServed
	}
	return k
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
