package amocrm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// cursor is the opaque position of a pull, as JSON.
//
// Between runs it is {"v":1,"from":F}: the next window starts at F (the
// previous window's end minus Overlap, or the latest timestamp it read
// when earlier; 0 for a full load). During a run it
// also holds the window's end To (fixed at the run's start, inclusive, like
// amoCRM's filter), the phase (the sub-list: lead list then deleted leads;
// lead, contact, company notes; the events' lists, see eventLists) and the
// page inside it. For events, Types says how the account reads a comma
// list in filter[type] and is kept between runs ({"v":1,"from":F,
// "types":"list"}).
//
// Record lists are read with order[id]=asc and page numbers, over
// filter[updated_at] from F with NO upper bound. This is the reference's
// own recipe (§4, "order[id]=asc") and the ("ordered by id"), so any
// reading of the documents serves it; an account or fake that ignores the
// order still has a fixed order, and page numbers over a fixed set lose
// nothing. The open upper bound is what keeps page numbers honest while
// users edit: a record edited mid-pull gets a newer updated_at but stays in
// the set, at its id, so later pages do not shift (with [to] it would leave
// the set and the record after each page boundary would be skipped). It is
// read in its newer version, which the warehouse keeps. Only a record
// deleted mid-pull shifts the pages after it by one; the skipped record is
// unedited within a run that deleted a neighbour, a rare case the next full
// sync repairs.
//
// An earlier design read by keyset on order[updated_at]: loss-free under
// edits only if the server honours that order, and silently lossy (the
// keyset skips records) when it does not; the reference lists
// order[updated_at] for leads only.
type cursor struct {
	V     int   `json:"v"`
	From  int64 `json:"from"`
	To    int64 `json:"to,omitempty"`
	Phase int   `json:"phase,omitempty"`
	// Since is the keyset bound of the earlier design; a cursor carrying
	// one restarts its list at page 1.
	Since int64 `json:"since,omitempty"`
	Page  int   `json:"page,omitempty"`
	// Limit is the page size of the current list when a 504 made it
	// lower than the list's own (see lowerLimit); Page counts in it.
	Limit int `json:"limit,omitempty"`
	// Types is the events' filter[type] form: typesList once a comma
	// list brought events, typesEach once it brought none while single
	// types did; "" (between runs) or typesTry (during a run) while
	// unknown.
	Types string `json:"types,omitempty"`
	// Max is the latest window timestamp (updated_at, or the events'
	// created_at) of the records this run read, where the next window
	// starts when it is earlier than To minus the overlap (see run).
	Max int64 `json:"max,omitempty"`
}

// The values of cursor.Types.
const (
	typesTry  = "try"
	typesList = "list"
	typesEach = "each"
)

func parseCursor(s string) (cursor, error) {
	var c cursor
	if strings.TrimSpace(s) == "" {
		return cursor{V: 1}, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("unreadable cursor %.60q: %w", s, err)
	}
	if c.V != 1 || c.From < 0 || c.To < 0 || c.Phase < 0 || c.Page < 0 || c.Limit < 0 {
		return c, fmt.Errorf("unknown cursor %.60q", s)
	}
	return c, nil
}

func (c cursor) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// window names the timestamp a list is filtered on.
type window int

const (
	noWindow window = iota
	updatedWindow
	createdWindow
)

// list describes one sub-list of an object's pull.
type list struct {
	path    string
	name    string // key under _embedded
	limit   int
	window  window
	orderID bool // order[id]=asc
	paged   bool // page/limit parameters apply
	extra   url.Values
	// optional, when set, says what is lost when the server refuses the
	// list (a 4xx other than 402): the list is then skipped with that
	// warning. Deleted leads: the events feed carries them too. Events:
	// an account may refuse a type it does not have (the codes are
	// UNCONFIRMED), which must not cost the others.
	optional string
	// handle maps one record into the page.
	handle func(raw json.RawMessage, p *connectors.Page) error
	// before runs before every page of the list; it caches what it
	// loads (account currency, task type names).
	before func(ctx context.Context, cost *int) error
	// after, when set, completes a decoded page before it is emitted
	// (the events' restored records).
	after func(ctx context.Context, cost *int, p *connectors.Page) error
	// skip, when set, tells from the cursor that the list need not be
	// read in this run (events read one type per list once a comma list
	// has brought events).
	skip func(cur cursor) bool
	// verdict is what a page of this list with records proves about the
	// events' filter[type] while it is unknown (cursor.Types "try").
	verdict string
}

