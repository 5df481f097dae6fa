package connectortest

import (
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// Row is the projection of one record that the tests compare, in the
// warehouse or in a connector's pages: the columns every CRM fills and
// every KPI depends on.
type Row struct {
	Name    string `json:",omitempty"`
	Owner   string `json:",omitempty"`
	Status  string `json:",omitempty"` // deals: open, won, lost
	Amount  string `json:",omitempty"` // deals, formatted with 'f', -1
	Type    string `json:",omitempty"` // activities
	Active  bool   `json:",omitempty"` // users
	Deleted bool   `json:",omitempty"`
}

// Rows are records keyed "table/id", table being users, companies,
// contacts, deals or activities (the objects' names).
type Rows map[string]Row

// Keys returns the keys of rs, sorted, for messages.
func (rs Rows) Keys() []string { return slices.Sorted(maps.Keys(rs)) }

// Tombstone marks keys deleted in want, keeping the values they had in
// before: the warehouse flags a deleted record and keeps its last columns.
func Tombstone(want, before Rows, keys ...string) {
	for _, k := range keys {
		r, ok := before[k]
		if !ok {
			panic("connectortest: no record " + k + " before the deletion")
		}
		r.Deleted = true
		want[k] = r
	}
}

// Pages applies connector pages to Rows as the warehouse applies them: a
// record replaces the stored one unless it is older, a deletion flags a
// stored record and keeps its columns, links and stages change no Row.
type Pages struct {
	Rows Rows
	upd  map[string]time.Time
}

// NewPages returns an empty Pages.
func NewPages() *Pages { return &Pages{Rows: Rows{}, upd: map[string]time.Time{}} }

func (ps *Pages) put(table string, m connectors.Meta, r Row) {
	k := table + "/" + m.ID
	if old, ok := ps.upd[k]; ok && m.UpdatedAt.Before(old) {
		return
	}
	r.Deleted = m.Deleted
	ps.Rows[k], ps.upd[k] = r, m.UpdatedAt
}

func amount(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// Add applies p.
func (ps *Pages) Add(p *connectors.Page) {
	for _, u := range p.Users {
		ps.put("users", u.Meta, Row{Name: u.Name, Active: u.Active})
	}
	for _, c := range p.Companies {
		ps.put("companies", c.Meta, Row{Name: c.Name, Owner: c.OwnerID})
	}
	for _, c := range p.Contacts {
		ps.put("contacts", c.Meta, Row{Name: c.Name, Owner: c.OwnerID})
	}
	for _, d := range p.Deals {
		ps.put("deals", d.Meta, Row{Name: d.Name, Owner: d.OwnerID, Status: d.Status, Amount: amount(d.Amount)})
	}
	for _, a := range p.Activities {
		ps.put("activities", a.Meta, Row{Owner: a.OwnerID, Type: a.Type})
	}
	for _, d := range p.Deletions {
		k := string(d.Object) + "/" + d.ID
		if r, ok := ps.Rows[k]; ok {
			r.Deleted = true
			ps.Rows[k] = r
		}
	}
}

// Reconcile flags deleted the stored records of obj whose ids are not in
// live, as the sync engine does for a connectors.Reconciler.
func (ps *Pages) Reconcile(obj connectors.Object, live []string) {
	seen := map[string]bool{}
	for _, id := range live {
		seen[string(obj)+"/"+id] = true
	}
	prefix := string(obj) + "/"
	for k, r := range ps.Rows {
		if len(k) > len(prefix) && k[:len(prefix)] == prefix && !seen[k] {
			r.Deleted = true
			ps.Rows[k] = r
		}
	}
}

// Clock is a settable clock shared by a fake, its connector and the sync
// engine. It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d (back when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
