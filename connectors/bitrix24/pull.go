package bitrix24

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// cursor is the JSON state a pull resumes from.
//
// For companies, contacts, deals and activities: a full load has no From
// and scans every id; an incremental pull reads the window
// [From, To) of the modified time. To is fixed when a window begins (the
// run's start), After is the last id stored in it, so a resumed pull asks
// for ">ID After" in the same window. The last page's cursor opens the next
// window at To − Overlap and carries no To, so the next run sets its own.
//
// Users and stages are read whole every run: Start is the offset of the
// next user page, Done marks a finished refresh (the next run starts over).
type cursor struct {
	From  *time.Time `json:"from,omitempty"`
	To    *time.Time `json:"to,omitempty"`
	After int64      `json:"after,omitempty"`
	// TZ is the portal's offset in seconds when the cursor was made, so a
	// fresh process can write its first filter without asking.
	TZ    *int `json:"tz,omitempty"`
	Start int  `json:"start,omitempty"`
	Done  bool `json:"done,omitempty"`
}

func parseCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("bad cursor %q: %w", s, err)
	}
	return c, nil
}

func (c cursor) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// entity describes one crm.*.list object.
type entity struct {
	method   string
	modified string   // the modified-time field the windows filter on
	sel      []string // select; multi-fields (EMAIL) must be named
	mapped   []string // fields: keys whose UF codes are added to select
}

var entities = map[connectors.Object]entity{
	connectors.ObjectCompanies: {
		method: "crm.company.list", modified: "DATE_MODIFY",
		sel:    []string{"ID", "TITLE", "ASSIGNED_BY_ID", "DATE_CREATE", "DATE_MODIFY"},
		mapped: []string{"key_client"},
	},
	connectors.ObjectContacts: {
		method: "crm.contact.list", modified: "DATE_MODIFY",
		sel:    []string{"ID", "NAME", "SECOND_NAME", "LAST_NAME", "EMAIL", "COMPANY_ID", "ASSIGNED_BY_ID", "DATE_CREATE", "DATE_MODIFY"},
		mapped: []string{"nps_score", "nps_date"},
	},
	connectors.ObjectDeals: {
		method: "crm.deal.list", modified: "DATE_MODIFY",
		sel: []string{"ID", "TITLE", "CATEGORY_ID", "STAGE_ID", "STAGE_SEMANTIC_ID", "CLOSED", "OPPORTUNITY",
			"CURRENCY_ID", "CLOSEDATE", "DATE_CREATE", "DATE_MODIFY", "MOVED_TIME", "ASSIGNED_BY_ID",
			"COMPANY_ID", "CONTACT_ID"},
		mapped: []string{"deal_expense"},
	},
	connectors.ObjectActivities: {
		method: "crm.activity.list", modified: "LAST_UPDATED",
		sel: []string{"ID", "OWNER_ID", "OWNER_TYPE_ID", "TYPE_ID", "PROVIDER_ID", "PROVIDER_TYPE_ID",
			"SUBJECT", "DESCRIPTION", "CREATED", "LAST_UPDATED", "START_TIME", "END_TIME", "DEADLINE",
			"COMPLETED", "STATUS", "RESPONSIBLE_ID", "DIRECTION"},
	},
}

func (c *Client) selectFor(e entity) []string {
	sel := slices.Clone(e.sel)
	for _, k := range e.mapped {
		if code := c.opts.Fields[k]; code != "" && !slices.Contains(sel, code) {
			sel = append(sel, code)
		}
	}
	return sel
}

// Pull fetches obj; see connectors.Connector. Each page is one HTTP request
// (a batch of up to 50 chained list calls: up to 2,500 records).
func (c *Client) Pull(ctx context.Context, obj connectors.Object, cur string, emit func(context.Context, *connectors.Page) error) error {
	cr, err := parseCursor(cur)
	if err != nil {
		return c.fail(obj, 0, err)
	}
	switch obj {
	case connectors.ObjectUsers:
		return c.pullUsers(ctx, cr, emit)
	case connectors.ObjectStages:
		return c.pullStages(ctx, emit)
	}
	e, ok := entities[obj]
	if !ok {
		return c.fail(obj, 0, fmt.Errorf("unknown object %q", obj))
	}
	return c.pullEntity(ctx, obj, e, cr, emit)
}