// Pull reads obj changed since cursor; see Connector.Pull and cursor.
func (c *Client) Pull(ctx context.Context, obj connectors.Object, cursorStr string, emit func(context.Context, *connectors.Page) error) error {
	cur, err := parseCursor(cursorStr)
	if err != nil {
		return c.http.Wrap(obj, 0, err)
	}
	w, err := c.expiryCheck()
	if err != nil {
		return c.http.Wrap(obj, 0, err)
	}
	if w != "" {
		c.warn.Once(ctx, "token-expiry", "token expires soon", "warning", w)
	}
	m := &mapper{fields: c.fields, key: c.opts.KeyClient, now: c.now().UTC()}
	if since := c.opts.Since; !since.IsZero() && cur.From == 0 {
		// A read from the start (a From of 0 is never an incremental
		// window's): from since for the lists amoCRM filters by the date
		// KPIs read them by, once a run begins, so a resumed run keeps
		// the set its page numbers count in; the tasks are dropped as
		// they come.
		switch obj {
		case connectors.ObjectDeals, ObjectNotes, ObjectEvents:
			if cur.To == 0 {
				cur.From = since.Unix()
			}
		case ObjectTasks:
			m.since = since
		}
	}
	if obj == ObjectEvents {
		if cur.To != 0 && cur.Types == "" {
			// A run of an earlier version, which read one type per list:
			// its phase and page mean other lists now. The window is read
			// again from its start; events are upserted by id.
			cur.Phase, cur.Page = 0, 1
		}
		if cur.Types == "" {
			cur.Types = typesTry
		}
	} else {
		cur.Types = ""
	}
	lists, err := c.lists(obj, m, cur.Types)
	if err != nil {
		return c.http.Wrap(obj, 0, err)
	}
	if cur.To == 0 {
		cur.To = c.now().Add(-c.opts.Lag).Unix()
		cur.Phase, cur.Since, cur.Page = 0, cur.From, 1
		if cur.To < cur.From {
			// A clock that went backwards; never move the start forwards.
			cur.To = cur.From
		}
	}
	if cur.Page == 0 || (cur.Since != 0 && cur.Since != cur.From) {
		cur.Page = 1
	}
	if cur.Phase >= len(lists) {
		// A phase this version does not have: read the window again.
		cur.Phase, cur.Page = 0, 1
	}
	cur.Since = 0
	return c.run(ctx, obj, cur, lists, emit)
}

