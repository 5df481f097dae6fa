// Package demo builds the world behind `crmkpi demo`: one coherent, seeded
// sales organisation whose managers work in HubSpot, amoCRM and Bitrix24,
// kept in a canonical form (World) and served by the three fake CRM servers
// (hubspottest, amocrmtest, bitrix24test) in each vendor's own shape.
//
// The canonical form is the truth the demo's end-to-end test scores by hand:
// it holds every record as the warehouse will hold it after a sync (ids as
// the connectors write them, associations as they resolve them), so a test
// can compute the KPIs of KPIS.md from World alone and compare them with what
// the real connectors, sync and scoring make of the fakes.
//
// Generation uses math/rand/v2's PCG, whose output is pinned, so the same
// Seed and Now always give the same world.
package demo

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CRM names one of the three CRMs. Its value is also the connector's name
// in the demo config, so it is the `connector` column of the warehouse.
type CRM string

// The CRMs of the demo world.
const (
	HubSpot  CRM = "hubspot"
	AmoCRM   CRM = "amocrm"
	Bitrix24 CRM = "bitrix24"
)

// CRMs lists the CRMs in the order the demo config names them.
var CRMs = []CRM{HubSpot, AmoCRM, Bitrix24}

// Deal statuses, as the warehouse stores them.
const (
	StatusOpen = "open"
	StatusWon  = "won"
	StatusLost = "lost"
)

// Activity types and directions, as the warehouse stores them.
const (
	Call     = "call"
	Email    = "email"
	Meeting  = "meeting"
	Message  = "message"
	Note     = "note"
	Task     = "task"
	Inbound  = "inbound"
	Outbound = "outbound"
)

// TeamTag is the tag of team-initiative tasks, the scoring default.
const TeamTag = "#team"

// Options sizes the world.
type Options struct {
	// Seed selects the world; the same Seed and Now give the same world.
	Seed uint64
	// Managers is the number of account managers; default 12.
	Managers int
	// Scale multiplies the number of clients per manager (and with them
	// contacts, deals and activities); default 1.
	Scale float64
	// Now is the end of the world's history, which covers the 18 months
	// before it; default Anchor(time.Now()). It is truncated to the second.
	Now time.Time
}

// Anchor is the start of t's month in the demo's Timezone: the Now that
// crmkpi demo uses, so that every run in one month builds the same world
// and prints the same scorecards for the month before, whatever the clock.
func Anchor(t time.Time) time.Time {
	loc, err := time.LoadLocation(Timezone)
	if err != nil {
		loc = time.FixedZone("MSK", 3*3600) // Moscow has kept UTC+3 since 2014
	}
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc)
}

func (o Options) withDefaults() Options {
	if o.Managers <= 0 {
		o.Managers = 12
	}
	if o.Scale <= 0 {
		o.Scale = 1
	}
	if o.Now.IsZero() {
		o.Now = Anchor(time.Now())
	}
	o.Now = o.Now.Truncate(time.Second)
	return o
}

// World is the canonical truth of the demo: every manager, CRM user and
// record, as the warehouse holds them after a full sync.
type World struct {
	Seed  uint64
	Now   time.Time
	Start time.Time // Now minus 18 months: the oldest record

	Managers   []Manager
	Companies  []Company
	Contacts   []Contact
	Deals      []Deal
	Activities []Activity
	// Admins are CRM users who own nothing (the Bitrix24 webhook's user),
	// so they get no scorecard.
	Admins []Account
}

// Manager is one account manager. Key is their lower-case e-mail, the
// manager key of scorecards.
type Manager struct {
	Key     string
	Name    string
	Team    string // "enterprise" or "smb"
	SlackID string // "" for managers without a Slack user in the config
	// Active is false for the manager who left: deactivated in every CRM.
	Active bool
	// LeftAt is when an inactive manager stopped working (zero if active).
	LeftAt time.Time
	// Skill drives how well the manager does (win rate, response time,
	// NPS, team work): about 0.6 to 1.5.
	Skill float64
	// Accounts are the manager's CRM users; several managers have two,
	// under one e-mail written in a different case in the second.
	Accounts []Account
}

// Account is a CRM user.
type Account struct {
	CRM    CRM
	UserID string // the CRM's user id, as the warehouse stores it
	Email  string // as the CRM has it (the case may differ from Key)
	First  string
	Last   string
	Active bool
}

