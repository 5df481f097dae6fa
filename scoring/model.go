package scoring

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/warehouse/rows"
)

// The model is the warehouse resolved into managers, clients and compact
// deals, built in stages: users, then companies and contacts (addCompany,
// addContact, indexClients), then deals (addDeal, finishDeals), then the
// activities latest first (addActivity), then report. Ids are interned into
// dense int32 indexes once; times are Unix microseconds, the warehouse's
// precision. Only the deals the two periods can need are kept, and
// activities are folded into the figures as they stream by, so memory
// grows with the clients and the deals of the lookback, not with the
// warehouse.

// micros is t in Unix microseconds, the precision the warehouse keeps.
func micros(t time.Time) int64 { return t.UnixMicro() }

// noTime marks "no answer yet" in model.answerAt.
const noTime = math.MaxInt64

// noWork marks "no work seen" in managerInfo.lastWork.
const noWork = math.MinInt64

type managerInfo struct {
	key, name, team, email, slackID string
	listed                          bool // has an entry under managers:
	// users counts the CRM users merged into the manager; inactive those
	// the CRM reports inactive or deleted, dated the inactive ones whose
	// turn to inactive the warehouse saw, the latest of which is leftAt.
	users, inactive, dated int32
	leftAt                 int64
	// lastWork is the latest time, not after now, of the manager's own
	// deals (created or closed) and activities seen: noWork for none.
	lastWork int64
}

// userRef is one CRM user of a manager.
type userRef struct {
	mgr  int32
	conn uint16
	id   string
}

// Client flags.
const (
	clientContact  = 1 << iota // a contact client; else a company
	clientFlagged              // a company flagged as key client by a connector that maps the flag
	clientFallback             // no owner id: the owner is that of the most recently created deal
	clientOldWon               // a won deal closed before the earliest window: no kept deal is new business
)

type clientInfo struct {
	id    string
	owner int32 // manager index, -1 for none
	conn  uint16
	flags uint8
}

// lastDeal is a client's most recently created deal so far (ids breaking
// ties), for the owner fallback.
type lastDeal struct {
	created int64
	id      string
	owner   int32
}

// Deal flags.
const (
	dealWon = 1 << iota
	dealLost
	dealShut    // won or lost with a close time
	dealNew     // won, with no won deal of its client closed before it
	dealExpense // has an expense
)

// deal is a kept deal, 40 bytes. Its expense, which few deals have, is in
// model.expenses.
type deal struct {
	created, closed    int64 // closed is set when dealShut
	amount             float64
	client, owner, ent int32  // ent is its entry in model.dealIx: connector and id
	cur                uint16 // index in model.currencies
	flags              uint8
}

// Activity flags.
const (
	actInbound = 1 << iota
	actAnswer
	actTeamTask
)

type act struct {
	at            int64
	client, owner int32
	// tr is 1 + the activity's index in the tracer's, 0 when not traced.
	tr    int32
	typ   uint16 // index in model.types
	flags uint8
}

type npsAnswer struct {
	client  int32 // the client of the answer: the contact's company, else the contact
	contact int32 // the contact that answered, as a client
	at      int64
	score   float64
}