func (c *Client) lists(obj connectors.Object, m *mapper, types string) ([]list, error) {
	limit := c.opts.PageSize
	switch obj {
	case connectors.ObjectUsers:
		return []list{{path: "/api/v4/users", name: "users", limit: limit, paged: true,
			handle: func(raw json.RawMessage, p *connectors.Page) error {
				u, err := m.user(raw)
				p.Users = append(p.Users, u)
				return err
			}}}, nil
	case connectors.ObjectStages:
		return []list{{path: "/api/v4/leads/pipelines", name: "pipelines",
			handle: func(raw json.RawMessage, p *connectors.Page) error {
				st, err := m.stages(raw)
				p.Stages = append(p.Stages, st...)
				return err
			}}}, nil
	case connectors.ObjectCompanies:
		return []list{{path: "/api/v4/companies", name: "companies", limit: limit, window: updatedWindow, orderID: true, paged: true,
			handle: func(raw json.RawMessage, p *connectors.Page) error {
				r, err := m.company(raw)
				p.Companies = append(p.Companies, r)
				return err
			}}}, nil
	case connectors.ObjectContacts:
		return []list{{path: "/api/v4/contacts", name: "contacts", limit: limit, window: updatedWindow, orderID: true, paged: true,
			handle: func(raw json.RawMessage, p *connectors.Page) error {
				r, err := m.contact(raw)
				p.Contacts = append(p.Contacts, r)
				return err
			}}}, nil
	case connectors.ObjectDeals:
		return []list{
			{path: "/api/v4/leads", name: "leads", limit: limit, window: updatedWindow, orderID: true, paged: true,
				extra: url.Values{"with": {"contacts"}},
				before: func(ctx context.Context, cost *int) error {
					cur, err := c.loadCurrency(ctx, cost)
					m.currency = cur
					return err
				},
				handle: func(raw json.RawMessage, p *connectors.Page) error {
					r, err := m.deal(raw)
					p.Deals = append(p.Deals, r)
					return err
				}},
			// Deleted leads that are still restorable, as minimal models:
			// read whole on every run, they become deletions.
			{path: "/api/v4/leads", name: "leads", limit: limit, orderID: true, paged: true, optional: "deletions still come from the events feed",
				extra: url.Values{"with": {"only_deleted"}},
				handle: func(raw json.RawMessage, p *connectors.Page) error {
					var w struct {
						ID        num             `json:"id"`
						UpdatedAt unixStamp       `json:"updated_at"`
						IsDeleted json.RawMessage `json:"is_deleted"`
						StatusID  json.RawMessage `json:"status_id"`
					}
					if err := json.Unmarshal(raw, &w); err != nil {
						return err
					}
					if w.ID == 0 {
						return fmt.Errorf("deleted lead without id")
					}
					// Without is_deleted, only the minimal model (no
					// status_id) is taken for a deleted lead: a whole lead
					// without the flag is a live one.
					if del, known := truthy(w.IsDeleted); (known && !del) || (!known && len(w.StatusID) > 0) {
						// A server that ignores with=only_deleted lists live
						// leads; deleting them would wipe the deals table.
						c.warnf("ignored-only-deleted", "the server ignored with=only_deleted (it listed a live lead: is_deleted false, or a whole lead without is_deleted); deleted leads come from lead_deleted events only")
						return errSkipList
					}
					p.Deletions = append(p.Deletions, connectors.Deletion{Object: connectors.ObjectDeals, ID: w.ID.id(), At: w.UpdatedAt.time()})
					return nil
				}},
		}, nil
	case ObjectTasks:
		// The tasks list sorts by created_at, complete_till or id only.
		return []list{{path: "/api/v4/tasks", name: "tasks", limit: limit, window: updatedWindow, orderID: true, paged: true,
			before: func(ctx context.Context, cost *int) error {
				if m.taskTypes == nil {
					m.taskTypes = c.loadTaskTypes(ctx, cost)
				}
				return nil
			},
			handle: func(raw json.RawMessage, p *connectors.Page) error {
				r, err := m.task(raw)
				if err == nil && m.old(r) {
					return nil
				}
				p.Activities = append(p.Activities, r)
				return err
			}}}, nil
	case ObjectNotes:
		var out []list
		for _, et := range []string{"leads", "contacts", "companies"} {
			out = append(out, list{path: "/api/v4/" + et + "/notes", name: "notes", limit: limit, window: updatedWindow, orderID: true, paged: true,
				handle: func(raw json.RawMessage, p *connectors.Page) error {
					a, ok, err := m.note(raw, et)
					if ok {
						p.Activities = append(p.Activities, a)
					}
					return err
				}})
		}
		return out, nil
	case ObjectEvents:
		return c.eventLists(m, types), nil
	}
	return nil, fmt.Errorf("unknown object %q", obj)
}

// eventLists reads the events feed of a window. The reference (§4) and
// the SDK's EventsFilter give filter[type] as a comma list, so every type
// the connector reads comes in one list, page after page, each event still
// checked to be of a wanted type (a server that ignores the filter then
// costs pages, not records). An account that read the comma list as one
// literal type would answer every window with nothing, silently; so until
// a comma list has brought an event (types "try"), a window it leaves
// empty is read again one type per list, each with a single filter[type]
// value, the form of the reference's sample (§6.4). Whichever form first
// brings an event is kept in the cursor for the next runs: "list" after
// that costs one request per page of events, "each" one list per type.
func (c *Client) eventLists(m *mapper, types string) []list {
	limit := min(c.opts.PageSize, eventsLimit)
	// restored holds the restore events of the page being decoded, for
	// after; a decode that is retried adds them again, so restore reads
	// each record once. before empties it for every page (a probe of
	// overAt decodes too).
	var restored []connectors.Deletion
	before := func(context.Context, *int) error { restored = nil; return nil }
	after := func(ctx context.Context, cost *int, p *connectors.Page) error {
		return c.restore(ctx, cost, m, restored, p)
	}
	keep := func(want func(string) bool) func(raw json.RawMessage, p *connectors.Page) error {
		return func(raw json.RawMessage, p *connectors.Page) error {
			var w struct {
				Type str `json:"type"`
			}
			if err := json.Unmarshal(raw, &w); err != nil {
				return err
			}
			if !want(string(w.Type)) {
				return nil
			}
			a, d, r, err := m.event(raw)
			if a != nil {
				p.Activities = append(p.Activities, *a)
			}
			if d != nil {
				p.Deletions = append(p.Deletions, *d)
			}
			if r != nil {
				restored = append(restored, *r)
			}
			return err
		}
	}
	var out []list
	if types != typesEach {
		l := list{path: "/api/v4/events", name: "events", limit: limit, window: createdWindow, paged: true,
			extra:   url.Values{"filter[type]": {strings.Join(eventTypes, ",")}},
			verdict: typesList, before: before, after: after,
			handle: keep(func(t string) bool { return slices.Contains(eventTypes, t) })}
		if types == typesTry {
			// The one-type lists follow; once the comma list is the
			// account's form, a refusal fails the run, window kept.
			l.optional = "the window is read one type per request"
		}
		out = append(out, l)
	}
	if types == typesList {
		return out
	}
	for _, typ := range eventTypes {
		l := list{path: "/api/v4/events", name: "events", limit: limit, window: createdWindow, paged: true,
			extra: url.Values{"filter[type]": {typ}}, before: before, after: after,
			optional: "events of this type are not read",
			handle:   keep(func(t string) bool { return t == typ })}
		if types == typesTry {
			l.verdict = typesEach
			l.skip = func(cur cursor) bool { return cur.Types == typesList }
		}
		out = append(out, l)
	}
	return out
}