// Company is a client organisation. Owner is the manager key of the
// responsible user; OwnerID the CRM user id.
type Company struct {
	CRM       CRM
	ID        string
	Name      string
	Domain    string
	Owner     string
	OwnerID   string
	CreatedAt time.Time
	// KeyClient is the company's key-account flag (HubSpot key_account).
	KeyClient bool
	Currency  string // the currency the client buys in
}

// Contact is a person. CompanyID is "" for a private client (amoCRM
// contacts without a company, who are clients of their own).
type Contact struct {
	CRM       CRM
	ID        string
	First     string
	Last      string
	Email     string
	CompanyID string
	Owner     string
	OwnerID   string
	CreatedAt time.Time
	// NPS is the contact's last survey answer (0-10) and NPSAt its date;
	// nil when the contact never answered.
	NPS   *int
	NPSAt time.Time
}

// Deal is a deal (amoCRM lead). ClosedAt is zero for open deals.
type Deal struct {
	CRM        CRM
	ID         string
	Name       string
	Pipeline   string // "new" (new business) or "renewal" (repeat business)
	Stage      string // the CRM's stage id as the warehouse stores it
	Status     string
	Amount     float64
	Currency   string
	Owner      string
	OwnerID    string
	CompanyID  string
	ContactID  string
	CreatedAt  time.Time
	ClosedAt   time.Time
	UpdatedAt  time.Time
	Expense    *float64 // in Currency; nil when the field is empty
	Deleted    bool     // archived (HubSpot) or deleted (amoCRM)
	ExpectedAt time.Time
}

// Client is the key of a deal's client: its company, else its contact.
func (d Deal) Client() string { return clientKey(d.CRM, d.CompanyID, d.ContactID) }

func clientKey(c CRM, companyID, contactID string) string {
	if companyID != "" {
		return string(c) + "/company/" + companyID
	}
	if contactID != "" {
		return string(c) + "/contact/" + contactID
	}
	return ""
}

// Activity is a call, e-mail, meeting, message, note or task, linked as the
// warehouse links it: HubSpot engagements to a company, a contact and
// sometimes a deal; amoCRM and Bitrix24 activities to one record only.
type Activity struct {
	CRM       CRM
	ID        string // as the warehouse stores it ("task:9000001" on amoCRM)
	Type      string
	Direction string // Inbound, Outbound or ""
	Subject   string
	Owner     string // manager key; "" for amoCRM incoming chat messages
	OwnerID   string
	CompanyID string
	ContactID string
	DealID    string
	At        time.Time // occurred_at: for tasks the due date
	Completed bool
	DurationS int
	// Connected is, for a call, whether it reached the other side: false
	// for a dial nobody answered or a missed incoming call (which still
	// costs, and an inbound one still asks a question); nil for the rest.
	Connected *bool
	// TaskType is an amoCRM task's task_type_id: 1 follow-up, 2 meeting
	// (the CRM's own to-do types; a meeting planned as a task is a task,
	// never a meeting that happened), AmoTeamTaskType for team work.
	TaskType int
	// SMS marks an amoCRM message sent or received as an SMS (notes
	// sms_in/sms_out) rather than a chat message event.
	SMS bool
	// Body is a HubSpot task's HTML body; the warehouse subject holds it
	// only where its text differs from the subject.
	Body string
}

// AmoTeamTaskType is the custom amoCRM task type of team-initiative tasks.
const AmoTeamTaskType = 2797514

func ptr[T any](v T) *T { return &v }

// ManagerByKey returns the manager with key k.
func (w *World) ManagerByKey(k string) (Manager, bool) {
	for _, m := range w.Managers {
		if m.Key == k {
			return m, true
		}
	}
	return Manager{}, false
}

// Email is the manager's e-mail as their first CRM has it.
func (m Manager) Email() string { return m.Accounts[0].Email }

// Account returns the manager's user in CRM c.
func (m Manager) Account(c CRM) (Account, bool) {
	for _, a := range m.Accounts {
		if a.CRM == c {
			return a, true
		}
	}
	return Account{}, false
}

// person is one template of the manager roster.
type person struct{ first, last string }

var roster = []person{
	{"Anna", "Petrova"}, {"Boris", "Ivanov"}, {"Chloe", "Martin"}, {"Dmitry", "Sokolov"},
	{"Elena", "Volkova"}, {"Felix", "Wagner"}, {"Galina", "Orlova"}, {"Hugo", "Laurent"},
	{"Irina", "Kuznetsova"}, {"Jonas", "Berg"}, {"Ksenia", "Morozova"}, {"Lukas", "Novak"},
	{"Maria", "Lebedeva"}, {"Nikolai", "Popov"}, {"Olivia", "Brown"}, {"Pavel", "Smirnov"},
}