type model struct {
	s       *settings
	p, prev Period
	// bounds are [start, end) of P (0) and P-1 (1).
	bounds [2][2]int64
	// lo and hi bound the deals kept: won deals closed in [lo, hi) (lo is
	// the earliest lookback start), lost deals closed and any deal created
	// in the periods.
	lo, hi, periodsLo int64
	lookback          int64

	managers []managerInfo
	mgrIndex map[string]int32 // manager key → index
	accounts []userRef        // every CRM user, in (connector, id) order
	now      int64            // Options.Now: later work is no sign of work
	conns    []string
	connIx   map[string]uint16
	lastConn uint16  // the connector of the last record, the likely next
	userMgr  []idMap // per connector: user id → manager

	clients []clientInfo
	// companies and contacts map ids to clients, per connector: a contact's
	// own client, which deals whose company is missing have.
	companies, contacts []idMap
	// via is, per client, the client of its answers and activities: a
	// contact's company where the warehouse has it, else the client.
	via      []int32
	nps      []npsAnswer
	lastDeal map[int32]*lastDeal
	// fallback has a bit set for each client with no owner id, a compact
	// copy of clientFallback for the deal scan.
	fallback []uint64

	deals      []deal
	expenses   map[int32]float64 // deal → expense, for deals with one
	dealIx     dealIndex
	currencies []string
	curIx      map[string]uint16
	// won holds the kept won deals with a close time, by client, each
	// client's in (close, created, id) order from wonStart[c] to
	// wonStart[c+1].
	won      []int32
	wonStart []int32
	byOwner  [][]int32 // manager → clients it owns, in key order
	// own lists the kept deals with an owner that closed or were created
	// in a period, in (connector, id) order, so sums never depend on the
	// order of the reads.
	own []int32

	types    []string
	typeIx   map[string]uint16
	stats    [2][]stats
	group    []act // activities at the same time, not yet counted
	lastAt   int64
	answerAt []int64 // per client: its owner's earliest answer seen so far

	// cur and before are every manager's figures for P and P-1, once
	// settle has run.
	cur, before []stats

	// skipped collects, per currency with no rate ("" for an unknown
	// currency), the won deals left out of a money figure on a scorecard.
	skipped map[string]map[int]bool

	// tr, when Explain runs the model, records what the computation does
	// with the records of one manager; nil for Compute.
	tr *tracer
}

func newModel(s *settings, p Period) *model {
	prev := p.Previous()
	m := &model{s: s, p: p, prev: prev, mgrIndex: map[string]int32{}, connIx: map[string]uint16{},
		curIx: map[string]uint16{}, expenses: map[int32]float64{}, typeIx: map[string]uint16{}, lastDeal: map[int32]*lastDeal{},
		skipped: map[string]map[int]bool{}, lastAt: noTime, now: micros(s.now)}
	m.bounds[0] = [2]int64{micros(p.Start), micros(p.End)}
	m.bounds[1] = [2]int64{micros(prev.Start), micros(prev.End)}
	m.lookback = s.lookback.Microseconds()
	m.periodsLo = min(m.bounds[0][0], m.bounds[1][0])
	// P-1's key-client growth compares it with P-2, which a lookback
	// shorter than a period does not reach.
	m.lo = min(m.periodsLo-m.lookback, micros(prev.Previous().Start))
	m.hi = max(m.bounds[0][1], m.bounds[1][1])
	return m
}

func (m *model) in(t int64, k int) bool { return t >= m.bounds[k][0] && t < m.bounds[k][1] }

// conn interns a connector name.
func (m *model) conn(name string) uint16 {
	if len(m.conns) > 0 && name == m.conns[m.lastConn] {
		return m.lastConn
	}
	if c, ok := m.connIx[name]; ok {
		m.lastConn = c
		return c
	}
	c := uint16(len(m.conns))
	m.connIx[name] = c
	m.conns = append(m.conns, name)
	m.userMgr = append(m.userMgr, newIDMap())
	m.companies = append(m.companies, newIDMap())
	m.contacts = append(m.contacts, newIDMap())
	return c
}

// addUsers makes the managers. Users are taken in (connector, id) order so
// that the CRM name a merged manager gets does not depend on read order.
// Deleted and deactivated users stay managers: their deals and clients are
// still theirs; whether they are ranked is decided in ranked.
func (m *model) addUsers(users []rows.User) {
	slices.SortFunc(users, func(a, b rows.User) int {
		return cmp.Or(strings.Compare(a.Connector, b.Connector), compareID(a.ID, b.ID))
	})
	for i := range users {
		u := &users[i]
		email := strings.ToLower(strings.TrimSpace(u.Email))
		key := email
		if key == "" {
			key = u.Connector + ":" + u.ID
		}
		mi := m.manager(key, email)
		mgr := &m.managers[mi]
		if mgr.name == "" {
			mgr.name = strings.TrimSpace(u.Name)
		}
		mgr.users++
		if !u.Active || u.Deleted {
			mgr.inactive++
			if u.DeactivatedAt.Valid {
				mgr.dated++
				mgr.leftAt = max(mgr.leftAt, micros(u.DeactivatedAt.Time))
			}
		}
		c := m.conn(u.Connector)
		m.userMgr[c].set(u.ID, mi)
		m.accounts = append(m.accounts, userRef{mgr: mi, conn: c, id: u.ID})
	}
}