// restore reads again each lead, contact and company a *_restored event
// of page p brought back, and adds it to p. Whether a restore bumps the
// record's updated_at is not documented; if not, the record would never
// come back through its list's window, and the deletion stored for it
// would stand. So the record is read by id, its UpdatedAt at least the
// restore's time (it then wins over the deletion, which the warehouse
// keeps at its own time), and a deletion of it earlier on p, which the
// warehouse would apply after the records, is dropped. A record not
// there (204, 404) or deleted again is left alone: its next deletion
// event says so.
func (c *Client) restore(ctx context.Context, cost *int, m *mapper, restored []connectors.Deletion, p *connectors.Page) error {
	type key struct {
		obj connectors.Object
		id  string
	}
	last := map[key]time.Time{}
	var order []key
	for _, r := range restored {
		k := key{r.Object, r.ID}
		at, seen := last[k]
		if !seen {
			order = append(order, k)
		}
		if !seen || r.At.After(at) {
			last[k] = r.At
		}
	}
	if len(order) == 0 {
		return nil
	}
	p.Deletions = slices.DeleteFunc(p.Deletions, func(d connectors.Deletion) bool {
		at, ok := last[key{d.Object, d.ID}]
		return ok && !d.At.After(at)
	})
	for _, k := range order {
		path, q := "/api/v4/companies/", url.Values(nil)
		switch k.obj {
		case connectors.ObjectDeals:
			path, q = "/api/v4/leads/", url.Values{"with": {"contacts"}}
			if m.currency == "" {
				cur, err := c.loadCurrency(ctx, cost)
				if err != nil {
					return err
				}
				m.currency = cur
			}
		case connectors.ObjectContacts:
			path = "/api/v4/contacts/"
		}
		var raw json.RawMessage
		_, err := c.getJSON(ctx, cost, path+k.id, q, func(b []byte) error {
			raw = append(json.RawMessage(nil), bytes.TrimSpace(b)...)
			return nil
		})
		var re *connectors.ResponseError
		if errors.As(err, &re) && re.Status == http.StatusNotFound {
			continue
		}
		if err != nil {
			return fmt.Errorf("read restored %s %s: %w", k.obj, k.id, err)
		}
		if len(raw) == 0 || raw[0] != '{' {
			continue // 204: not there
		}
		at := last[k]
		bump := func(meta *connectors.Meta) bool {
			if meta.Deleted {
				return false
			}
			if meta.UpdatedAt.Before(at) {
				meta.UpdatedAt = at
			}
			return true
		}
		switch k.obj {
		case connectors.ObjectDeals:
			var d connectors.Deal
			if d, err = m.deal(raw); err == nil && bump(&d.Meta) {
				p.Deals = append(p.Deals, d)
			}
		case connectors.ObjectContacts:
			var r connectors.Contact
			if r, err = m.contact(raw); err == nil && bump(&r.Meta) {
				p.Contacts = append(p.Contacts, r)
			}
		default:
			var r connectors.Company
			if r, err = m.company(raw); err == nil && bump(&r.Meta) {
				p.Companies = append(p.Companies, r)
			}
		}
		if err != nil {
			return fmt.Errorf("restored %s %s: %w", k.obj, k.id, err)
		}
	}
	return nil
}

// errSkipList, returned by a list's handle, drops the page and ends the
// list: the server does not serve what the list asked for.
var errSkipList = errors.New("skip list")

// listPage is one decoded list page.
type listPage struct {
	page   *connectors.Page
	stamps []int64 // the window timestamp of each record, -1 when absent
	ids    []string
	next   bool   // the server announced a next page
	href   string // the next link as given
	total  int
	skip   bool // a handle asked to skip the list
}