// skills are spread so that a default world has strong, middling and weak
// managers: the config's targets then make some green, some amber, some red.
var skills = []float64{1.35, 0.8, 1.05, 1.5, 0.6, 1.15, 0.9, 1.25, 0.7, 1.45, 1.0, 0.85}

var (
	firstNames = []string{"Alexey", "Daria", "Sofia", "Max", "Julia", "Viktor", "Emma", "Tomas", "Nina", "Oleg",
		"Clara", "Artem", "Lea", "Mikhail", "Sara", "Ilya", "Marta", "Roman", "Eva", "Denis"}
	lastNames = []string{"Fischer", "Kovalenko", "Dubois", "Egorov", "Rossi", "Zaitseva", "Hansen", "Fedorov",
		"Moreau", "Belova", "Schulz", "Vasiliev", "Conti", "Pavlova", "Jensen", "Nikitin"}
	nameA = []string{"Nord", "Volga", "Alpen", "Baltic", "Sever", "Ural", "Delta", "Astra", "Vektor", "Orion",
		"Terra", "Lumen", "Kama", "Rhein", "Polar", "Granit", "Sapfir", "Atlas", "Zenit", "Merid"}
	nameB = []string{"tech", "trans", "soft", "log", "med", "stroy", "trade", "agro", "energo", "print",
		"pharm", "metal", "data", "food", "chem", "tex"}
	legal = map[CRM][]string{HubSpot: {"GmbH", "Ltd", "BV", "SAS", "AB"}, AmoCRM: {"LLC", "JSC", "Group"}, Bitrix24: {"LLC", "PJSC", "Holding"}}

	teamTasks = []string{"Prepare QBR deck " + TeamTag, "Mentor a new hire " + TeamTag, "Update the sales playbook " + TeamTag,
		"Run the pipeline review " + TeamTag, TeamTag + " Interview a candidate", "Share a win story at the all-hands " + TeamTag}
	followUps = []string{"Follow up on the proposal", "Send the contract", "Call back about pricing", "Check onboarding status",
		"Book the renewal call", "Send meeting notes"}
)

// gen carries the generator's state.
type gen struct {
	o   Options
	rng *rand.Rand
	w   *World
	ids map[CRM]*int64 // next record id per CRM (HubSpot shares one id space)
	// amoCRM has one counter per collection.
	amoNext map[string]int64
	b24Next map[string]int64
	events  int
}

// Generate builds the world for o. It is deterministic in o.
func Generate(o Options) *World {
	o = o.withDefaults()
	g := &gen{
		o:   o,
		rng: rand.New(rand.NewPCG(o.Seed, 0xc7a1_de30)),
		w:   &World{Seed: o.Seed, Now: o.Now, Start: o.Now.AddDate(0, -18, 0)},
		amoNext: map[string]int64{
			"user": 8000001, "company": 40400001, "contact": 50500001, "lead": 20500001, "task": 9000001, "note": 7700001,
		},
		b24Next: map[string]int64{"user": 11, "company": 1, "contact": 1, "deal": 1, "activity": 1},
	}
	hs := int64(5_100_000_001)
	g.ids = map[CRM]*int64{HubSpot: &hs}
	g.managers()
	for mi := range g.w.Managers {
		m := &g.w.Managers[mi]
		for ai, a := range m.Accounts {
			// A manager in two CRMs works mostly in the first.
			share := 1.0
			if len(m.Accounts) == 2 {
				share = []float64{0.65, 0.45}[ai]
			}
			g.account(m, a, share)
		}
		g.teamTasks(m)
	}
	g.w.Admins = []Account{{CRM: Bitrix24, UserID: "1", Email: "admin@northwind-demo.example", First: "Portal", Last: "Admin", Active: true}}
	slices.SortStableFunc(g.w.Activities, func(a, b Activity) int {
		return cmp.Or(strings.Compare(string(a.CRM), string(b.CRM)), a.At.Compare(b.At))
	})
	return g.w
}

// nextID returns the next id of kind in CRM c, as the warehouse stores it.
func (g *gen) nextID(c CRM, kind string) string {
	switch c {
	case HubSpot:
		p := g.ids[HubSpot]
		*p++
		return strconv.FormatInt(*p, 10)
	case AmoCRM:
		n := g.amoNext[kind]
		g.amoNext[kind]++
		return strconv.FormatInt(n, 10)
	default:
		n := g.b24Next[kind]
		g.b24Next[kind]++
		return strconv.FormatInt(n, 10)
	}
}