// loc is the portal's zone as far as known (UTC before any answer).
func (c *Client) loc() *time.Location {
	if !c.offsetKnown.Load() {
		return time.UTC
	}
	off := int(c.offset.Load())
	return time.FixedZone("", off)
}

// portalLoc returns the portal's zone for writing filters: learned from an
// earlier answer, else the cursor's, else asked of server.time (one
// request, counted in requests).
func (c *Client) portalLoc(ctx context.Context, cr cursor, requests *int) (*time.Location, error) {
	if c.offsetKnown.Load() {
		return c.loc(), nil
	}
	if cr.TZ != nil {
		return time.FixedZone("", *cr.TZ), nil
	}
	env, err := c.call(ctx, "server.time", map[string]any{})
	*requests++
	if err != nil {
		return nil, fmt.Errorf("read portal time: %w", err)
	}
	if !c.offsetKnown.Load() {
		var s string
		json.Unmarshal(env.Result, &s)
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, &connectors.MalformedError{Detail: "server.time result", Err: err}
		}
		_, off := t.Zone()
		c.offset.Store(int64(off))
		c.offsetKnown.Store(true)
	}
	return c.loc(), nil
}

// portalTime writes t as the portal's wall-clock time with its offset,
// "2006-01-02T15:04:05+03:00": portals have been seen to read the wall
// clock and ignore the offset (b24-rest-docs #215), and this form is right
// under either reading.
func portalTime(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02T15:04:05-07:00")
}

func (c *Client) tzPtr() *int {
	if !c.offsetKnown.Load() {
		return nil
	}
	off := int(c.offset.Load())
	return &off
}

func (c *Client) pullEntity(ctx context.Context, obj connectors.Object, e entity, cr cursor, emit func(context.Context, *connectors.Page) error) error {
	requests := 0
	if cr.To == nil {
		now := c.opts.Now().UTC().Truncate(time.Second)
		cr.To, cr.After = &now, 0
	}
	filter := map[string]any{}
	if cr.From != nil {
		loc, err := c.portalLoc(ctx, cr, &requests)
		if err != nil {
			return c.fail(obj, 1, err)
		}
		filter[">="+e.modified] = portalTime(*cr.From, loc)
		filter["<"+e.modified] = portalTime(*cr.To, loc)
	}
	sel := c.selectFor(e)
	// Start with one call: most incremental windows hold a few changes,
	// and a chain beyond a short page only re-reads rows. Once a page is
	// full, chain the whole batch.
	n := 1
	for page := 1; ; page++ {
		rows, last, done, err := c.scan(ctx, e.method, sel, filter, cr.After, n)
		requests++
		if err != nil {
			return c.fail(obj, page, err)
		}
		p := &connectors.Page{Requests: requests}
		m := &mapper{loc: c.loc(), fields: c.opts.Fields}
		if err := m.mapRows(obj, rows, p); err != nil {
			return c.fail(obj, page, err)
		}
		if len(rows) > 0 {
			cr.After = last
		}
		cr.TZ = c.tzPtr()
		if done {
			next := cursor{From: ptr(cr.To.Add(-c.opts.Overlap)), TZ: cr.TZ}
			p.Cursor = next.String()
		} else {
			p.Cursor = cr.String()
		}
		if err := emit(ctx, p); err != nil {
			return err
		}
		if done {
			return nil
		}
		requests = 0
		n = c.opts.BatchSize
	}
}

func ptr[T any](v T) *T { return &v }