// decodeList decodes one list page. It accepts the HAL envelope as
// documented and the shapes a PHP server or an independent fake may give an
// empty collection: "_embedded": [] or null, "_links": [].
func decodeList(body []byte, l *list) (*listPage, error) {
	lp := &listPage{page: &connectors.Page{}}
	if b := bytes.TrimSpace(body); string(b) == "null" || string(b) == "[]" || string(b) == "{}" {
		// The "200 []" the reference warns is not the empty page (§3):
		// an empty page all the same, and no next.
		return lp, nil
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	var total num
	if json.Unmarshal(env["_total_items"], &total) == nil {
		lp.total = int(total)
	}
	if raw := bytes.TrimSpace(env["_links"]); len(raw) > 0 && raw[0] == '{' {
		var links map[string]json.RawMessage
		if err := json.Unmarshal(raw, &links); err != nil {
			return nil, fmt.Errorf("_links: %w", err)
		}
		var next struct {
			Href str `json:"href"`
		}
		if n := bytes.TrimSpace(links["next"]); len(n) > 0 && n[0] == '{' && json.Unmarshal(n, &next) == nil {
			lp.href = strings.TrimSpace(string(next.Href))
			lp.next = lp.href != ""
		}
	}
	var page, pages num
	if !lp.next && json.Unmarshal(env["_page"], &page) == nil && json.Unmarshal(env["_page_count"], &pages) == nil && page > 0 && pages > page {
		// A list that counts its pages (users, §6.7) and says more
		// follow, without a next link: the count is the server's word
		// too.
		lp.next = true
	}
	var items []json.RawMessage
	if raw := bytes.TrimSpace(env["_embedded"]); len(raw) > 0 && raw[0] == '{' {
		var emb map[string]json.RawMessage
		if err := json.Unmarshal(raw, &emb); err != nil {
			return nil, fmt.Errorf("_embedded: %w", err)
		}
		// A list, or an object keyed by index (connectors.List).
		var recs connectors.List[json.RawMessage]
		if err := recs.UnmarshalJSON(emb[l.name]); err != nil {
			return nil, fmt.Errorf("_embedded.%s: %w", l.name, err)
		}
		items = recs
	}
	lp.stamps = make([]int64, 0, len(items))
	for i, raw := range items {
		var st struct {
			ID        str        `json:"id"`
			UpdatedAt *unixStamp `json:"updated_at"`
			CreatedAt *unixStamp `json:"created_at"`
		}
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", l.name, i, err)
		}
		ts := int64(-1)
		switch {
		case l.window == updatedWindow && st.UpdatedAt != nil && *st.UpdatedAt > 0:
			ts = int64(*st.UpdatedAt)
		case l.window == createdWindow && st.CreatedAt != nil && *st.CreatedAt > 0:
			ts = int64(*st.CreatedAt)
		}
		lp.stamps = append(lp.stamps, ts)
		lp.ids = append(lp.ids, string(st.ID))
		if err := l.handle(raw, lp.page); err != nil {
			if errors.Is(err, errSkipList) {
				return &listPage{page: &connectors.Page{}, skip: true}, nil
			}
			return nil, fmt.Errorf("%s[%d]: %w", l.name, i, err)
		}
	}
	return lp, nil
}

// query builds the request of one page of l.
func (c *Client) query(l *list, cur cursor) url.Values {
	q := url.Values{}
	for k, v := range l.extra {
		q[k] = v
	}
	if l.paged {
		q.Set("limit", strconv.Itoa(l.limit))
		q.Set("page", strconv.Itoa(cur.Page))
	}
	if _, refused := c.noOrder.Load(l.key()); l.orderID && !refused {
		q.Set("order[id]", "asc")
	}
	switch l.window {
	case updatedWindow:
		// No [to]: see cursor. The reference gives notes and tasks a
		// single "since" value as well as [from]/[to]; the single form is
		// used once a server has ignored the range.
		if c.singleFilter(l.path) {
			q.Set("filter[updated_at]", strconv.FormatInt(cur.From, 10))
		} else {
			q.Set("filter[updated_at][from]", strconv.FormatInt(cur.From, 10))
		}
	case createdWindow:
		q.Set("filter[created_at][from]", strconv.FormatInt(cur.From, 10))
		q.Set("filter[created_at][to]", strconv.FormatInt(cur.To, 10))
	}
	return q
}

// key names l among the lists of its path: the deleted leads are not the
// leads.
func (l *list) key() string { return l.path + "?" + l.extra.Encode() }