func (g *gen) managers() {
	n := g.o.Managers
	hsOwner := int64(71_200_001)
	for i := range n {
		p := roster[i%len(roster)]
		first, last := p.first, p.last
		if i >= len(roster) {
			last = fmt.Sprintf("%s-%d", last, i/len(roster)+1)
		}
		key := strings.ToLower(first + "." + last + "@northwind-demo.example")
		m := Manager{
			Key: key, Name: first + " " + last, Team: []string{"enterprise", "smb"}[i%2],
			Skill: skills[i%len(skills)], Active: true,
		}
		if i%3 != 2 {
			m.SlackID = fmt.Sprintf("U0%08X", uint32(g.rng.Uint64()))
		}
		if n >= 3 && i == n-1 {
			// The one who left: deactivated in every CRM, with clients
			// still assigned to them, as happens.
			m.Active = false
			m.LeftAt = g.o.Now.AddDate(0, 0, -75)
		}
		crms := []CRM{CRMs[i%3]}
		if i%4 == 1 || i%4 == 2 {
			crms = append(crms, CRMs[(i+1)%3])
		}
		for ai, c := range crms {
			a := Account{CRM: c, Email: key, First: first, Last: last, Active: m.Active}
			if ai == 1 {
				// The same person keyed in by another admin.
				a.Email = first + "." + last + "@Northwind-Demo.example"
			}
			switch c {
			case HubSpot:
				hsOwner++
				a.UserID = strconv.FormatInt(hsOwner, 10)
			default:
				a.UserID = g.nextID(c, "user")
			}
			m.Accounts = append(m.Accounts, a)
		}
		g.w.Managers = append(g.w.Managers, m)
	}
}

// between returns a time uniform in [a, b), to the second.
func (g *gen) between(a, b time.Time) time.Time {
	d := b.Sub(a)
	if d <= time.Second {
		return a
	}
	return a.Add(time.Duration(g.rng.Int64N(int64(d/time.Second))) * time.Second)
}

// workHours moves t to a working hour (Moscow time, 9:00-19:00) of its day.
func (g *gen) workHours(t time.Time) time.Time {
	loc := time.FixedZone("MSK", 3*3600)
	l := t.In(loc)
	day := time.Date(l.Year(), l.Month(), l.Day(), 9, 0, 0, 0, loc)
	return day.Add(time.Duration(g.rng.IntN(10*3600)) * time.Second).UTC()
}

func (g *gen) logNormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*g.rng.NormFloat64())
}

func (g *gen) pick(s []string) string { return s[g.rng.IntN(len(s))] }

// client is one client being generated: a company or a private contact.
type client struct {
	company  *Company // nil for a private client
	contacts []string // contact ids
	deals    []int    // indexes into World.Deals (which grows, so no pointers)
	currency string
	size     float64
}

func (g *gen) account(m *Manager, a Account, share float64) {
	perManager := map[string]float64{"enterprise": 34, "smb": 48}[m.Team]
	n := int(math.Round(perManager * share * g.o.Scale))
	n = max(n, 3)
	end := g.o.Now.AddDate(0, 0, -14)
	if !m.Active {
		end = m.LeftAt.AddDate(0, 0, -30)
	}
	for range n {
		g.client(m, a, g.between(g.w.Start, end), true)
	}
	if a.CRM == AmoCRM {
		// amoCRM accounts also sell to private persons: contacts without
		// a company, who are clients of their own.
		for range max(1, n/8) {
			g.client(m, a, g.between(g.w.Start, end), false)
		}
	}
}