// work notes t, a time manager i did something of their own, unless it is
// after now (a task due next week is no sign of work yet).
func (m *model) work(i int32, t int64) {
	if mgr := &m.managers[i]; t <= m.now && t > mgr.lastWork {
		mgr.lastWork = t
	}
}

// manager returns the index of the manager with key, adding it.
func (m *model) manager(key, email string) int32 {
	if i, ok := m.mgrIndex[key]; ok {
		return i
	}
	mi := managerInfo{key: key, email: email, lastWork: noWork, leftAt: noWork}
	if cfg, ok := m.s.managers[email]; ok && email != "" {
		mi.name, mi.team, mi.slackID = strings.TrimSpace(cfg.Name), cfg.Team, cfg.SlackID
		mi.listed = true
	}
	i := int32(len(m.managers))
	m.mgrIndex[key] = i
	m.managers = append(m.managers, mi)
	if m.tr != nil && key == m.tr.key {
		m.tr.mgr = i
	}
	return i
}

// owner maps a CRM user id to a manager index; -1 when empty. An id with no
// user record (a user the CRM no longer lists) becomes a manager keyed
// CONNECTOR:USER_ID, as a user without e-mail does.
func (m *model) owner(conn uint16, userID string) int32 {
	if userID == "" {
		return -1
	}
	if i, ok := m.userMgr[conn].get(userID); ok {
		return i
	}
	i := m.manager(m.conns[conn]+":"+userID, "")
	m.userMgr[conn].set(userID, i)
	return i
}

// addCompany adds a company not deleted. Every company is a client, so that
// key-client flags and NPS answers count for companies with no deal yet. A
// second record with the same id replaces the first.
func (m *model) addCompany(connector, id, ownerID string, keyClient bool) {
	c := m.conn(connector)
	info := clientInfo{id: id, conn: c, owner: -1}
	if ownerID != "" {
		info.owner = m.owner(c, ownerID)
	} else {
		info.flags |= clientFallback
	}
	if keyClient && m.s.KeyClientConnectors[connector] {
		info.flags |= clientFlagged
	}
	if ci, ok := m.companies[c].get(id); ok {
		m.clients[ci] = info
		return
	}
	m.companies[c].set(id, int32(len(m.clients)))
	m.via = append(m.via, int32(len(m.clients)))
	m.clients = append(m.clients, info)
}

// addContact adds a contact not deleted, after every company. Each contact
// is a client of its own (for the deals that name it and no company the
// warehouse has); its answers and activities belong to its company where
// the warehouse has that.
func (m *model) addContact(r *rows.Contact) {
	c := m.conn(r.Connector)
	info := clientInfo{id: r.ID, conn: c, owner: -1, flags: clientContact}
	if r.OwnerID != "" {
		info.owner = m.owner(c, r.OwnerID)
	} else {
		info.flags |= clientFallback
	}
	ki, ok := m.contacts[c].get(r.ID)
	if ok {
		m.clients[ki] = info
	} else {
		ki = int32(len(m.clients))
		m.contacts[c].set(r.ID, ki)
		m.via = append(m.via, ki)
		m.clients = append(m.clients, info)
	}
	via := ki
	if ci, ok := m.companies[c].get(r.CompanyID); ok && r.CompanyID != "" {
		via = ci
	}
	m.via[ki] = via
	if r.NPSScore.Valid && r.NPSAt.Valid {
		m.nps = append(m.nps, npsAnswer{client: via, contact: ki, at: micros(r.NPSAt.Time), score: r.NPSScore.Float64})
	}
}

// indexClients puts the clients in key order, (connector, company before
// contact, id), so that indexes and sums do not depend on read order.
func (m *model) indexClients() {
	n := len(m.clients)
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		ca, cb := &m.clients[a], &m.clients[b]
		return cmp.Or(strings.Compare(m.conns[ca.conn], m.conns[cb.conn]),
			cmp.Compare(ca.flags&clientContact, cb.flags&clientContact), compareID(ca.id, cb.id))
	})
	newIx := make([]int32, n)
	clients := make([]clientInfo, n)
	for i, old := range order {
		newIx[old] = int32(i)
		clients[i] = m.clients[old]
	}
	via := make([]int32, n)
	for old, v := range m.via {
		via[newIx[old]] = newIx[v]
	}
	m.clients, m.via = clients, via
	for _, ix := range [][]idMap{m.companies, m.contacts} {
		for _, byID := range ix {
			byID.remap(newIx)
		}
	}
	for i := range m.nps {
		m.nps[i].client = newIx[m.nps[i].client]
		m.nps[i].contact = newIx[m.nps[i].contact]
	}
	m.fallback = make([]uint64, (n+63)/64)
	for i, c := range m.clients {
		if c.flags&clientFallback != 0 {
			m.fallback[i>>6] |= 1 << (i & 63)
		}
	}
}

