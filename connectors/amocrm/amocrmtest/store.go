package amocrmtest

import (
	"encoding/json"
	"sort"
	"strconv"
)

// Entity names one collection of the fake account, by its API path.
type Entity string

// The collections the fake serves. Notes live under the entity they belong to,
// as in the API (/api/v4/leads/notes and so on).
const (
	Leads        Entity = "leads"
	Contacts     Entity = "contacts"
	Companies    Entity = "companies"
	Tasks        Entity = "tasks"
	Users        Entity = "users"
	LeadNotes    Entity = "leads/notes"
	ContactNotes Entity = "contacts/notes"
	CompanyNotes Entity = "companies/notes"
	Events       Entity = "events"
)

// Object is one record in the vendor's JSON shape, as documented in
// reference/amocrm.md. The fake stores and serves it as given (apart from the
// bookkeeping keys it owns: id, created_at, updated_at, _links), so tests can
// put quirks in it (strings for numbers, nulls).
type Object = map[string]any

type record struct {
	id      int64  // numeric id; 0 for events
	sid     string // events: string id
	created int64
	updated int64
	obj     Object
	deleted bool // kept for Restore (and, leads, with=only_deleted)
}

// collection keeps its records indexed by id and, lazily, sorted two ways, so
// that a page costs a binary search and a slice rather than a full sort.
type collection struct {
	byID   map[string]*record
	dirty  bool
	byKey  []*record // by id (events: created_at, id)
	byUpd  []*record // by updated_at, id
	nextID int64
}

func newCollection() *collection {
	return &collection{byID: map[string]*record{}}
}

func (c *collection) put(r *record) {
	c.byID[r.key()] = r
	c.dirty = true
	if r.id >= c.nextID {
		c.nextID = r.id + 1
	}
}

func (c *collection) remove(key string) {
	delete(c.byID, key)
	c.dirty = true
}

func (r *record) key() string {
	if r.sid != "" {
		return r.sid
	}
	return strconv.FormatInt(r.id, 10)
}

func (c *collection) sorted() (byKey, byUpd []*record) {
	if !c.dirty && c.byKey != nil {
		return c.byKey, c.byUpd
	}
	c.byKey = c.byKey[:0]
	for _, r := range c.byID {
		c.byKey = append(c.byKey, r)
	}
	c.byUpd = append([]*record(nil), c.byKey...)
	sort.Slice(c.byKey, func(i, j int) bool {
		a, b := c.byKey[i], c.byKey[j]
		if a.sid != "" || b.sid != "" {
			if a.created != b.created {
				return a.created < b.created
			}
			return a.sid < b.sid
		}
		return a.id < b.id
	})
	sort.Slice(c.byUpd, func(i, j int) bool {
		a, b := c.byUpd[i], c.byUpd[j]
		if a.updated != b.updated {
			return a.updated < b.updated
		}
		return a.id < b.id
	})
	c.dirty = false
	return c.byKey, c.byUpd
}

// num reads an integer the way the fake stores it: Go numbers, json.Number or
// numeric strings (a test may store "1718001234" to mimic a quirk).
func num(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case float64:
		return int64(x), true
	case json.Number:
		n, err := x.Int64()
		if err != nil {
			f, ferr := x.Float64()
			return int64(f), ferr == nil
		}
		return n, true
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// clone copies an object deeply enough that callers cannot change the fake's
// copy behind its back (nested maps and slices are copied).
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = clone(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = clone(e)
		}
		return s
	case []map[string]any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = clone(e)
		}
		return s
	}
	return v
}