func (g *gen) client(m *Manager, a Account, created time.Time, company bool) {
	now := g.o.Now
	c := &client{size: g.logNormal(1, 0.6)}
	switch a.CRM {
	case HubSpot:
		c.currency = []string{"EUR", "EUR", "EUR", "USD", "USD"}[g.rng.IntN(5)]
	case AmoCRM:
		c.currency = "RUB"
	default:
		c.currency = []string{"RUB", "RUB", "RUB", "RUB", "RUB", "RUB", "RUB", "USD", "USD", "EUR"}[g.rng.IntN(10)]
	}
	if company {
		name := g.pick(nameA) + g.pick(nameB)
		co := Company{
			CRM: a.CRM, ID: g.nextID(a.CRM, "company"), Name: name + " " + g.pick(legal[a.CRM]),
			Domain: strings.ToLower(name) + ".example", Owner: m.Key, OwnerID: a.UserID,
			CreatedAt: created, KeyClient: c.size > 1.6, Currency: c.currency,
		}
		g.w.Companies = append(g.w.Companies, co)
		c.company = &co
	}
	nContacts := 1
	if company {
		nContacts = 1 + g.rng.IntN(3)
	}
	for i := range nContacts {
		first, last := g.pick(firstNames), g.pick(lastNames)
		ct := Contact{
			CRM: a.CRM, ID: g.nextID(a.CRM, "contact"), First: first, Last: last,
			Owner: m.Key, OwnerID: a.UserID, CreatedAt: created.Add(time.Duration(i) * time.Hour),
		}
		if c.company != nil {
			ct.CompanyID = c.company.ID
			ct.Email = strings.ToLower(first+"."+last) + "@" + c.company.Domain
		} else {
			ct.Email = strings.ToLower(first+"."+last) + fmt.Sprintf("%d@mail.example", g.rng.IntN(100))
		}
		g.w.Contacts = append(g.w.Contacts, ct)
		c.contacts = append(c.contacts, ct.ID)
	}
	contactIdx := len(g.w.Contacts) - nContacts

	// Deals: a first deal soon after the client appears, then repeat
	// business after wins and second tries after losses.
	cycle := map[string][2]int{"enterprise": {20, 100}, "smb": {7, 45}}[m.Team]
	t := created.Add(time.Duration(1+g.rng.IntN(10)) * 24 * time.Hour)
	var firstWin time.Time
	lastActive := created
	for i := 0; t.Before(now) && (m.Active || t.Before(m.LeftAt)); i++ {
		repeat := !firstWin.IsZero()
		d := Deal{
			CRM: a.CRM, ID: g.nextID(a.CRM, map[CRM]string{AmoCRM: "lead", Bitrix24: "deal"}[a.CRM]),
			Owner: m.Key, OwnerID: a.UserID, CreatedAt: g.workHours(t), Currency: c.currency, Pipeline: "new",
		}
		if !d.CreatedAt.Before(now.Add(-2 * time.Hour)) {
			break // moved into working hours past now
		}
		if repeat {
			d.Pipeline = "renewal"
		}
		if c.company != nil {
			d.CompanyID = c.company.ID
		}
		if a.CRM != HubSpot || g.rng.IntN(5) != 0 {
			d.ContactID = c.contacts[g.rng.IntN(len(c.contacts))]
		}
		base := map[string]float64{"enterprise": 900_000, "smb": 160_000}[m.Team] * c.size
		if repeat {
			base *= 0.3 + 0.5*g.rng.Float64()
		}
		if c.currency != "RUB" {
			base /= 100
		}
		step := 1000.0
		if c.currency != "RUB" {
			step = 50
		}
		d.Amount = math.Max(step, math.Round(g.logNormal(base, 0.3)/step)*step)
		close := g.workHours(d.CreatedAt.Add(time.Duration(cycle[0]+g.rng.IntN(cycle[1]-cycle[0])) * 24 * time.Hour))
		if !close.After(d.CreatedAt) {
			close = d.CreatedAt.Add(time.Hour)
		}
		pWin := 0.18 + 0.28*m.Skill
		if repeat {
			pWin += 0.2
		}
		switch {
		case !close.Before(now.Add(-time.Hour)) || (!m.Active && !close.Before(m.LeftAt)):
			d.Status = StatusOpen
			d.ExpectedAt = close
			d.UpdatedAt = g.between(d.CreatedAt, minTime(now.Add(-time.Hour), d.CreatedAt.Add(30*24*time.Hour)))
		case g.rng.Float64() < pWin:
			d.Status, d.ClosedAt, d.UpdatedAt = StatusWon, close, close
			if firstWin.IsZero() {
				firstWin = close
			}
			if g.rng.IntN(100) < 35 {
				e := math.Round(d.Amount * (0.02 + 0.06*g.rng.Float64()))
				d.Expense = &e
			}
		default:
			d.Status, d.ClosedAt, d.UpdatedAt = StatusLost, close, close
		}
		if d.UpdatedAt.After(now) {
			d.UpdatedAt = now.Add(-time.Minute)
		}
		d.Name = g.dealName(c, d, i)
		d.Stage = stageOf(d)
		if (a.CRM == HubSpot || a.CRM == AmoCRM) && g.rng.IntN(60) == 0 {
			// Entered by mistake and deleted: counts nowhere.
			d.Deleted = true
		}
		g.w.Deals = append(g.w.Deals, d)
		c.deals = append(c.deals, len(g.w.Deals)-1)
		lastActive = maxTime(lastActive, maxTime(d.ClosedAt, d.CreatedAt))
		if d.Status == StatusOpen {
			lastActive = now
			break
		}
		gap := 20 + g.rng.IntN(90)
		if d.Status == StatusLost {
			if g.rng.IntN(10) < 5 {
				break
			}
			gap = 45 + g.rng.IntN(120)
		} else if g.rng.IntN(10) == 0 {
			break // a one-off purchase
		}
		t = close.Add(time.Duration(gap) * 24 * time.Hour)
	}

	// NPS: some contacts of clients who bought answered the survey.
	if !firstWin.IsZero() {
		for i := range nContacts {
			if g.rng.IntN(100) >= 60 {
				continue
			}
			at := g.workHours(g.between(firstWin, now.AddDate(0, 0, -2)))
			score := g.npsScore(m.Skill)
			if !at.Before(now) {
				continue
			}
			ct := &g.w.Contacts[contactIdx+i]
			ct.NPS, ct.NPSAt = &score, at
		}
	}

	engagedTo := minTime(now, lastActive.AddDate(0, 0, 60))
	if !m.Active {
		engagedTo = minTime(engagedTo, m.LeftAt)
	}
	g.activities(m, a, c, created, engagedTo)
}