// plainer makes the requests of l plainer after a validation error (400,
// 422), and reports whether there was anything left to drop. The
// reference gives order[...] for leads only, and for notes and tasks the
// single filter[updated_at] as well as [from]/[to]; a server that validates
// strictly may refuse either. Without the order a list still has a fixed
// order (see cursor); the single form is checked like the range.
func (c *Client) plainer(l *list) bool {
	if _, done := c.noOrder.Load(l.key()); l.orderID && !done {
		c.noOrder.Store(l.key(), true)
		c.warnf("no-order:"+l.path, l.path+" refused order[id]=asc; reading it in the server's order")
		return true
	}
	if l.window == updatedWindow && !c.singleFilter(l.path) {
		c.useSingle(l, "refused")
		return true
	}
	return false
}

// useSingle reads l with the single filter[updated_at] form from now on,
// after the server did what to the range form.
func (c *Client) useSingle(l *list, what string) {
	c.single.Store(l.path, true)
	c.warnf("single:"+l.path, l.path+" "+what+" filter[updated_at][from]; using the single filter[updated_at] form")
}

func (c *Client) singleFilter(path string) bool {
	_, ok := c.single.Load(path)
	return ok
}

// warnf logs msg once per key and Client.
func (c *Client) warnf(key, msg string) { c.warn.Once(context.Background(), key, msg) }

// maxEmptyPages is how many empty pages in a row, each with a next link
// to a later page, end a list. amoCRM answers the page after the last with
// 204, but generates _links.next without knowing whether more follow
// (reference §3), and a server may answer past the end with 200 and no
// records, still linking on, for ever. An empty page is not the end by
// itself (a server filtering a page after cutting it may empty it and go
// on), so the next ones are read before the list is taken as over.
const maxEmptyPages = 3

// paging is what run remembers about the list it reads, to tell a server
// that moves on from one that loops.
type paging struct {
	// seen holds a 64-bit hash of every id read from this list in this
	// run: a fifth of the memory of the ids themselves, and a false
	// "already read" would need all ids of a page to collide.
	seen  map[uint64]struct{}
	empty int    // empty pages in a row linking to a later page
	stuck bool   // the last page was empty and linked back to itself
	last  string // the id of the last record read
	full  bool   // the last page with records was full
}

func newPaging() paging { return paging{seen: map[uint64]struct{}{}} }