// scan reads up to n pages of the ID scan after id after in one request:
// a direct call for n = 1, else a batch whose call k filters ">ID" on
// $result[c(k-1)][49][ID]. It stops at the first short page: a reference
// past the end of a short page does not resolve and the calls after it
// re-read from the start, so their rows are dropped.
func (c *Client) scan(ctx context.Context, method string, sel []string, filter map[string]any, after int64, n int) (rows []json.RawMessage, last int64, done bool, err error) {
	params := func(afterRef string) map[string]any {
		f := maps.Clone(filter)
		f[">ID"] = afterRef
		return map[string]any{"order": map[string]any{"ID": "ASC"}, "filter": f, "select": sel, "start": -1}
	}
	var pages []json.RawMessage
	if n <= 1 {
		env, err := c.call(ctx, method, params(strconv.FormatInt(after, 10)))
		if err != nil {
			return nil, 0, false, err
		}
		pages = append(pages, env.Result)
	} else {
		calls := make([]subCall, n)
		for k := range calls {
			ref := strconv.FormatInt(after, 10)
			if k > 0 {
				ref = fmt.Sprintf("$result[%s][%d][ID]", cmdKey(k-1), pageSize-1)
			}
			calls[k] = subCall{method: method, params: params(ref)}
		}
		br, err := c.batch(ctx, calls)
		if err != nil {
			return nil, 0, false, err
		}
		for k := range calls {
			pages = append(pages, br.results[cmdKey(k)])
		}
	}
	last = after
	for k, raw := range pages {
		var page []json.RawMessage
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, 0, false, &connectors.MalformedError{Detail: fmt.Sprintf("%s page %d of batch", method, k+1), Err: err}
		}
		for _, r := range page {
			var row struct {
				ID json.RawMessage `json:"ID"`
			}
			if err := json.Unmarshal(r, &row); err != nil {
				return nil, 0, false, &connectors.MalformedError{Detail: method + " row", Err: err}
			}
			idText, _ := rawString(row.ID)
			id, err := strconv.ParseInt(idText, 10, 64)
			if err != nil || id <= last {
				// The scan must move forward, or a resumed cursor would
				// skip or loop: a server ignoring ">ID" is a broken answer.
				return nil, 0, false, &connectors.MalformedError{Detail: fmt.Sprintf("%s ID scan did not advance past %d", method, last)}
			}
			last = id
			rows = append(rows, r)
		}
		if len(page) < pageSize {
			return rows, last, true, nil
		}
	}
	return rows, last, false, nil
}