func (g *gen) npsScore(skill float64) int {
	r := g.rng.Float64()
	promoter := math.Min(0.85, 0.2+0.4*(skill-0.5))
	detractor := math.Max(0.05, 0.4-0.3*(skill-0.5))
	switch {
	case r < promoter:
		return 9 + g.rng.IntN(2)
	case r < promoter+detractor:
		return g.rng.IntN(7)
	}
	return 7 + g.rng.IntN(2)
}

func (g *gen) dealName(c *client, d Deal, i int) string {
	who := "Private client"
	if c.company != nil {
		who = c.company.Name
	}
	what := []string{"Annual licence", "Pilot", "Implementation", "Platform rollout"}
	if d.Pipeline == "renewal" {
		what = []string{"Renewal", "Upsell: extra seats", "Cross-sell: analytics module", "Support upgrade"}
	}
	return fmt.Sprintf("%s — %s #%d", who, what[g.rng.IntN(len(what))], i+1)
}

// stageOf is the stage id of d in its CRM, as the warehouse stores it.
func stageOf(d Deal) string {
	renewal := d.Pipeline == "renewal"
	switch d.CRM {
	case HubSpot:
		if renewal {
			return map[string]string{StatusOpen: "1204587711", StatusWon: "1204587712", StatusLost: "1204587713"}[d.Status]
		}
		return map[string]string{StatusOpen: "qualifiedtobuy", StatusWon: "closedwon", StatusLost: "closedlost"}[d.Status]
	case AmoCRM:
		p, open := amoSalesPipeline, "61000002"
		if renewal {
			p, open = amoRenewPipeline, "62000001"
		}
		st := map[string]string{StatusOpen: open, StatusWon: "142", StatusLost: "143"}[d.Status]
		return strconv.Itoa(p) + ":" + st
	default:
		if renewal {
			return map[string]string{StatusOpen: "C1:NEW", StatusWon: "C1:WON", StatusLost: "C1:LOSE"}[d.Status]
		}
		return map[string]string{StatusOpen: "PREPARATION", StatusWon: "WON", StatusLost: "LOSE"}[d.Status]
	}
}

// activityID makes the id of a new activity as the warehouse stores it.
func (g *gen) activityID(a *Activity) string {
	switch a.CRM {
	case AmoCRM:
		switch {
		case a.Type == Message && !a.SMS:
			g.events++
			return fmt.Sprintf("event:01jdemo%019x", g.events)
		case a.Type == Task:
			return "task:" + g.nextID(a.CRM, "task")
		default:
			return "note:" + g.nextID(a.CRM, "note")
		}
	}
	return g.nextID(a.CRM, "activity")
}

// dialed marks a call connected or not. A dial nobody answered lasts
// nothing; in Bitrix24 it stays a planned (not completed) call activity,
// which is how Bitrix24 tells it apart.
func dialed(a *Activity, connected bool) {
	a.Connected = ptr(connected)
	if !connected {
		a.DurationS = 0
		if a.CRM == Bitrix24 {
			a.Completed = false
		}
	}
}