// idHash is the key of an id in paging.seen.
func idHash(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

func (c *Client) run(ctx context.Context, obj connectors.Object, cur cursor, lists []list, emit func(context.Context, *connectors.Page) error) error {
	overlap := int64(math.Ceil(c.opts.Overlap.Seconds()))
	pg := newPaging()
	cur.Phase = nextPhase(lists, cur, cur.Phase)
	for pageNo := 1; cur.Phase < len(lists); pageNo++ {
		l := &lists[cur.Phase]
		if cur.Limit > 0 && cur.Limit < l.limit {
			l.limit = cur.Limit
		}
		// reqs is what the page cost: its attempts, retries included,
		// and any account read it needed.
		var reqs int
		if l.before != nil {
			if err := l.before(ctx, &reqs); err != nil {
				return c.http.Wrap(obj, pageNo, err)
			}
		}
		var lp *listPage
		for {
			lp = nil
			status, err := c.getJSON(ctx, &reqs, l.path, c.query(l, cur), func(body []byte) error {
				var err error
				lp, err = decodeList(body, l)
				return err
			})
			var re *connectors.ResponseError
			if err != nil && errors.As(err, &re) && (re.Status == http.StatusBadRequest || re.Status == http.StatusUnprocessableEntity) && c.plainer(l) {
				// The list restarts in the plainer form.
				cur.Page = 1
				pg = newPaging()
				continue
			}
			if err != nil && l.optional != "" && errors.As(err, &re) && re.Status >= 400 && re.Status < 500 && re.Status != http.StatusPaymentRequired {
				c.warnf("optional:"+l.path+"?"+l.extra.Encode(), fmt.Sprintf("%s?%s answered %d; skipped (%s)", l.path, l.extra.Encode(), re.Status, l.optional))
				lp = &listPage{page: &connectors.Page{}, skip: true}
				break
			}
			if n := lowerLimit(l.limit); err != nil && l.paged && n > 0 && errors.As(err, &re) && re.Status == http.StatusGatewayTimeout {
				// A page too heavy for the server (reference §3, §5:
				// "504 → lower limit"): the same records, in smaller
				// pages. n divides the old limit, so the records read
				// so far end on a page boundary of the new one.
				c.warnf("504:"+l.path, fmt.Sprintf("%s answered 504 to limit=%d; reading it %d a page", l.path, l.limit, n))
				cur.Page = (cur.Page-1)*(l.limit/n) + 1
				cur.Limit, l.limit = n, n
				continue
			}
			if err != nil {
				return c.http.Wrap(obj, pageNo, err)
			}
			if status == http.StatusNoContent || lp == nil {
				lp = &listPage{page: &connectors.Page{}}
			}
			err = checkWindow(l, lp.stamps, cur.From, cur.To)
			if err != nil && l.window == updatedWindow && !c.singleFilter(l.path) {
				// Try the other documented form of the filter before
				// failing; the list restarts since its set was wrong.
				c.useSingle(l, "ignored")
				cur.Page = 1
				pg = newPaging()
				continue
			}
			if err != nil {
				return c.http.Wrap(obj, pageNo, err)
			}
			break
		}

		if l.after != nil && !lp.skip {
			if err := l.after(ctx, &reqs, lp.page); err != nil {
				return c.http.Wrap(obj, pageNo, err)
			}
		}
		nc := cur
		if l.verdict != "" && cur.Types == typesTry && lp.page.Len() > 0 {
			nc.Types = l.verdict
			if l.verdict == typesEach {
				c.warnf("types-each", fmt.Sprintf("%s answered filter[type]=%s with no events while filter[type]=%s has some; reading events one type per request from now on",
					l.path, strings.Join(eventTypes, ","), l.extra.Get("filter[type]")))
			}
		}
		done, err := c.advance(ctx, &reqs, l, &pg, lp, &nc)
		if err != nil {
			return c.http.Wrap(obj, pageNo, err)
		}
		if done {
			nc.Phase, nc.Page, nc.Limit = nextPhase(lists, nc, cur.Phase+1), 1, 0
			pg = newPaging()
		}
		if l.window != noWindow {
			for _, ts := range lp.stamps {
				nc.Max = max(nc.Max, ts)
			}
		}
		if nc.Phase >= len(lists) {
			// The next run's window: connectors.NextWindow. amoCRM's
			// filter is inclusive, so the records at the latest second
			// read are read again.
			from := cur.From
			if lists[0].window != noWindow {
				var latest time.Time
				if nc.Max > 0 {
					latest = time.Unix(nc.Max, 0)
				}
				from = max(connectors.NextWindow(time.Unix(cur.From, 0), time.Unix(cur.To, 0), time.Duration(overlap)*time.Second, latest).Unix(), 0)
			}
			types := nc.Types
			if types == typesTry {
				types = "" // still unknown: the next run tries again
			}
			nc = cursor{V: 1, From: from, Types: types}
		}
		page := lp.page
		page.Cursor = nc.String()
		page.Requests = reqs
		page.Total = lp.total
		if err := emit(ctx, page); err != nil {
			return err
		}
		cur = nc
		if cur.To == 0 {
			return nil
		}
	}
	return nil
}

// lowerLimit is the page size to try after a 504 at limit n: the next of
// 50 (the documents' recommended size), 25, 10, 5 and 1 below n that
// divides n; 0 when none is left.
func lowerLimit(n int) int {
	for _, d := range []int{50, 25, 10, 5, 1} {
		if d < n && n%d == 0 {
			return d
		}
	}
	return 0
}

// nextPhase is the first phase from p on whose list is to be read with
// cursor cur; len(lists) when none is.
func nextPhase(lists []list, cur cursor, p int) int {
	for p < len(lists) && lists[p].skip != nil && lists[p].skip(cur) {
		p++
	}
	return p
}

// advance decides where the list goes after page nc.Page: done when it
// is over, else nc.Page is the page to read next. It fails, before the
// page is emitted and so before the cursor can move past records not yet
// read, when the server does not move on: a page of records all read
// already (stuck on one page, or looping), or an empty page whose next
// link points back at itself twice. Taking either for the end of the list
// would end the run successfully with the rest of the list never read,
// and the next run would start after it.
func (c *Client) advance(ctx context.Context, cost *int, l *list, pg *paging, lp *listPage, nc *cursor) (done bool, err error) {
	switch {
	case lp.skip || !l.paged:
		// A refused list, or a list read in one request.
		return true, nil
	case len(lp.ids) == 0 && !lp.next:
		// 204, or an empty page that says no more.
		return true, nil
	case len(lp.ids) == 0:
		if np := linkPage(lp.href); np > 0 && np <= nc.Page {
			if pg.stuck {
				return false, &connectors.MalformedError{Detail: fmt.Sprintf(
					"%s page %d came back empty twice, its next link pointing back at page %d (%s): the server is stuck; stopped before the records not yet read",
					l.path, nc.Page, np, linkPath(lp.href))}
			}
			// Ask once more: an empty page may be a passing glitch.
			pg.stuck = true
			return false, nil
		}
		pg.stuck = false
		if pg.empty++; pg.empty >= maxEmptyPages {
			c.warnf("empty:"+l.path, fmt.Sprintf("%s answered %d empty pages in a row, each linking to the next; taking the list as over", l.path, pg.empty))
			return true, nil
		}
		nc.Page++
		return false, nil
	}
	fresh := false
	for _, id := range lp.ids {
		if _, ok := pg.seen[idHash(id)]; id == "" || !ok {
			fresh = true
			break
		}
	}
	if !fresh {
		over := false
		if pg.full && lp.ids[len(lp.ids)-1] == pg.last {
			// Shaped like the last page again: ask whether it was.
			if over, err = c.overAt(ctx, cost, l, pg, *nc); err != nil {
				return false, err
			}
		}
		if !over {
			return false, &connectors.MalformedError{Detail: fmt.Sprintf(
				"%s page %d repeats %d records already read (ids %s to %s) while records may follow: the server is stuck on one page or loops; stopped before the records not yet read",
				l.path, nc.Page, len(lp.ids), lp.ids[0], lp.ids[len(lp.ids)-1])}
		}
		// The repeat was the last page, clamped; nothing is new in it.
		c.warnf("clamp:"+l.path, l.path+" answers a page past the end with the last page again; checked that no record follows")
		lp.page = &connectors.Page{}
		return true, nil
	}
	for _, id := range lp.ids {
		if id != "" {
			pg.seen[idHash(id)] = struct{}{}
		}
	}
	pg.last, pg.full = lp.ids[len(lp.ids)-1], len(lp.ids) >= l.limit
	pg.empty, pg.stuck = 0, false
	if !lp.next {
		return true, nil
	}
	nc.Page++
	return false, nil
}

// overAt tells whether nothing follows the records read before page
// cur.Page of l, after that page repeated records already read. A server
// may clamp a page past the end to the last page (its next link generated
// whether or not more follow, reference §3), and so repeat the last page
// when the list ends exactly on a page boundary; a server stuck on one
// page repeats it whatever follows. One record is asked for at the offset
// the page should have started at (limit 1): nothing, or the last record
// read again (clamped), means the list is over; anything else, that the
// server did not move on.
func (c *Client) overAt(ctx context.Context, cost *int, l *list, pg *paging, cur cursor) (bool, error) {
	if pg.last == "" || l.limit <= 1 {
		return false, nil
	}
	q := c.query(l, cur)
	q.Set("limit", "1")
	q.Set("page", strconv.Itoa((cur.Page-1)*l.limit+1))
	var lp *listPage
	status, err := c.getJSON(ctx, cost, l.path, q, func(body []byte) error {
		var err error
		lp, err = decodeList(body, l)
		return err
	})
	if err != nil {
		return false, err
	}
	if status == http.StatusNoContent || lp == nil || len(lp.ids) == 0 {
		return true, nil
	}
	return len(lp.ids) == 1 && lp.ids[0] == pg.last, nil
}

// linkPage is the page parameter of a next link, 0 when it has none.
func linkPage(href string) int {
	u, err := url.Parse(href)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(u.Query().Get("page"))
	if err != nil || n < 1 {
		return 0
	}
	return n
}

// linkPath is the path and query of a link, for an error message; the
// host is the account's and says nothing new.
func linkPath(href string) string {
	u, err := url.Parse(href)
	if err != nil {
		return "unparsable link"
	}
	return u.RequestURI()
}

// checkWindow fails loudly when the account ignored the filter (a record
// older than the window): carrying on would silently re-read everything on
// every run, which amoCRM punishes with an IP ban. Records newer than an
// updated_at window are expected (it has no upper bound, see cursor).
func checkWindow(l *list, stamps []int64, lo, hi int64) error {
	if l.window == noWindow {
		return nil
	}
	field := "updated_at"
	if l.window == createdWindow {
		field = "created_at"
	}
	for _, ts := range stamps {
		if ts < 0 {
			continue
		}
		if ts < lo || (l.window == createdWindow && ts > hi) {
			return &connectors.MalformedError{Detail: fmt.Sprintf(
				"%s ignored filter[%s]: a record has %s %d outside the window [%d, %d]; the account may lack the filters API (is_api_filter_enabled)",
				l.path, field, field, ts, lo, hi)}
		}
	}
	return nil
}