// dealClient is the client of a deal: its company, else its primary
// contact. A reference to a company or contact the warehouse does not have
// (deleted, or not synced yet) is treated as empty.
func (m *model) dealClient(c uint16, companyID, contactID string) int32 {
	if ci, ok := m.companies[c].get(companyID); ok && companyID != "" {
		return ci
	}
	if ci, ok := m.contacts[c].get(contactID); ok && contactID != "" {
		return ci
	}
	return -1
}

// addDeal takes one deal not deleted, after every company and contact.
func (m *model) addDeal(r *rows.Deal) {
	c := m.conn(r.Connector)
	client := m.dealClient(c, r.CompanyID, r.ContactID)
	owner := m.owner(c, r.OwnerID)
	ent := m.dealIx.add(c, r.ID, client)
	created := micros(r.CreatedAt)
	var flags uint8
	switch r.Status {
	case rows.DealWon:
		flags = dealWon
	case rows.DealLost:
		flags = dealLost
	}
	var closed int64
	if r.ClosedAt.Valid && flags != 0 {
		closed = micros(r.ClosedAt.Time)
		flags |= dealShut
	}
	if owner >= 0 {
		m.work(owner, created)
		if flags&dealShut != 0 {
			m.work(owner, closed)
		}
	}
	if client >= 0 && m.fallback[client>>6]&(1<<(client&63)) != 0 {
		ld := m.lastDeal[client]
		if ld == nil {
			m.lastDeal[client] = &lastDeal{created: created, id: r.ID, owner: owner}
		} else if cmp.Or(cmp.Compare(created, ld.created), compareID(r.ID, ld.id)) > 0 {
			*ld = lastDeal{created: created, id: r.ID, owner: owner}
		}
	}
	wonShut := flags&(dealWon|dealShut) == dealWon|dealShut
	if wonShut && closed < m.lo && client >= 0 {
		m.clients[client].flags |= clientOldWon
	}
	keep := wonShut && closed >= m.lo && closed < m.hi ||
		flags&(dealLost|dealShut) == dealLost|dealShut && closed >= m.periodsLo && closed < m.hi ||
		created >= m.periodsLo && created < m.hi
	if !keep && m.tr != nil && owner >= 0 && owner == m.tr.mgr {
		m.tr.unkept(r, client)
	}
	if !keep || client < 0 && owner < 0 {
		return
	}
	d := deal{created: created, closed: closed, client: client, owner: owner, flags: flags, ent: ent, cur: m.currency(r.Currency)}
	if r.Amount.Valid {
		d.amount = r.Amount.Float64
	}
	if r.Expense.Valid {
		m.expenses[int32(len(m.deals))] = r.Expense.Float64
		d.flags |= dealExpense
	}
	m.deals = append(m.deals, d)
}

func (m *model) currency(cur string) uint16 {
	if len(m.currencies) <= 8 {
		// Few currencies: a look at each beats hashing.
		for i, c := range m.currencies {
			if c == cur {
				return uint16(i)
			}
		}
	}
	if i, ok := m.curIx[cur]; ok {
		return i
	}
	i := uint16(len(m.currencies))
	m.curIx[cur] = i
	m.currencies = append(m.currencies, cur)
	return i
}

func (m *model) dealID(d *deal) []byte { return m.dealIx.id(d.ent) }

