package amocrm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/crmkpi/crmkpi/connectors"
)

// cursor is the opaque position of a pull, as JSON.
//
// Between runs it is {"v":1,"from":F}: the next window starts at F (the
// previous window's end minus Overlap; 0 for a full load). During a run it
// also holds the window's end To (fixed at the run's start, inclusive, like
// amoCRM's filter), the phase (the sub-list: lead list then deleted leads;
// lead, contact, company notes) and the position inside it.
//
// Lists ordered by updated_at are read by keyset: Since is the lower bound
// of updated_at for the next request, Page the page within that bound. After
// each page Since moves to the last updated_at seen and Page restarts at 1,
// so a record edited during the pull (which leaves the closed window) never
// shifts the pages still to come: with page numbers over a fixed filter, that
// shift would skip an unrelated record. Page only grows while a page ends on
// the same second it started from (more than a page of records in one
// second). Lists that cannot be ordered by updated_at (tasks) or that do not
// change inside a closed window (events, deleted leads) use page numbers.
type cursor struct {
	V     int   `json:"v"`
	From  int64 `json:"from"`
	To    int64 `json:"to,omitempty"`
	Phase int   `json:"phase,omitempty"`
	Since int64 `json:"since,omitempty"`
	Page  int   `json:"page,omitempty"`
}

func parseCursor(s string) (cursor, error) {
	var c cursor
	if strings.TrimSpace(s) == "" {
		return cursor{V: 1}, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("unreadable cursor %.60q: %w", s, err)
	}
	if c.V != 1 || c.From < 0 || c.To < 0 || c.Phase < 0 || c.Page < 0 {
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
	keyset  bool // order by updated_at and read by keyset (see cursor)
	orderID bool // order[id]=asc
	paged   bool // page/limit parameters apply
	extra   url.Values
	// handle maps one record into the page.
	handle func(raw json.RawMessage, p *connectors.Page) error
	// before runs once before the first page of the list (account currency).
	before func(ctx context.Context) error
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
		c.warnOnce.Do(func() { c.log.WarnContext(ctx, "token expires soon", "connector", c.name, "warning", w) })
	}
	m := &mapper{fields: c.fields, now: c.now().UTC()}
	lists, err := c.lists(obj, m)
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
	if cur.Page == 0 {
		cur.Page = 1
	}
	return c.run(ctx, obj, cur, lists, emit)
}

func (c *Client) lists(obj connectors.Object, m *mapper) ([]list, error) {
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
		return []list{{path: "/api/v4/companies", name: "companies", limit: limit, window: updatedWindow, keyset: true, paged: true,
			handle: func(raw json.RawMessage, p *connectors.Page) error {
				r, err := m.company(raw)
				p.Companies = append(p.Companies, r)
				return err
			}}}, nil
	case connectors.ObjectContacts:
		return []list{{path: "/api/v4/contacts", name: "contacts", limit: limit, window: updatedWindow, keyset: true, paged: true,
			handle: func(raw json.RawMessage, p *connectors.Page) error {
				r, err := m.contact(raw)
				p.Contacts = append(p.Contacts, r)
				return err
			}}}, nil
	case connectors.ObjectDeals:
		return []list{
			{path: "/api/v4/leads", name: "leads", limit: limit, window: updatedWindow, keyset: true, paged: true,
				extra: url.Values{"with": {"contacts"}},
				before: func(ctx context.Context) error {
					cur, err := c.loadCurrency(ctx)
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
			{path: "/api/v4/leads", name: "leads", limit: limit, orderID: true, paged: true,
				extra: url.Values{"with": {"only_deleted"}},
				handle: func(raw json.RawMessage, p *connectors.Page) error {
					var w struct {
						ID        num `json:"id"`
						UpdatedAt num `json:"updated_at"`
					}
					if err := json.Unmarshal(raw, &w); err != nil {
						return err
					}
					if w.ID == 0 {
						return fmt.Errorf("deleted lead without id")
					}
					p.Deletions = append(p.Deletions, connectors.Deletion{Object: connectors.ObjectDeals, ID: w.ID.id(), At: w.UpdatedAt.time()})
					return nil
				}},
		}, nil
	case ObjectTasks:
		// The tasks list sorts by created_at, complete_till or id only.
		return []list{{path: "/api/v4/tasks", name: "tasks", limit: limit, window: updatedWindow, orderID: true, paged: true,
			handle: func(raw json.RawMessage, p *connectors.Page) error {
				r, err := m.task(raw)
				p.Activities = append(p.Activities, r)
				return err
			}}}, nil
	case ObjectNotes:
		var out []list
		for _, et := range []string{"leads", "contacts", "companies"} {
			out = append(out, list{path: "/api/v4/" + et + "/notes", name: "notes", limit: limit, window: updatedWindow, keyset: true, paged: true,
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
		return []list{{path: "/api/v4/events", name: "events", limit: min(limit, eventsLimit), window: createdWindow, paged: true,
			extra: url.Values{"filter[type]": {strings.Join(eventTypes, ",")}},
			handle: func(raw json.RawMessage, p *connectors.Page) error {
				a, d, err := m.event(raw)
				if a != nil {
					p.Activities = append(p.Activities, *a)
				}
				if d != nil {
					p.Deletions = append(p.Deletions, *d)
				}
				return err
			}}}, nil
	}
	return nil, fmt.Errorf("unknown object %q", obj)
}

// envelope is the HAL list envelope.
type envelope struct {
	TotalItems num `json:"_total_items"`
	Links      struct {
		Next *struct {
			Href string `json:"href"`
		} `json:"next"`
	} `json:"_links"`
	Embedded map[string]json.RawMessage `json:"_embedded"`
}

// stamp is the timestamp a window filters on.
type stamp struct {
	UpdatedAt *num `json:"updated_at"`
	CreatedAt *num `json:"created_at"`
}

// decodeList decodes one list page: its records mapped into a page, the
// window timestamps of the records (-1 when absent) and whether the server
// announced a next page.
func decodeList(body []byte, l *list) (p *connectors.Page, stamps []int64, next bool, total int, err error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, nil, false, 0, err
	}
	var items []json.RawMessage
	if raw, ok := env.Embedded[l.name]; ok && !bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, nil, false, 0, fmt.Errorf("_embedded.%s: %w", l.name, err)
		}
	}
	p = &connectors.Page{}
	stamps = make([]int64, 0, len(items))
	for i, raw := range items {
		var st stamp
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, nil, false, 0, fmt.Errorf("%s[%d]: %w", l.name, i, err)
		}
		ts := int64(-1)
		switch {
		case l.window == updatedWindow && st.UpdatedAt != nil && *st.UpdatedAt > 0:
			ts = int64(*st.UpdatedAt)
		case l.window == createdWindow && st.CreatedAt != nil && *st.CreatedAt > 0:
			ts = int64(*st.CreatedAt)
		}
		stamps = append(stamps, ts)
		if err := l.handle(raw, p); err != nil {
			return nil, nil, false, 0, fmt.Errorf("%s[%d]: %w", l.name, i, err)
		}
	}
	return p, stamps, env.Links.Next != nil && env.Links.Next.Href != "", int(env.TotalItems), nil
}