// link sets the activity's record links the way each CRM keeps them.
func (g *gen) link(act *Activity, c *client, at time.Time) {
	var deal *Deal
	for _, i := range c.deals {
		d := &g.w.Deals[i]
		if !d.CreatedAt.After(at) && (d.ClosedAt.IsZero() || !d.ClosedAt.Before(at)) && !d.Deleted {
			deal = d
		}
	}
	contact := c.contacts[g.rng.IntN(len(c.contacts))]
	switch act.CRM {
	case HubSpot:
		act.CompanyID = c.company.ID
		if g.rng.IntN(4) != 0 {
			act.ContactID = contact
		}
		if deal != nil && g.rng.IntN(2) == 0 {
			act.DealID = deal.ID
		}
	default:
		// One owner record: the deal in progress, a contact, or the
		// company.
		r := g.rng.IntN(4)
		switch {
		case deal != nil && r == 0:
			act.DealID = deal.ID
		case r == 1 || c.company == nil:
			act.ContactID = contact
		default:
			act.CompanyID = c.company.ID
		}
	}
}

// activities fills [from, to) with the week-by-week work on one client:
// outbound touches, inbound requests and the owner's answers, follow-up
// tasks and notes.
func (g *gen) activities(m *Manager, a Account, c *client, from, to time.Time) {
	now := g.o.Now
	rate := map[string]float64{"enterprise": 0.5, "smb": 0.3}[m.Team]
	add := func(act Activity) {
		if !act.At.Before(now) {
			return
		}
		act.ID = g.activityID(&act)
		g.w.Activities = append(g.w.Activities, act)
	}
	for week := from; week.Before(to); week = week.AddDate(0, 0, 7) {
		k := int(rate)
		if g.rng.Float64() < rate-float64(k) {
			k++
		}
		for range k {
			at := g.workHours(g.between(week, week.AddDate(0, 0, 5)))
			if !at.Before(to) {
				continue
			}
			act := Activity{CRM: a.CRM, Owner: m.Key, OwnerID: a.UserID, At: at, Completed: true, Direction: Outbound}
			g.link(&act, c, at)
			r := g.rng.IntN(100)
			switch {
			case r < 35:
				act.Type, act.Subject, act.DurationS = Call, "Check-in call", 60+g.rng.IntN(900)
				// One dial in six reaches nobody: it costs, but answers
				// nothing.
				dialed(&act, g.rng.IntN(6) != 0)
				if !*act.Connected {
					act.Subject = "No answer"
				}
			case r < 65:
				act.Type, act.Subject = Email, g.pick([]string{"Proposal", "Next steps", "Invoice", "Meeting recap"})
			case r < 65+map[string]int{"enterprise": 15, "smb": 7}[m.Team]:
				act.Type, act.Direction, act.Subject, act.DurationS = Meeting, "", "Account review", 3600
				if a.CRM == AmoCRM {
					// amoCRM has no meeting activity: a meeting is a task
					// of type 2, a to-do that costs nothing and answers
					// nothing.
					act.Type, act.TaskType, act.Subject = Task, 2, "Account review meeting"
				}
			case r < 90:
				act.Type, act.Direction, act.Subject = Note, "", g.pick([]string{"Client asked for a discount", "Budget approved for Q3", "New decision maker"})
			default:
				act.Type, act.Subject = Message, "Quick question"
				if a.CRM == HubSpot {
					act.Type = Email
				}
				// Half of amoCRM's messages go out by SMS.
				act.SMS = a.CRM == AmoCRM && g.rng.IntN(2) == 0
			}
			if act.Type != Call && act.Type != Meeting && act.TaskType != 2 {
				act.DurationS = 0
			}
			add(act)
			if g.rng.IntN(100) < 30 {
				due := act.At.Add(time.Duration(1+g.rng.IntN(4)) * 24 * time.Hour)
				task := Activity{CRM: a.CRM, Type: Task, Owner: m.Key, OwnerID: a.UserID, At: due, Subject: g.pick(followUps)}
				task.Completed = due.Before(now.Add(-24*time.Hour)) && g.rng.IntN(100) < 85
				if a.CRM == AmoCRM {
					task.TaskType = 1 // follow-up, every new task's default type
				}
				if a.CRM == HubSpot && g.rng.IntN(3) == 0 {
					// A body that only repeats the subject.
					task.Body = "<p>" + task.Subject + "</p>"
				}
				g.link(&task, c, due)
				add(task)
			}
		}
		if g.rng.Float64() < 0.3 {
			g.inbound(m, a, c, g.workHours(g.between(week, week.AddDate(0, 0, 7))), to)
		}
	}
}