// ListIDs hands every live id of obj to emit, one batch request (up to
// 2,500 ids) at a time, selecting ID only.
func (c *Client) ListIDs(ctx context.Context, obj connectors.Object, emit func(ids []string) error) error {
	e, ok := entities[obj]
	if !ok {
		return c.fail(obj, 0, fmt.Errorf("cannot list ids of %q", obj))
	}
	var after int64
	n := 1
	for page := 1; ; page++ {
		rows, last, done, err := c.scan(ctx, e.method, []string{"ID"}, map[string]any{}, after, n)
		if err != nil {
			return c.fail(obj, page, err)
		}
		ids := make([]string, 0, len(rows))
		for _, r := range rows {
			var row struct {
				ID json.RawMessage `json:"ID"`
			}
			json.Unmarshal(r, &row)
			id, _ := rawString(row.ID)
			ids = append(ids, id)
		}
		if len(ids) > 0 {
			if err := emit(ids); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
		after = last
		n = c.opts.BatchSize
	}
}

// pullUsers reads every user (active or not: deactivated users keep their
// history) with offset paging: user.get has no modified filter, and the
// first page's total lets the rest go in batches of known offsets.
func (c *Client) pullUsers(ctx context.Context, cr cursor, emit func(context.Context, *connectors.Page) error) error {
	start := cr.Start
	if cr.Done {
		start = 0
	}
	params := func(start int) map[string]any {
		return map[string]any{"SORT": "ID", "ORDER": "ASC", "start": start}
	}
	env, err := c.call(ctx, "user.get", params(start))
	if err != nil {
		return c.fail(connectors.ObjectUsers, 1, err)
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(env.Result, &rows); err != nil {
		return c.fail(connectors.ObjectUsers, 1, &connectors.MalformedError{Detail: "user.get result", Err: err})
	}
	total := 0
	if s, ok := rawString(env.Total); ok {
		n, _ := parseInt(s)
		total = int(n)
	}
	next := start + len(rows)
	page := 1
	done := len(rows) < pageSize || next >= total
	if err := c.emitUsers(ctx, rows, page, next, total, done, emit); err != nil {
		return err
	}
	for !done {
		page++
		var calls []subCall
		for s := next; s < total && len(calls) < c.opts.BatchSize; s += pageSize {
			calls = append(calls, subCall{method: "user.get", params: params(s)})
		}
		br, err := c.batch(ctx, calls)
		if err != nil {
			return c.fail(connectors.ObjectUsers, page, err)
		}
		var all []json.RawMessage
		for k := range calls {
			var sub []json.RawMessage
			if err := json.Unmarshal(br.results[cmdKey(k)], &sub); err != nil {
				return c.fail(connectors.ObjectUsers, page, &connectors.MalformedError{Detail: "user.get result", Err: err})
			}
			all = append(all, sub...)
			if len(sub) < pageSize {
				done = true
				break
			}
		}
		next += len(all)
		done = done || next >= total
		if err := c.emitUsers(ctx, all, page, next, total, done, emit); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) emitUsers(ctx context.Context, rows []json.RawMessage, page, next, total int, done bool, emit func(context.Context, *connectors.Page) error) error {
	m := &mapper{loc: c.loc(), seen: c.opts.Now().UTC()}
	p := &connectors.Page{Requests: 1, Total: total}
	if err := m.mapRows(connectors.ObjectUsers, rows, p); err != nil {
		return c.fail(connectors.ObjectUsers, page, err)
	}
	if done {
		p.Cursor = cursor{Done: true}.String()
	} else {
		p.Cursor = cursor{Start: next}.String()
	}
	return emit(ctx, p)
}

// pullStages reads the deal pipelines (crm.category.list) and, in one batch,
// the stages of each (crm.status.list, ENTITY_ID DEAL_STAGE for the
// default pipeline 0, DEAL_STAGE_{id} for the others), as one page.
func (c *Client) pullStages(ctx context.Context, emit func(context.Context, *connectors.Page) error) error {
	obj := connectors.ObjectStages
	type category struct {
		ID   json.RawMessage `json:"id"`
		Name string          `json:"name"`
	}
	names := map[string]string{}
	order := []string{"0"}
	requests := 0
	for start := 0; ; {
		env, err := c.call(ctx, "crm.category.list", map[string]any{"entityTypeId": 2, "start": start})
		requests++
		if err != nil {
			return c.fail(obj, 1, fmt.Errorf("list pipelines: %w", err))
		}
		var res struct {
			Categories []category `json:"categories"`
		}
		if err := json.Unmarshal(env.Result, &res); err != nil {
			return c.fail(obj, 1, &connectors.MalformedError{Detail: "crm.category.list result", Err: err})
		}
		for _, cat := range res.Categories {
			id, _ := rawString(cat.ID)
			if id == "" {
				continue
			}
			if _, ok := names[id]; !ok && id != "0" {
				order = append(order, id)
			}
			names[id] = cat.Name
		}
		s, ok := rawString(env.Next)
		if !ok || s == "" {
			break
		}
		n, err := parseInt(s)
		if err != nil || int(n) <= start {
			break
		}
		start = int(n)
	}
	p := &connectors.Page{}
	m := &mapper{loc: c.loc(), seen: c.opts.Now().UTC()}
	for i := 0; i < len(order); i += c.opts.BatchSize {
		chunk := order[i:min(i+c.opts.BatchSize, len(order))]
		calls := make([]subCall, len(chunk))
		for k, id := range chunk {
			entityID := "DEAL_STAGE"
			if id != "0" {
				entityID = "DEAL_STAGE_" + id
			}
			calls[k] = subCall{method: "crm.status.list", params: map[string]any{
				"filter": map[string]any{"ENTITY_ID": entityID}, "order": map[string]any{"SORT": "ASC"},
			}}
		}
		br, err := c.batch(ctx, calls)
		requests++
		if err != nil {
			return c.fail(obj, 1, fmt.Errorf("list stages: %w", err))
		}
		for k, id := range chunk {
			var rows []json.RawMessage
			if err := json.Unmarshal(br.results[cmdKey(k)], &rows); err != nil {
				return c.fail(obj, 1, &connectors.MalformedError{Detail: "crm.status.list result", Err: err})
			}
			for _, raw := range rows {
				st, err := m.stage(raw, id, names[id])
				if err != nil {
					return c.fail(obj, 1, &connectors.MalformedError{Detail: "stage", Err: err})
				}
				p.Stages = append(p.Stages, st)
			}
		}
	}
	p.Requests = requests
	p.Cursor = cursor{Done: true}.String()
	if err := emit(ctx, p); err != nil {
		return err
	}
	return nil
}