func (c *Client) run(ctx context.Context, obj connectors.Object, cur cursor, lists []list, emit func(context.Context, *connectors.Page) error) error {
	overlap := int64(math.Ceil(c.opts.Overlap.Seconds()))
	for pageNo := 1; cur.Phase < len(lists); pageNo++ {
		l := &lists[cur.Phase]
		var reqs int64
		pctx := withCounter(ctx, &reqs)
		if l.before != nil {
			if err := l.before(pctx); err != nil {
				return c.http.Wrap(obj, pageNo, err)
			}
		}
		q := url.Values{}
		for k, v := range l.extra {
			q[k] = v
		}
		if l.paged {
			q.Set("limit", strconv.Itoa(l.limit))
			q.Set("page", strconv.Itoa(cur.Page))
		}
		lo := cur.From
		if l.keyset {
			lo = cur.Since
			q.Set("order[updated_at]", "asc")
		} else if l.orderID {
			q.Set("order[id]", "asc")
		}
		switch l.window {
		case updatedWindow:
			q.Set("filter[updated_at][from]", strconv.FormatInt(lo, 10))
			q.Set("filter[updated_at][to]", strconv.FormatInt(cur.To, 10))
		case createdWindow:
			q.Set("filter[created_at][from]", strconv.FormatInt(lo, 10))
			q.Set("filter[created_at][to]", strconv.FormatInt(cur.To, 10))
		}
		var (
			page   *connectors.Page
			stamps []int64
			next   bool
			total  int
		)
		status, err := c.getJSON(pctx, l.path, q, func(body []byte) error {
			var err error
			page, stamps, next, total, err = decodeList(body, l)
			return err
		})
		if err != nil {
			return c.http.Wrap(obj, pageNo, err)
		}
		if status == http.StatusNoContent || page == nil {
			page, stamps, next = &connectors.Page{}, nil, false
		}
		if err := checkWindow(l, stamps, lo, cur.To); err != nil {
			return c.http.Wrap(obj, pageNo, err)
		}

		nc := cur
		switch {
		case !next || len(stamps) == 0:
			// No next link, or 204: the list is done.
			nc.Phase, nc.Since, nc.Page = cur.Phase+1, cur.From, 1
		case l.keyset:
			last := int64(-1)
			for _, ts := range stamps {
				last = max(last, ts)
			}
			if last > cur.Since {
				nc.Since, nc.Page = last, 1
			} else {
				nc.Page++
			}
		default:
			nc.Page++
		}
		if nc.Phase >= len(lists) {
			// The next run's window starts Overlap before this one's end:
			// the boundary second may have gained records after we read it.
			from := cur.From
			if lists[0].window != noWindow {
				from = max(cur.To-overlap, 0)
			}
			nc = cursor{V: 1, From: from}
		}
		page.Cursor = nc.String()
		page.Requests = int(reqs)
		page.Total = total
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

// checkWindow fails loudly when the account ignored the filter (a record
// outside the window) or the order (keyset lists must come sorted by
// updated_at): carrying on would silently re-read everything each run, or
// skip records.
func checkWindow(l *list, stamps []int64, lo, hi int64) error {
	if l.window == noWindow {
		return nil
	}
	field := "updated_at"
	if l.window == createdWindow {
		field = "created_at"
	}
	prev := int64(-1)
	for _, ts := range stamps {
		if ts < 0 {
			continue
		}
		if ts < lo || ts > hi {
			return &connectors.MalformedError{Detail: fmt.Sprintf(
				"%s ignored filter[%s]: a record has %s %d outside the window [%d, %d]; the account may lack the filters API (is_api_filter_enabled)",
				l.path, field, field, ts, lo, hi)}
		}
		if l.keyset && ts < prev {
			return &connectors.MalformedError{Detail: fmt.Sprintf("%s ignored order[updated_at]=asc (%d after %d)", l.path, ts, prev)}
		}
		prev = ts
	}
	return nil
}
