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
)

// Source is the part of the warehouse that scoring reads; *warehouse.Store
// implements it. Every method returns the records of all connectors with
// Meta.Connector filled in. Deleted records may be left out, except users,
// which come with User.Deleted set; scoring skips deleted records itself
// anyway.
type Source interface {
	ReadUsers(ctx context.Context) ([]connectors.User, error)
	ReadCompanies(ctx context.Context) ([]connectors.Company, error)
	ReadContacts(ctx context.Context) ([]connectors.Contact, error)
	ReadDeals(ctx context.Context) ([]connectors.Deal, error)
	// ReadActivities returns the activities with occurred_at in [from, to).
	ReadActivities(ctx context.Context, from, to time.Time) ([]connectors.Activity, error)
}

// answerCap is the longest response time counted; a later answer, or none,
// counts as this.
const answerCap = 168 * time.Hour

// dataset is everything one computation reads.
type dataset struct {
	Users      []connectors.User
	Companies  []connectors.Company
	Contacts   []connectors.Contact
	Deals      []connectors.Deal
	Activities []connectors.Activity
}

// Compute scores period p: it reads the warehouse through src and returns
// every eligible manager's scorecard, with each KPI's value in p.Previous()
// beside it. Activities are read from the start of the previous period to
// 168 hours after p ends, so that answers given after the period still
// count for inbound activity inside it.
func Compute(ctx context.Context, src Source, opts Options, p Period) (*Report, error) {
	if !p.Start.Before(p.End) {
		return nil, fmt.Errorf("score period %s..%s: start is not before end", p.Start, p.End)
	}
	var d dataset
	var err error
	if d.Users, err = src.ReadUsers(ctx); err != nil {
		return nil, fmt.Errorf("read users: %w", err)
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
	from, to := p.Previous().Start, p.End.Add(answerCap)
	if d.Activities, err = src.ReadActivities(ctx, from, to); err != nil {
		return nil, fmt.Errorf("read activities: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return computeFrom(&d, opts, p), nil
}

type ref struct{ conn, id string }

type clientKey struct {
	conn    string
	contact bool // a contact client; else a company
	id      string
}

func (k clientKey) less(o clientKey) int {
	return cmp.Or(strings.Compare(k.conn, o.conn), cmp.Compare(b2i(k.contact), b2i(o.contact)), strings.Compare(k.id, o.id))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

type managerInfo struct {
	key, name, team, email, slackID string
}

type clientInfo struct {
	key     clientKey
	owner   int // manager index, -1 for none
	flagged bool
	// lastDeal is the most recently created deal of the client, for the
	// owner fallback; -1 for none.
	lastDeal int
	// won lists the client's won deals with a close time, in close order.
	won []int
}

type dealInfo struct {
	d       *connectors.Deal
	client  int
	owner   int
	closed  time.Time // zero when the deal has no close time
	hasShut bool      // won or lost with a close time
	won     bool
	lost    bool
	isNew   bool // won, and the client's first won deal
}

type actInfo struct {
	a      *connectors.Activity
	client int
	owner  int
}

type mgrClient struct{ client, mgr int }

// model is the dataset resolved into managers, clients and indexes, shared
// by the computations of P and P-1.
type model struct {
	s        *settings
	managers []managerInfo
	mgrIndex map[string]int // manager key → index
	userMgr  map[ref]int
	clients  []clientInfo
	clientIx map[clientKey]int
	byOwner  [][]int // manager → clients it owns, in key order
	deals    []dealInfo
	acts     []actInfo
	contacts []*connectors.Contact
	// contactClient is the client whose contacts' NPS answers a contact's
	// answer belongs to.
	contactClient []int
	// answers holds, per client and manager, the times of the manager's
	// answers on the client, sorted.
	answers map[mgrClient][]time.Time
	// skipped collects, per currency with no rate, the won deals left out
	// of a money figure on a scorecard.
	skipped map[string]map[int]bool
}

// computeFrom is the pure core of Compute.
func computeFrom(d *dataset, opts Options, p Period) *Report {
	m := buildModel(d, newSettings(opts))
	prev := p.Previous()
	cur := m.periodStats(p)
	before := m.periodStats(prev)

	r := &Report{Period: p, Currency: m.s.Currency, Managers: make([]Scorecard, 0)}
	for i, mi := range m.managers {
		if !cur[i].eligible {
			continue
		}
		if mi.name == "" {
			// Neither the config nor any CRM has a name: show the key.
			mi.name = mi.key
		}
		sc := Scorecard{Manager: mi.key, Name: mi.name, Team: mi.team, Email: mi.email, SlackID: mi.slackID, KPIs: make(map[string]*KPI, len(KPIKeys))}
		m.markSkipped(cur[i], before[i])
		nowVals := m.kpiValues(&cur[i], p, mi.key)
		prevVals := m.kpiValues(&before[i], prev, mi.key)
		var sum, weights float64
		for _, key := range KPIKeys {
			v := nowVals[key]
			target, weight := m.s.target(mi.team, key)
			k := &KPI{Value: v.value, Target: target, Weight: weight, Previous: prevVals[key].value, Details: v.details, Manual: v.manual}
			if v.value == nil {
				k.Reason = ptr(v.reason)
			} else {
				a := attainment(*v.value, target, lowerIsBetter[key], m.s.Cap)
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
	r.Warnings = m.warnings()
	return r
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

// status is decided on the score as it is shown, rounded to one decimal, so
// a score printed as 100.0 is never amber.
func status(score *float64) string {
	if score == nil {
		return StatusNone
	}
	switch s := round1(*score); {
	case s >= 100:
		return StatusGreen
	case s >= 80:
		return StatusAmber
	}
	return StatusRed
}

func buildModel(d *dataset, s *settings) *model {
	m := &model{s: s, mgrIndex: map[string]int{}, userMgr: map[ref]int{}, clientIx: map[clientKey]int{},
		answers: map[mgrClient][]time.Time{}, skipped: map[string]map[int]bool{}}

	// Managers. Users are taken in (connector, id) order so that the CRM
	// name a merged manager gets does not depend on read order. Deleted
	// users stay managers: their deals and clients are still theirs.
	users := make([]*connectors.User, len(d.Users))
	for i := range d.Users {
		users[i] = &d.Users[i]
	}
	slices.SortFunc(users, func(a, b *connectors.User) int {
		return cmp.Or(strings.Compare(a.Connector, b.Connector), strings.Compare(a.ID, b.ID))
	})
	for _, u := range users {
		email := strings.ToLower(strings.TrimSpace(u.Email))
		key := email
		if key == "" {
			key = u.Connector + ":" + u.ID
		}
		i := m.manager(key, email)
		if m.managers[i].name == "" {
			m.managers[i].name = strings.TrimSpace(u.Name)
		}
		m.userMgr[ref{u.Connector, u.ID}] = i
	}

	companies := make(map[ref]*connectors.Company, len(d.Companies))
	for i := range d.Companies {
		c := &d.Companies[i]
		if !c.Deleted {
			companies[ref{c.Connector, c.ID}] = c
		}
	}
	contacts := make(map[ref]*connectors.Contact, len(d.Contacts))
	for i := range d.Contacts {
		c := &d.Contacts[i]
		if !c.Deleted {
			contacts[ref{c.Connector, c.ID}] = c
		}
	}
	// Every company is a client, so that key-client flags and NPS answers
	// count for companies with no deal yet; a contact with no company is a
	// client of its own. Created in key order so indexes are stable.
	keys := make([]clientKey, 0, len(companies)+len(contacts))
	for r := range companies {
		keys = append(keys, clientKey{conn: r.conn, id: r.id})
	}
	for r, c := range contacts {
		if companies[ref{r.conn, c.CompanyID}] == nil {
			keys = append(keys, clientKey{conn: r.conn, contact: true, id: r.id})
		}
	}
	slices.SortFunc(keys, clientKey.less)
	for _, k := range keys {
		m.client(k)
	}

	// A reference to a company or contact the warehouse does not have
	// (deleted, or not synced yet) is treated as empty.
	dealClient := func(conn, companyID, contactID string) int {
		if companyID != "" && companies[ref{conn, companyID}] != nil {
			return m.client(clientKey{conn: conn, id: companyID})
		}
		if contactID != "" && contacts[ref{conn, contactID}] != nil {
			return m.client(clientKey{conn: conn, contact: true, id: contactID})
		}
		return -1
	}

	dealIx := make(map[ref]int, len(d.Deals))
	m.deals = make([]dealInfo, 0, len(d.Deals))
	m.acts = make([]actInfo, 0, len(d.Activities))
	m.contacts = make([]*connectors.Contact, 0, len(d.Contacts))
	m.contactClient = make([]int, 0, len(d.Contacts))
	for i := range d.Deals {
		dl := &d.Deals[i]
		if dl.Deleted {
			continue
		}
		di := dealInfo{d: dl, client: dealClient(dl.Connector, dl.CompanyID, dl.ContactID), owner: m.owner(dl.Connector, dl.OwnerID),
			won: dl.Status == connectors.StatusWon, lost: dl.Status == connectors.StatusLost}
		if dl.ClosedAt != nil && (di.won || di.lost) {
			di.closed, di.hasShut = *dl.ClosedAt, true
		}
		dealIx[ref{dl.Connector, dl.ID}] = len(m.deals)
		m.deals = append(m.deals, di)
	}
	for i := range m.deals {
		di := &m.deals[i]
		if di.client < 0 {
			continue
		}
		c := &m.clients[di.client]
		if c.lastDeal < 0 || laterCreated(di.d, m.deals[c.lastDeal].d) {
			c.lastDeal = i
		}
		if di.won && di.hasShut {
			c.won = append(c.won, i)
		}
	}
	for ci := range m.clients {
		c := &m.clients[ci]
		slices.SortFunc(c.won, func(a, b int) int {
			da, db := m.deals[a].d, m.deals[b].d
			return cmp.Or(m.deals[a].closed.Compare(m.deals[b].closed), da.CreatedAt.Compare(db.CreatedAt), strings.Compare(da.ID, db.ID))
		})
		if len(c.won) > 0 {
			// Of won deals closed at the same instant, the first in
			// (close, created, id) order is the new business, so a client
			// never brings two new-business deals.
			m.deals[c.won[0]].isNew = true
		}
		// Client owner.
		var ownerID string
		if c.key.contact {
			ownerID = contacts[ref{c.key.conn, c.key.id}].OwnerID
		} else {
			co := companies[ref{c.key.conn, c.key.id}]
			ownerID = co.OwnerID
			c.flagged = s.KeyClientConnectors[c.key.conn] && co.KeyClient != nil && *co.KeyClient
		}
		if ownerID != "" {
			c.owner = m.owner(c.key.conn, ownerID)
		} else if c.lastDeal >= 0 {
			c.owner = m.deals[c.lastDeal].owner
		}
	}

	// The client of each contact's answers and activities: its company,
	// else itself.
	contactCli := make(map[ref]int, len(contacts))
	for i := range d.Contacts {
		c := &d.Contacts[i]
		if c.Deleted {
			continue
		}
		ci, ok := m.clientIx[clientKey{conn: c.Connector, id: c.CompanyID}]
		if c.CompanyID == "" || !ok {
			ci = m.client(clientKey{conn: c.Connector, contact: true, id: c.ID})
		}
		contactCli[ref{c.Connector, c.ID}] = ci
		m.contacts = append(m.contacts, c)
		m.contactClient = append(m.contactClient, ci)
	}

	// Every company is a client already, so a company id found in clientIx
	// is a company the warehouse has.
	for i := range d.Activities {
		a := &d.Activities[i]
		if a.Deleted {
			continue
		}
		client := -1
		if ci, ok := m.clientIx[clientKey{conn: a.Connector, id: a.CompanyID}]; ok && a.CompanyID != "" {
			client = ci
		} else if di, ok := dealIx[ref{a.Connector, a.DealID}]; ok && a.DealID != "" && m.deals[di].client >= 0 {
			client = m.deals[di].client
		} else if ci, ok := contactCli[ref{a.Connector, a.ContactID}]; ok && a.ContactID != "" {
			client = ci
		}
		ai := actInfo{a: a, client: client, owner: m.owner(a.Connector, a.OwnerID)}
		m.acts = append(m.acts, ai)
		if ai.client >= 0 && ai.owner >= 0 && isAnswer(a) {
			k := mgrClient{ai.client, ai.owner}
			m.answers[k] = append(m.answers[k], a.OccurredAt)
		}
	}
	for _, ts := range m.answers {
		slices.SortFunc(ts, time.Time.Compare)
	}

	m.byOwner = make([][]int, len(m.managers))
	for ci, c := range m.clients {
		if c.owner >= 0 {
			m.byOwner[c.owner] = append(m.byOwner[c.owner], ci)
		}
	}
	return m
}

// laterCreated reports whether a was created after b, ids breaking ties.
func laterCreated(a, b *connectors.Deal) bool {
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID)) > 0
}

// isAnswer reports whether a can answer an inbound activity: an outbound
// call, e-mail or message, or a meeting in either direction.
func isAnswer(a *connectors.Activity) bool {
	switch a.Type {
	case connectors.ActivityCall, connectors.ActivityEmail, connectors.ActivityMessage:
		return a.Direction == connectors.DirectionOutbound
	case connectors.ActivityMeeting:
		return true
	}
	return false
}

func isInbound(a *connectors.Activity) bool {
	switch a.Type {
	case connectors.ActivityCall, connectors.ActivityEmail, connectors.ActivityMessage:
		return a.Direction == connectors.DirectionInbound
	}
	return false
}

// manager returns the index of the manager with key, adding it.
func (m *model) manager(key, email string) int {
	if i, ok := m.mgrIndex[key]; ok {
		return i
	}
	mi := managerInfo{key: key, email: email}
	if cfg, ok := m.s.managers[email]; ok && email != "" {
		mi.name, mi.team, mi.slackID = strings.TrimSpace(cfg.Name), cfg.Team, cfg.SlackID
	}
	m.mgrIndex[key] = len(m.managers)
	m.managers = append(m.managers, mi)
	return len(m.managers) - 1
}

// owner maps a CRM user id to a manager index; -1 when empty. An id with no
// user record (a user the CRM no longer lists) becomes a manager keyed
// CONNECTOR:USER_ID, as a user without e-mail does.
func (m *model) owner(conn, userID string) int {
	if userID == "" {
		return -1
	}
	if i, ok := m.userMgr[ref{conn, userID}]; ok {
		return i
	}
	i := m.manager(conn+":"+userID, "")
	m.userMgr[ref{conn, userID}] = i
	return i
}

func (m *model) client(k clientKey) int {
	if i, ok := m.clientIx[k]; ok {
		return i
	}
	m.clientIx[k] = len(m.clients)
	m.clients = append(m.clients, clientInfo{key: k, owner: -1, lastDeal: -1})
	return len(m.clients) - 1
}

// revenue is a won deal's amount in the reporting currency; ok is false
// when its currency has no rate. A missing amount is 0.
func (m *model) revenue(di *dealInfo) (float64, bool) {
	return m.money(di.d.Amount, di.d.Currency)
}

func (m *model) expense(di *dealInfo) (float64, bool) {
	return m.money(di.d.Expense, di.d.Currency)
}

func (m *model) money(v *float64, currency string) (float64, bool) {
	r, ok := m.s.rate(currency)
	if !ok {
		return 0, false
	}
	if v == nil || math.IsNaN(*v) || math.IsInf(*v, 0) {
		return 0, true
	}
	x := *v * r
	if math.IsInf(x, 0) {
		return 0, true
	}
	return x, true
}

// active reports whether client c has a won deal closed in [t-lookback, t).
func (m *model) active(c int, t time.Time) bool {
	won := m.clients[c].won
	from := t.Add(-m.s.lookback)
	i, _ := slices.BinarySearchFunc(won, from, func(d int, t time.Time) int { return m.deals[d].closed.Compare(t) })
	return i < len(won) && m.deals[won[i]].closed.Before(t)
}

// clientRevenue sums the revenue of client c's won deals closed in
// [from, to), whoever owns them, noting deals left out for want of a rate.
func (m *model) clientRevenue(c int, from, to time.Time, skip *[]int) float64 {
	won := m.clients[c].won
	i, _ := slices.BinarySearchFunc(won, from, func(d int, t time.Time) int { return m.deals[d].closed.Compare(t) })
	var sum float64
	for ; i < len(won) && m.deals[won[i]].closed.Before(to); i++ {
		v, ok := m.revenue(&m.deals[won[i]])
		if !ok {
			*skip = append(*skip, won[i])
		}
		sum = fsum(sum, v)
	}
	return sum
}

// fsum adds money without ever reaching ±Inf: absurd CRM amounts saturate
// at the largest float instead of turning a KPI into NaN.
func fsum(a, b float64) float64 {
	return max(-math.MaxFloat64, min(a+b, math.MaxFloat64))
}

func in(t time.Time, p Period) bool { return !t.Before(p.Start) && t.Before(p.End) }

// stats holds one manager's raw figures for one period.
type stats struct {
	eligible bool

	answers, promoters, detractors int

	activeStart, retained int

	keyClients         int
	keyRev, keyRevPrev float64

	won, lost, newDeals   int
	revenue, expansionRev float64

	responses  []float64
	unanswered int

	tasks int

	cost   float64
	served map[int]bool

	// skipped lists won deals left out of this manager's money figures for
	// want of a rate; they become warnings if the manager has a scorecard.
	skipped []int
}

// periodStats computes every manager's figures for p.
func (m *model) periodStats(p Period) []stats {
	st := make([]stats, len(m.managers))
	prev := p.Previous()

	// Satisfaction: answers given in P by contacts of each manager's clients.
	for i, c := range m.contacts {
		ci := m.contactClient[i]
		if c.NPSScore == nil || c.NPSAt == nil || ci < 0 || m.clients[ci].owner < 0 || !in(*c.NPSAt, p) {
			continue
		}
		score := *c.NPSScore
		if !(score >= 0 && score <= 10) {
			continue
		}
		s := &st[m.clients[ci].owner]
		s.answers++
		switch {
		case score >= 9:
			s.promoters++
		case score <= 6:
			s.detractors++
		}
	}

	// Retention, key clients and eligibility by active clients.
	for mi, owned := range m.byOwner {
		s := &st[mi]
		type ranked struct {
			c   int
			rev float64
		}
		var keys []int
		var top []ranked
		for _, c := range owned {
			if m.active(c, p.Start) {
				s.activeStart++
				s.eligible = true
				if m.active(c, p.End) {
					s.retained++
				}
			}
			cl := &m.clients[c]
			if m.s.KeyClientConnectors[cl.key.conn] {
				if cl.flagged {
					keys = append(keys, c)
				}
				continue
			}
			if rev := m.clientRevenue(c, p.Start.Add(-m.s.lookback), p.Start, &s.skipped); rev > 0 {
				top = append(top, ranked{c, rev})
			}
		}
		// Ties at the last place go to the lower client key, so the set
		// does not depend on read order.
		slices.SortFunc(top, func(a, b ranked) int {
			return cmp.Or(cmp.Compare(b.rev, a.rev), m.clients[a.c].key.less(m.clients[b.c].key))
		})
		for _, r := range top[:min(len(top), m.s.KeyClientsTop)] {
			keys = append(keys, r.c)
		}
		s.keyClients = len(keys)
		for _, c := range keys {
			s.keyRev = fsum(s.keyRev, m.clientRevenue(c, p.Start, p.End, &s.skipped))
			s.keyRevPrev = fsum(s.keyRevPrev, m.clientRevenue(c, prev.Start, prev.End, &s.skipped))
		}
	}

	// The manager's own deals.
	for i := range m.deals {
		di := &m.deals[i]
		if di.owner < 0 {
			continue
		}
		s := &st[di.owner]
		closedIn := di.hasShut && in(di.closed, p)
		if closedIn || in(di.d.CreatedAt, p) {
			s.eligible = true
		}
		if !closedIn {
			continue
		}
		if di.lost {
			s.lost++
			continue
		}
		s.won++
		if di.isNew {
			s.newDeals++
		}
		if rev, ok := m.revenue(di); ok {
			s.revenue = fsum(s.revenue, rev)
			if !di.isNew {
				s.expansionRev = fsum(s.expansionRev, rev)
			}
		} else {
			s.skipped = append(s.skipped, i)
		}
		if exp, ok := m.expense(di); ok {
			s.cost = fsum(s.cost, exp)
		} else if di.d.Expense != nil {
			s.skipped = append(s.skipped, i)
		}
		if di.client >= 0 {
			s.serve(di.client)
		}
	}

	// Activities.
	for _, ai := range m.acts {
		a := ai.a
		if !in(a.OccurredAt, p) {
			continue
		}
		if ai.owner >= 0 {
			s := &st[ai.owner]
			s.eligible = true
			s.cost = fsum(s.cost, m.s.costs[a.Type])
			if ai.client >= 0 {
				s.serve(ai.client)
			}
			if a.Type == connectors.ActivityTask && a.Completed && strings.Contains(a.Subject, m.s.TeamTag) {
				s.tasks++
			}
		}
		if ai.client < 0 || !isInbound(a) {
			continue
		}
		owner := m.clients[ai.client].owner
		if owner < 0 {
			continue
		}
		s := &st[owner]
		h := answerCap.Hours()
		ts := m.answers[mgrClient{ai.client, owner}]
		if j, _ := slices.BinarySearchFunc(ts, a.OccurredAt, time.Time.Compare); j < len(ts) && ts[j].Sub(a.OccurredAt) <= answerCap {
			h = ts[j].Sub(a.OccurredAt).Hours()
		} else {
			s.unanswered++
		}
		s.responses = append(s.responses, h)
	}

	// The fixed cost, pro rata by the days of each month P covers.
	if monthly := m.s.costs[CostMonthly]; monthly != 0 {
		fixed := monthly * monthShare(p, m.s.Location)
		for i := range st {
			st[i].cost = fsum(st[i].cost, fixed)
		}
	}
	return st
}

func (s *stats) serve(c int) {
	if s.served == nil {
		s.served = map[int]bool{}
	}
	s.served[c] = true
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

// markSkipped records the deals left out of a scorecard's money figures.
func (m *model) markSkipped(ss ...stats) {
	for _, s := range ss {
		for _, i := range s.skipped {
			cur := strings.ToUpper(strings.TrimSpace(m.deals[i].d.Currency))
			if m.skipped[cur] == nil {
				m.skipped[cur] = map[int]bool{}
			}
			m.skipped[cur][i] = true
		}
	}
}

func (m *model) warnings() []string {
	curs := make([]string, 0, len(m.skipped))
	for c := range m.skipped {
		curs = append(curs, c)
	}
	slices.Sort(curs)
	var w []string
	for _, c := range curs {
		w = append(w, fmt.Sprintf("no fx rate for %s into %s: %d won deal(s) left out of revenue and cost figures", c, m.s.Currency, len(m.skipped[c])))
	}
	return w
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
	out := make(map[string]kpiValue, len(KPIKeys))

	sat := kpiValue{details: map[string]any{"answers": s.answers, "promoters": s.promoters, "detractors": s.detractors}}
	if s.answers > 0 {
		sat.value = val(100 * float64(s.promoters-s.detractors) / float64(s.answers))
	} else {
		sat.reason = reasonNoAnswers
	}
	out[KPISatisfaction] = sat

	ret := kpiValue{details: map[string]any{"active_start": s.activeStart, "retained": s.retained}}
	if s.activeStart > 0 {
		ret.value = val(100 * float64(s.retained) / float64(s.activeStart))
	} else {
		ret.reason = reasonNoActive
	}
	out[KPIRetention] = ret

	kg := kpiValue{details: map[string]any{"key_clients": s.keyClients, "revenue": s.keyRev, "revenue_previous": s.keyRevPrev}}
	switch {
	case s.keyClients == 0:
		kg.reason = reasonNoKeyClients
	case s.keyRevPrev <= 0:
		kg.reason = reasonNoKeyRevenue
	default:
		kg.value = val(100 * (s.keyRev - s.keyRevPrev) / s.keyRevPrev)
	}
	out[KPIKeyClientGrowth] = kg

	pen := kpiValue{details: map[string]any{"revenue": s.revenue, "expansion_revenue": s.expansionRev}}
	if s.revenue > 0 {
		pen.value = val(100 * s.expansionRev / s.revenue)
	} else {
		pen.reason = reasonNoRevenue
	}
	out[KPIPenetration] = pen

	var winRate any
	if s.won+s.lost > 0 {
		winRate = 100 * float64(s.won) / float64(s.won+s.lost)
	}
	out[KPIClosedWon] = kpiValue{value: val(float64(s.won)), details: map[string]any{"won": s.won, "lost": s.lost, "win_rate": winRate, "revenue": s.revenue}}

	rt := kpiValue{details: map[string]any{"inbound": len(s.responses), "unanswered": s.unanswered}}
	if len(s.responses) > 0 {
		rt.value = val(median(s.responses))
	} else {
		rt.reason = reasonNoInbound
	}
	out[KPIResponseTime] = rt

	out[KPITeamContribution] = kpiValue{value: val(float64(s.tasks)), details: map[string]any{"tasks": s.tasks, "manual": false}}

	out[KPINewDeals] = kpiValue{value: val(float64(s.newDeals)), details: map[string]any{}}

	cpc := kpiValue{details: map[string]any{"cost": s.cost, "clients": len(s.served)}}
	if len(s.served) > 0 {
		cpc.value = val(s.cost / float64(len(s.served)))
	} else {
		cpc.reason = reasonNoClientServed
	}
	out[KPICostPerClient] = cpc

	for key, k := range out {
		if k.value != nil && (math.IsNaN(*k.value) || math.IsInf(*k.value, 0)) {
			k.value, k.reason = nil, reasonOutOfRange
			out[key] = k
		}
	}

	spec := p.Spec()
	for _, key := range KPIKeys {
		if v, ok := m.s.manualValue(spec, manager, key); ok {
			k := out[key]
			k.value, k.reason, k.manual = val(v), "", true
			if key == KPITeamContribution {
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