// finishDeals settles the client owners, the won deals of each client and
// the new-business deals, after every deal.
func (m *model) finishDeals() {
	m.dealIx.build()
	// When a client's owner is empty, the fallback is the owner of its most
	// recently created deal, whatever its status.
	for ci, ld := range m.lastDeal {
		m.clients[ci].owner = ld.owner
	}
	m.lastDeal, m.fallback = nil, nil

	// The won deals by client (a counting sort), then each client's few
	// in (close, created, id) order.
	isWon := func(d *deal) bool { return d.flags&(dealWon|dealShut) == dealWon|dealShut && d.client >= 0 }
	m.wonStart = make([]int32, len(m.clients)+1)
	for i := range m.deals {
		if d := &m.deals[i]; isWon(d) {
			m.wonStart[d.client+1]++
		}
	}
	for c := range m.clients {
		m.wonStart[c+1] += m.wonStart[c]
	}
	m.won = make([]int32, m.wonStart[len(m.clients)])
	next := slices.Clone(m.wonStart[:len(m.clients)])
	for i := range m.deals {
		if d := &m.deals[i]; isWon(d) {
			m.won[next[d.client]] = int32(i)
			next[d.client]++
		}
	}
	next = nil
	byClose := func(a, b int32) int {
		da, db := &m.deals[a], &m.deals[b]
		if c := cmp.Or(cmp.Compare(da.closed, db.closed), cmp.Compare(da.created, db.created)); c != 0 {
			return c
		}
		return compareID(string(m.dealID(da)), string(m.dealID(db)))
	}
	for c := range m.clients {
		won := m.wonOf(int32(c))
		if len(won) == 0 {
			continue
		}
		slices.SortFunc(won, byClose)
		// New business is a won deal with no won deal of its client closed
		// before it: every one closed at the instant of the client's first.
		if m.clients[c].flags&clientOldWon == 0 {
			first := m.deals[won[0]].closed
			for _, d := range won {
				if m.deals[d].closed != first {
					break
				}
				m.deals[d].flags |= dealNew
			}
		}
	}

	m.byOwner = make([][]int32, len(m.managers))
	for ci, c := range m.clients {
		if c.owner >= 0 {
			m.byOwner[c.owner] = append(m.byOwner[c.owner], int32(ci))
		}
	}
	for i := range m.deals {
		d := &m.deals[i]
		if d.owner >= 0 && (d.flags&dealShut != 0 && d.closed >= m.periodsLo && d.closed < m.hi || d.created >= m.periodsLo && d.created < m.hi) {
			m.own = append(m.own, int32(i))
		}
	}
	slices.SortFunc(m.own, func(a, b int32) int {
		da, db := &m.deals[a], &m.deals[b]
		if c := strings.Compare(m.conns[m.dealIx.ents[da.ent].conn], m.conns[m.dealIx.ents[db.ent].conn]); c != 0 {
			return c
		}
		if c := bytes.Compare(m.dealID(da), m.dealID(db)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	m.answerAt = make([]int64, len(m.clients))
	for i := range m.answerAt {
		m.answerAt[i] = noTime
	}
}

// isAnswer reports whether an activity can answer an inbound one: an
// outbound call that connected (or whose CRM does not say), an outbound
// e-mail or message, or a meeting in either direction. A task is a to-do,
// never an answer; a dial that did not connect reached nobody.
func isAnswer(typ, dir string, connected bool) bool {
	switch typ {
	case rows.ActivityCall:
		return dir == rows.DirectionOutbound && connected
	case rows.ActivityEmail, rows.ActivityMessage:
		return dir == rows.DirectionOutbound
	case rows.ActivityMeeting:
		return true
	}
	return false
}

func isInbound(typ, dir string) bool {
	switch typ {
	case rows.ActivityCall, rows.ActivityEmail, rows.ActivityMessage:
		return dir == rows.DirectionInbound
	}
	return false
}

// addActivity takes one activity not deleted, after finishDeals. They must
// come latest first: an inbound activity is answered by the owner's
// earliest answer at or after it, which has then been seen already.
func (m *model) addActivity(r *rows.Activity) error {
	c := m.conn(r.Connector)
	a := act{at: micros(r.OccurredAt), client: -1, owner: m.owner(c, r.OwnerID), typ: m.actType(r.Type)}
	if a.at > m.lastAt {
		return fmt.Errorf("activity at %s after one at %s: want the latest first", r.OccurredAt, time.UnixMicro(m.lastAt).UTC())
	}
	if a.owner >= 0 {
		m.work(a.owner, a.at)
	}
	// The client: its company; else its deal's client; else its
	// contact's company; else its contact.
	if ci, ok := m.companies[c].get(r.CompanyID); ok && r.CompanyID != "" {
		a.client = ci
	} else if ci, ok := m.dealIx.client(c, r.DealID); ok && r.DealID != "" && ci >= 0 {
		a.client = ci
	} else if ci, ok := m.contacts[c].get(r.ContactID); ok && r.ContactID != "" {
		a.client = m.via[ci]
	}
	if isInbound(r.Type, r.Direction) {
		a.flags |= actInbound
	}
	if isAnswer(r.Type, r.Direction, !r.DidNotConnect) {
		a.flags |= actAnswer
	}
	if r.Type == rows.ActivityTask && r.Completed && strings.Contains(r.Subject, m.s.TeamTag) {
		a.flags |= actTeamTask
	}
	if t := m.tr; t != nil && t.mgr >= 0 && (a.owner == t.mgr || a.client >= 0 && m.clients[a.client].owner == t.mgr) {
		a.tr = t.activity(r, a.client, a.owner, a.flags)
	}
	if a.at < m.lastAt {
		m.flushActivities()
	}
	m.lastAt = a.at
	m.group = append(m.group, a)
	return nil
}

func (m *model) actType(t string) uint16 {
	if len(m.types) <= 8 {
		for i, x := range m.types {
			if x == t {
				return uint16(i)
			}
		}
	}
	if i, ok := m.typeIx[t]; ok {
		return i
	}
	i := uint16(len(m.types))
	m.typeIx[t] = i
	m.types = append(m.types, t)
	return i
}

// stat is manager i's figures for period k.
func (m *model) stat(k int, i int32) *stats {
	if int(i) >= len(m.stats[k]) {
		m.stats[k] = append(m.stats[k], make([]stats, len(m.managers)-len(m.stats[k]))...)
	}
	return &m.stats[k][i]
}

// flushActivities counts the activities of one instant: first their
// answers, which answer inbound activities at the same instant, then
// everything else.
func (m *model) flushActivities() {
	for _, a := range m.group {
		if a.flags&actAnswer != 0 && a.owner >= 0 && a.client >= 0 && m.clients[a.client].owner == a.owner {
			m.answerAt[a.client] = a.at
			if a.tr > 0 {
				m.tr.answerBy[a.client] = a.tr
			}
		}
	}
	for _, a := range m.group {
		for k := range 2 {
			if !m.in(a.at, k) {
				continue
			}
			t := m.tracing(k)
			if t != nil && a.tr > 0 {
				t.notes[a.tr-1].inP = true
			}
			if a.owner >= 0 {
				s := m.stat(k, a.owner)
				s.eligible = true
				if int(a.typ) >= len(s.types) {
					s.types = append(s.types, make([]int, len(m.types)-len(s.types))...)
				}
				s.types[a.typ]++
				if a.client >= 0 {
					s.serve(a.client)
				}
				if a.flags&actTeamTask != 0 {
					s.tasks++
				}
			}
			if a.client < 0 || a.flags&actInbound == 0 {
				continue
			}
			owner := m.clients[a.client].owner
			if owner < 0 {
				continue
			}
			s := m.stat(k, owner)
			h := answerCap.Hours()
			answered := m.answerAt[a.client]
			if answered != noTime && answered-a.at <= answerCap.Microseconds() {
				h = (time.Duration(answered-a.at) * time.Microsecond).Hours()
			} else {
				s.unanswered++
			}
			s.responses = append(s.responses, h)
			if t != nil && a.tr > 0 && owner == t.mgr {
				t.response(a, h, answered)
			}
		}
	}
	m.group = m.group[:0]
}

// revenue is a won deal's amount in the reporting currency; ok is false
// when its currency has no rate or is unknown. A missing amount is 0.
func (m *model) revenue(d *deal) (float64, bool) { return m.money(d.amount, d.cur) }

func (m *model) expense(i int32) (float64, bool) { return m.money(m.expenses[i], m.deals[i].cur) }

func (m *model) money(v float64, cur uint16) (float64, bool) {
	r, ok := m.s.rate(m.currencies[cur])
	if !ok {
		return 0, false
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, true
	}
	x := v * r
	if math.IsInf(x, 0) {
		return 0, true
	}
	return x, true
}

// wonOf is client c's won deals with a close time, in close order.
func (m *model) wonOf(c int32) []int32 { return m.won[m.wonStart[c]:m.wonStart[c+1]] }

// firstClosed is the index in won of the first deal closed at or after t.
func (m *model) firstClosed(won []int32, t int64) int {
	i, _ := slices.BinarySearchFunc(won, t, func(d int32, t int64) int { return cmp.Compare(m.deals[d].closed, t) })
	return i
}

// active reports whether client c has a won deal closed in [t-lookback, t).
func (m *model) active(c int32, t int64) bool {
	won := m.wonOf(c)
	i := m.firstClosed(won, t-m.lookback)
	return i < len(won) && m.deals[won[i]].closed < t
}

// clientRevenue sums the revenue of client c's won deals closed in
// [from, to), whoever owns them, noting deals left out for want of a rate
// or of a known currency.
func (m *model) clientRevenue(c int32, from, to int64, skip *[]int) float64 {
	return m.clientRevenueNoted(c, from, to, skip, nil)
}

// clientRevenueNoted is clientRevenue telling note, when not nil, each deal
// it weighed: its revenue and whether it had a rate.
func (m *model) clientRevenueNoted(c int32, from, to int64, skip *[]int, note func(d int32, rev float64, ok bool)) float64 {
	won := m.wonOf(c)
	var sum float64
	for i := m.firstClosed(won, from); i < len(won) && m.deals[won[i]].closed < to; i++ {
		v, ok := m.revenue(&m.deals[won[i]])
		if !ok {
			*skip = append(*skip, int(won[i]))
		}
		if note != nil {
			note(won[i], v, ok)
		}
		sum = fsum(sum, v)
	}
	return sum
}

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

	cost  float64
	types []int // activities by type index, for their cost
	// served lists the clients served; distinct once periodStats is done.
	served []int32

	// skipped lists won deals left out of this manager's money figures for
	// want of a rate or of a known currency; they become warnings if the
	// manager has a scorecard.
	skipped []int
}

func (s *stats) serve(c int32) {
	if n := len(s.served); n == cap(s.served) && n >= 1024 {
		// Drop the repeats before growing, so the list stays within twice
		// the clients served.
		s.distinctServed()
	}
	s.served = append(s.served, c)
}

func (s *stats) distinctServed() {
	slices.Sort(s.served)
	s.served = slices.Compact(s.served)
}

// periodStats completes every manager's figures for period k (0 for P, 1
// for P-1); the activities are counted already.
func (m *model) periodStats(k int) []stats {
	if len(m.managers) > 0 {
		m.stat(k, int32(len(m.managers)-1))
	}
	st := m.stats[k]
	p := m.p
	if k == 1 {
		p = m.prev
	}
	start, end := m.bounds[k][0], m.bounds[k][1]
	prev := p.Previous()
	prevStart, prevEnd := micros(prev.Start), micros(prev.End)

	// Satisfaction: answers given in P by contacts of each manager's clients.
	t := m.tracing(k)
	for i, a := range m.nps {
		owner := m.clients[a.client].owner
		if t != nil && owner >= 0 && owner == t.mgr {
			t.answers = append(t.answers, int32(i))
		}
		if owner < 0 || !m.in(a.at, k) || !(a.score >= 0 && a.score <= 10) {
			continue
		}
		s := &st[owner]
		s.answers++
		switch {
		case a.score >= 9:
			s.promoters++
		case a.score <= 6:
			s.detractors++
		}
	}

	// Retention, key clients and eligibility by active clients.
	for mi, owned := range m.byOwner {
		s := &st[mi]
		type ranked struct {
			c   int32
			rev float64
		}
		var keys []int32
		var top []ranked
		traced := t != nil && int32(mi) == t.mgr
		for _, c := range owned {
			atStart, atEnd := m.active(c, start), false
			if atStart {
				s.activeStart++
				s.eligible = true
				if atEnd = m.active(c, end); atEnd {
					s.retained++
				}
			}
			if traced {
				t.clients = append(t.clients, clientNote{c: c, activeStart: atStart, activeEnd: atEnd})
			}
			cl := &m.clients[c]
			if m.s.KeyClientConnectors[m.conns[cl.conn]] {
				if cl.flags&clientFlagged != 0 {
					keys = append(keys, c)
				}
				continue
			}
			if rev := m.clientRevenue(c, start-m.lookback, start, &s.skipped); rev > 0 {
				top = append(top, ranked{c, rev})
			}
		}
		// Ties at the last place go to the lower client key (the lower
		// index, clients being in key order), so the set does not depend
		// on read order.
		slices.SortFunc(top, func(a, b ranked) int {
			return cmp.Or(cmp.Compare(b.rev, a.rev), cmp.Compare(a.c, b.c))
		})
		for _, r := range top[:min(len(top), m.s.KeyClientsTop)] {
			keys = append(keys, r.c)
		}
		s.keyClients = len(keys)
		var inP, inPrev func(d int32, rev float64, ok bool)
		if traced {
			for rank, r := range top {
				t.ranked = append(t.ranked, rankNote{c: r.c, rev: r.rev, rank: rank + 1, key: rank < m.s.KeyClientsTop})
			}
			t.keys = keys
			inP = func(d int32, rev float64, ok bool) { t.keyDeals = append(t.keyDeals, keyDealNote{d, 0, rev, ok}) }
			inPrev = func(d int32, rev float64, ok bool) { t.keyDeals = append(t.keyDeals, keyDealNote{d, 1, rev, ok}) }
		}
		for _, c := range keys {
			s.keyRev = fsum(s.keyRev, m.clientRevenueNoted(c, start, end, &s.skipped, inP))
			s.keyRevPrev = fsum(s.keyRevPrev, m.clientRevenueNoted(c, prevStart, prevEnd, &s.skipped, inPrev))
		}
	}

	// The manager's own deals.
	for _, i := range m.own {
		d := &m.deals[i]
		s := &st[d.owner]
		closedIn := d.flags&dealShut != 0 && m.in(d.closed, k)
		if closedIn || m.in(d.created, k) {
			s.eligible = true
		}
		var note *dealNote
		if t != nil && d.owner == t.mgr {
			t.own = append(t.own, dealNote{d: i, closedIn: closedIn})
			note = &t.own[len(t.own)-1]
		}
		if !closedIn {
			continue
		}
		if d.flags&dealLost != 0 {
			s.lost++
			continue
		}
		s.won++
		isNew := d.flags&dealNew != 0
		if isNew {
			s.newDeals++
		}
		if rev, ok := m.revenue(d); ok {
			s.revenue = fsum(s.revenue, rev)
			// A deal with no client is neither new business nor
			// expansion: it has no client that bought before.
			if !isNew && d.client >= 0 {
				s.expansionRev = fsum(s.expansionRev, rev)
			}
			if note != nil {
				note.rev, note.revOK = rev, true
			}
		} else {
			s.skipped = append(s.skipped, int(i))
		}
		if exp, ok := m.expense(i); ok {
			s.cost = fsum(s.cost, exp)
			if note != nil {
				note.exp, note.expOK = exp, true
			}
		} else if d.flags&dealExpense != 0 {
			s.skipped = append(s.skipped, int(i))
		}
		if d.client >= 0 {
			s.serve(d.client)
		}
	}

	// The cost of the activities, by type in name order so that the sum
	// does not depend on read order.
	types := make([]int, len(m.types))
	for i := range types {
		types[i] = i
	}
	slices.SortFunc(types, func(a, b int) int { return strings.Compare(m.types[a], m.types[b]) })
	for i := range st {
		s := &st[i]
		for _, t := range types {
			if t < len(s.types) && s.types[t] > 0 {
				s.cost = fsum(s.cost, float64(s.types[t])*m.s.costs[m.types[t]])
			}
		}
	}

	for i := range st {
		st[i].distinctServed()
	}

	// The fixed cost, pro rata by the days of each month P covers.
	if monthly := m.s.costs[CostMonthly]; monthly != 0 {
		fixed := monthly * monthShare(p, m.s.Location)
		for i := range st {
			st[i].cost = fsum(st[i].cost, fixed)
		}
		if t != nil {
			t.fixed = fixed
		}
	}
	if t != nil && t.mgr >= 0 && int(t.mgr) < len(st) {
		t.stats = st[t.mgr]
	}
	return st
}