// inbound adds a client's request at t and, usually, the owner's answer
// after a delay that depends on the manager.
func (g *gen) inbound(m *Manager, a Account, c *client, t, to time.Time) {
	now := g.o.Now
	if !t.Before(to) || !t.Before(now) {
		return
	}
	in := Activity{CRM: a.CRM, Direction: Inbound, Owner: m.Key, OwnerID: a.UserID, At: t, Completed: true}
	g.link(&in, c, t)
	r := g.rng.IntN(100)
	switch {
	case r < 45:
		in.Type, in.Subject = Email, "Question about the invoice"
	case r < 75:
		in.Type, in.Subject, in.DurationS = Call, "Incoming call", 30+g.rng.IntN(600)
		// One incoming call in five is missed: still a question to
		// answer.
		dialed(&in, g.rng.IntN(5) != 0)
	default:
		in.Type, in.Subject = Message, "Hi, can you help?"
		if a.CRM == HubSpot {
			in.Type, in.Subject = Email, "Support request"
		}
		in.SMS = a.CRM == AmoCRM && g.rng.IntN(2) == 0
	}
	if in.Type == Message && a.CRM == AmoCRM && !in.SMS {
		// amoCRM records an incoming chat message as created by the
		// client: it has no responsible user. An incoming SMS is a note
		// on the client's record, whose responsible user is its owner.
		in.Owner, in.OwnerID = "", ""
	}
	in.ID = g.activityID(&in)
	g.w.Activities = append(g.w.Activities, in)

	unanswered := 0.05 + 0.1*math.Max(0, 1.3-m.Skill)
	if g.rng.Float64() < unanswered {
		return
	}
	delay := time.Duration(g.logNormal(5/math.Pow(m.Skill, 2), 0.9) * float64(time.Hour))
	at := t.Add(max(delay, 5*time.Minute)).Truncate(time.Second)
	if !at.Before(now) || (!m.Active && !at.Before(m.LeftAt)) {
		return
	}
	ans := Activity{CRM: a.CRM, Type: in.Type, Direction: Outbound, Owner: m.Key, OwnerID: a.UserID, At: at, Completed: true,
		Subject: "Re: " + in.Subject, SMS: in.SMS}
	if in.Type == Call {
		ans.Subject, ans.DurationS = "Call back", 60+g.rng.IntN(600)
		dialed(&ans, true)
		if g.rng.IntN(3) == 0 {
			// A first dial, halfway, that nobody picked up: it must not
			// count as the answer.
			miss := Activity{CRM: a.CRM, Type: Call, Direction: Outbound, Owner: m.Key, OwnerID: a.UserID,
				At: t.Add(at.Sub(t) / 2).Truncate(time.Second), Completed: true, Subject: "No answer"}
			dialed(&miss, false)
			g.link(&miss, c, miss.At)
			miss.ID = g.activityID(&miss)
			g.w.Activities = append(g.w.Activities, miss)
		}
	}
	g.link(&ans, c, at)
	ans.ID = g.activityID(&ans)
	g.w.Activities = append(g.w.Activities, ans)
}

// teamTasks adds each month's team-initiative tasks of m, done and not.
func (g *gen) teamTasks(m *Manager) {
	a := m.Accounts[0]
	var companies []string
	for _, c := range g.w.Companies {
		if c.CRM == a.CRM && c.Owner == m.Key {
			companies = append(companies, c.ID)
		}
	}
	if len(companies) == 0 {
		return
	}
	now := g.o.Now
	for month := g.w.Start; month.Before(now); month = month.AddDate(0, 1, 0) {
		end := minTime(month.AddDate(0, 1, 0), now)
		if !m.Active {
			end = minTime(end, m.LeftAt)
		}
		if !month.Before(end) {
			break
		}
		n := g.rng.IntN(1 + int(3*m.Skill))
		for range n {
			t := Activity{CRM: a.CRM, Type: Task, Owner: m.Key, OwnerID: a.UserID, Subject: g.pick(teamTasks),
				At: g.workHours(g.between(month, end))}
			if !t.At.Before(now) {
				continue
			}
			t.Completed = t.At.Before(now.Add(-24*time.Hour)) && g.rng.Float64() < 0.55+0.25*m.Skill
			t.CompanyID = companies[g.rng.IntN(len(companies))]
			if t.CRM == AmoCRM {
				t.TaskType = AmoTeamTaskType
			}
			t.ID = g.activityID(&t)
			g.w.Activities = append(g.w.Activities, t)
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
