package bitrix24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
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
// window (nextFrom) and carries no To, so the next run sets its own.
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
	// Scan is the scan of a full load from Options.Since under way (see
	// sinceScans); After counts in it.
	Scan int `json:"scan,omitempty"`
	// Offset marks a scan of a portal that ignores the ">ID" filter: it
	// pages by offset (Start), and After is the last ID read.
	Offset bool `json:"offset,omitempty"`
	// Max is the latest DATE_MODIFY (LAST_UPDATED) of the rows this run
	// read, kept in every page's cursor so that a resumed run's next
	// window starts no later than what it read before (nextFrom).
	Max *time.Time `json:"max,omitempty"`
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
			"COMPLETED", "STATUS", "RESPONSIBLE_ID", "DIRECTION", "SETTINGS"},
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
// request, counted in requests). known is false when none of them told
// (no date_start in any time block, no server.time, no offset in its
// answer): the zone is then UTC, a guess the caller must widen for.
func (c *Client) portalLoc(ctx context.Context, cr cursor, requests *int) (loc *time.Location, known bool, err error) {
	if c.offsetKnown.Load() {
		return c.loc(), true, nil
	}
	if cr.TZ != nil {
		return time.FixedZone("", *cr.TZ), true, nil
	}
	env, err := c.call(ctx, "server.time", map[string]any{})
	*requests++
	if err != nil {
		if isFatal(err) {
			return nil, false, fmt.Errorf("read portal time: %w", err)
		}
		c.log.WarnContext(ctx, "portal time unknown; widening the window", "error", err.Error())
		return time.UTC, false, nil
	}
	if !c.offsetKnown.Load() {
		s, _ := rawString(env.Result)
		if !c.learnOffset(s) {
			c.log.WarnContext(ctx, "portal time has no offset; widening the window", "server_time", s)
			return time.UTC, false, nil
		}
	}
	return c.loc(), true, nil
}

// zoneSlack widens a window whose filter had to be written without
// knowing the portal's offset: UTC offsets run from -12:00 to +14:00, so
// a portal reading our wall clock as its own is at most 14 h off.
const zoneSlack = 14 * time.Hour

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
	scans := []sinceScan{{}}
	if cr.From == nil {
		if ss := c.sinceScans(obj); len(ss) > 0 {
			scans = ss
		}
	}
	if cr.Scan >= len(scans) {
		// A scan from a since no longer set: read the table from its
		// start, which loses nothing.
		cr.Scan, cr.After = 0, 0
	}
	filter, err := c.scanFilter(ctx, e, cr, scans[cr.Scan], &requests)
	if err != nil {
		return c.fail(obj, 1, err)
	}
	sel := c.selectFor(e)
	// An incremental window starts with one call: most hold a few
	// changes, and a chain beyond a short page only re-reads rows. Once a
	// page is full, chain the whole batch. A full load chains from the
	// start: its first page is full unless the table is nearly empty, and
	// a batch costs one request of the limit like a single call; its later
	// scans from since start with one call, as windows do.
	n := 1
	if cr.From == nil && cr.Scan == 0 {
		n = c.opts.BatchSize
	}
	for page := 1; ; page++ {
		if c.noIDFilter.Load() && !cr.Offset {
			// Learned in another scan: this one pages by offset too,
			// from its start.
			cr.Offset, cr.Start, cr.After = true, 0, 0
		}
		var rows []json.RawMessage
		var last int64
		var done bool
		var sent int
		if cr.Offset {
			rows, last, cr.Start, done, err = c.offsetPage(ctx, e.method, sel, filter, cr.Start, cr.After)
			sent = 1
		} else {
			rows, last, done, sent, err = c.scan(ctx, e.method, sel, filter, cr.After, n)
		}
		requests += sent
		if err != nil && c.switchToItems(ctx, e.method, err) {
			page--
			continue
		}
		if err != nil && !cr.Offset && c.switchToOffset(ctx, e.method, err) {
			cr.Offset, cr.Start, cr.After = true, 0, 0
			page--
			continue
		}
		if err != nil {
			return c.fail(obj, page, err)
		}
		if !c.offsetKnown.Load() && len(rows) > 0 {
			// No time block told the offset: a record's own timestamp does.
			if f, err := decodeFields(rows[0]); err == nil {
				c.learnOffset(f.str(e.modified))
			}
		}
		p := &connectors.Page{Requests: requests}
		m := &mapper{loc: c.loc(), fields: c.opts.Fields, key: c.opts.KeyClient}
		if err := m.mapRows(obj, rows, p); err != nil {
			return c.fail(obj, page, err)
		}
		if len(rows) > 0 {
			cr.After = last
		}
		if m := p.LatestUpdate(); !m.IsZero() && (cr.Max == nil || m.After(*cr.Max)) {
			cr.Max = &m
		}
		cr.TZ = c.tzPtr()
		final := done && cr.Scan == len(scans)-1
		switch {
		case final:
			var latest time.Time
			if cr.Max != nil {
				latest = *cr.Max
			}
			next := cursor{From: ptr(c.nextFrom(ctx, obj, *cr.To, latest)), TZ: cr.TZ, Offset: cr.Offset}
			p.Cursor = next.String()
		case done:
			cr.Scan, cr.After, cr.Start = cr.Scan+1, 0, 0
			p.Cursor = cr.String()
		default:
			p.Cursor = cr.String()
		}
		if err := emit(ctx, p); err != nil {
			return err
		}
		if final {
			return nil
		}
		requests = 0
		n = c.opts.BatchSize
		if done {
			if filter, err = c.scanFilter(ctx, e, cr, scans[cr.Scan], &requests); err != nil {
				return c.fail(obj, page+1, err)
			}
			n = 1
		}
	}
}

// nextFrom is where the window after one ending at to (our clock) starts,
// after a run whose latest DATE_MODIFY (LAST_UPDATED) read was latest:
// connectors.NextWindow from the earlier of to and the portal's clock at
// its latest answer. The portal stamps those fields by its own clock; when
// that runs behind ours, a change made after this window carries a time
// before to, which a window starting at to less the overlap would never
// read. The portal's time.date_start tells how far behind when answers
// carry it; latest tells it too when they do not, and covers a clock
// that stopped. The filter is ">=", so the records at latest are read
// again. A portal clock ahead of ours only delays a change to a later
// window, since each starts before the last one ended.
func (c *Client) nextFrom(ctx context.Context, obj connectors.Object, to, latest time.Time) time.Time {
	end := to
	if n := c.portalNow.Load(); n != 0 {
		if p := time.Unix(0, n).UTC(); p.Before(to) {
			end = p
			if lag := to.Sub(p); lag > c.opts.Overlap {
				c.log.WarnContext(ctx, "portal clock is behind ours; the next window starts from the portal's time",
					"object", string(obj), "behind", lag.Round(time.Second).String())
			}
		}
	}
	return connectors.NextWindow(end.Add(-c.opts.Overlap), end, c.opts.Overlap, latest)
}

// sinceScan is one ID scan of a full load from Options.Since: the records
// whose field from is at or after since and, when before is set, whose
// before is earlier than since, which keeps the first scan's records out
// of the later ones. A record of both later scans (a meeting that starts
// and is due after since) is read twice and upserted; narrowing the last
// scan by "<START_TIME" would lose the to-dos without a START_TIME, which
// a SQL comparison with NULL never matches.
type sinceScan struct {
	from, before string
}

// sinceScans are the scans that read obj from Options.Since on a full
// load, none when the whole table is read. Deals: modified since. Activities:
// updated since, then updated before it but starting, or due, since: a
// meeting planned or a to-do due after since counts in the periods after
// it, whenever it was last touched (the time an activity counts at is its
// START_TIME, a to-do's DEADLINE; mapping.go).
func (c *Client) sinceScans(obj connectors.Object) []sinceScan {
	if c.opts.Since.IsZero() {
		return nil
	}
	switch obj {
	case connectors.ObjectDeals:
		return []sinceScan{{from: "DATE_MODIFY"}}
	case connectors.ObjectActivities:
		return []sinceScan{{from: "LAST_UPDATED"}, {from: "START_TIME", before: "LAST_UPDATED"}, {from: "DEADLINE", before: "LAST_UPDATED"}}
	}
	return nil
}

// scanFilter is the filter of the scan cr is in: the window [From, To) of
// an incremental pull, a since scan of a full load, or nothing.
func (c *Client) scanFilter(ctx context.Context, e entity, cr cursor, sc sinceScan, requests *int) (map[string]any, error) {
	filter := map[string]any{}
	if cr.From == nil && sc.from == "" {
		return filter, nil
	}
	slack := time.Duration(0)
	loc, known, err := c.portalLoc(ctx, cr, requests)
	if err != nil {
		return nil, err
	}
	if !known {
		slack = zoneSlack
	}
	// In a guessed zone the window is widened at both ends, so it holds
	// what it should whichever way the portal reads the offset.
	if cr.From != nil {
		filter[">="+e.modified] = portalTime(cr.From.Add(-slack), loc)
		filter["<"+e.modified] = portalTime(cr.To.Add(slack), loc)
		return filter, nil
	}
	filter[">="+sc.from] = portalTime(c.opts.Since.Add(-slack), loc)
	if sc.before != "" {
		filter["<"+sc.before] = portalTime(c.opts.Since.Add(slack), loc)
	}
	return filter, nil
}

func ptr[T any](v T) *T { return &v }

// ErrCursorStalled is wrapped by the error of an ID scan that did not move
// forward: the portal ignored the ">ID" filter or the ID order, so going
// on would loop or skip rows (b24gosdk's Scan aborts the same way).
var ErrCursorStalled = errors.New("cursor stalled")

// scanState collects the rows of one scan step.
type scanState struct {
	method string
	last   int64
	rows   []json.RawMessage
}

// take adds a page. IDs must rise within it; rows at or below the last ID
// already taken are re-reads (a chain keyed on row 50 of a longer page)
// and are dropped; a non-empty page with nothing new means the scan
// stalled.
func (s *scanState) take(page []json.RawMessage) error {
	prev := int64(-1)
	moved := false
	for _, r := range page {
		id, err := rowID(r)
		if err != nil {
			return &connectors.MalformedError{Detail: s.method + " row", Err: err}
		}
		if id <= prev {
			return &connectors.MalformedError{Detail: fmt.Sprintf("%s ignored order ID ASC (ID %d after %d)", s.method, id, prev), Err: ErrCursorStalled}
		}
		prev = id
		if id <= s.last {
			continue
		}
		s.last, moved = id, true
		s.rows = append(s.rows, r)
	}
	if len(page) > 0 && !moved {
		return &connectors.MalformedError{Detail: fmt.Sprintf("%s ignored the >ID filter: the ID scan did not advance past %d", s.method, s.last), Err: ErrCursorStalled}
	}
	return nil
}

// rowID reads a row's ID, a string or a number, or its id in
// crm.item.list's shape.
func rowID(raw json.RawMessage) (int64, error) {
	var row struct {
		ID   json.RawMessage `json:"ID"`
		Item json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(raw, &row); err != nil {
		return 0, err
	}
	if len(row.ID) == 0 {
		row.ID = row.Item
	}
	s, _ := rawString(row.ID)
	id, err := parseInt(strings.TrimSpace(s))
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("bad ID %s", row.ID)
	}
	return id, nil
}

// decodeRows reads a list method's result: a JSON list as documented, or,
// leniently, {"items":[…]} (crm.item.* style) or an object keyed by row
// index (a PHP array that json_encode wrote as an object).
func decodeRows(raw json.RawMessage) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var rows []json.RawMessage
	switch raw[0] {
	case '[':
		err := json.Unmarshal(raw, &rows)
		return rows, err
	case '{':
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		if items, ok := m["items"]; ok {
			return decodeRows(items)
		}
		idx := make([]int, 0, len(m))
		for k := range m {
			n, err := strconv.Atoi(k)
			if err != nil {
				return nil, fmt.Errorf("result is an object with key %q, not a list of rows", k)
			}
			idx = append(idx, n)
		}
		slices.Sort(idx)
		for _, n := range idx {
			rows = append(rows, m[strconv.Itoa(n)])
		}
		return rows, nil
	}
	return nil, fmt.Errorf("result is %.20s, not a list of rows", raw)
}

// scan reads up to n pages of the ID scan after id after in one request:
// a direct call for n = 1, else a batch whose call k filters ">ID" on
// $result[c(k-1)][49][ID]. It stops at the first short page: a reference
// past the end of a short page does not resolve and the calls after it
// re-read from the start (or fail), so their answers are ignored. done is
// true when the scan reached the end.
//
// A batch that fails past its first call for a reason other than auth or
// limits (a portal that does not substitute $result, or refuses the
// reference) returns the rows before the failure and done=false; the next
// step starts from them, and after maxChainFailures such batches the
// client reads one page a request. So does a portal without batch.
func (c *Client) scan(ctx context.Context, method string, sel []string, filter map[string]any, after int64, n int) (rows []json.RawMessage, last int64, done bool, sent int, err error) {
	params := func(afterRef string) map[string]any {
		f := maps.Clone(filter)
		f[">ID"] = afterRef
		return map[string]any{"order": map[string]any{"ID": "ASC"}, "filter": f, "select": sel, "start": -1}
	}
	st := &scanState{method: method, last: after}
	if n > 1 && !c.noBatch.Load() && c.chainFailures.Load() < maxChainFailures {
		sent++
		done, err := c.scanBatch(ctx, st, params, n)
		switch {
		case errors.Is(err, errNoBatch):
		case batchRefused(err) || errors.Is(err, errSubMissing):
			// The portal refused the chain as a whole, none of it ran,
			// or answered its first page with nothing at all: the first
			// page alone reads what it would have.
			c.chainFailures.Add(1)
			c.log.WarnContext(ctx, "batch chain refused; reading one page", "method", method, "error", err.Error())
		default:
			return st.rows, st.last, done, sent, err
		}
	}
	sent++
	env, err := c.call(ctx, method, params(strconv.FormatInt(after, 10)))
	if err != nil {
		return nil, 0, false, sent, err
	}
	page, err := decodeRows(env.Result)
	if err != nil {
		return nil, 0, false, sent, &connectors.MalformedError{Detail: method + " result", Err: err}
	}
	if err := st.take(page); err != nil {
		return nil, 0, false, sent, err
	}
	// Fast mode has no "next"; a portal that pages anyway may send a short
	// page with "next" (rows it filtered out after counting), which is not
	// the end. An empty page is, unless it claims more follow: then the
	// portal is broken, and taking it for the end would move the cursor
	// past records never read.
	if err := emptyButMore(method, page, nextOf(env.Next)); err != nil {
		return nil, 0, false, sent, err
	}
	done = len(page) < pageSize && (len(page) == 0 || nextOf(env.Next) == 0)
	return st.rows, st.last, done, sent, nil
}

// batchRefused tells a batch request the portal answered with a client
// error of its own (400 on the $result references, say), not a sub-call's:
// the plain call may well be accepted. Auth and rate-limit errors are not
// refusals of the chain.
func batchRefused(err error) bool {
	var re *connectors.ResponseError
	return err != nil && !isFatal(err) && errors.As(err, &re) && re.Status >= 400 && re.Status < 500
}

// switchToOffset reports whether err is a stalled ID scan, after which
// the client pages every list by offset: a portal that ignores ">ID" (or
// the ID order) still pages by start and next, the default paging, and
// stopping would read nothing at all.
func (c *Client) switchToOffset(ctx context.Context, method string, err error) bool {
	if !errors.Is(err, ErrCursorStalled) {
		return false
	}
	if !c.noIDFilter.Swap(true) {
		c.log.WarnContext(ctx, "the portal ignores the >ID filter; paging by offset (slower on big tables)", "method", method, "error", err.Error())
	}
	return true
}

// offsetPage reads the page at start of method's list in the default
// paging, for a portal that ignores ">ID": next is where the following
// page starts. IDs still rise in ID order: rows at or below after (the
// last ID read) are re-reads, as when a deletion shifts the offsets, and
// are dropped; a page of nothing but re-reads means the portal ignores
// start as well, and is ErrCursorStalled rather than a silent end. A
// record that leaves the filtered list while it is paged (changed after
// the window's end) shifts the later ones back by one, and the one that
// moves across a page boundary waits for a later window: the ID scan has
// no such gap, which is why it stays the first choice.
func (c *Client) offsetPage(ctx context.Context, method string, sel []string, filter map[string]any, start int, after int64) (rows []json.RawMessage, last int64, next int, done bool, err error) {
	env, err := c.call(ctx, method, map[string]any{"order": map[string]any{"ID": "ASC"}, "filter": filter, "select": sel, "start": start})
	if err != nil {
		return nil, 0, 0, false, err
	}
	page, err := decodeRows(env.Result)
	if err != nil {
		return nil, 0, 0, false, &connectors.MalformedError{Detail: method + " result", Err: err}
	}
	st := &scanState{method: method, last: after}
	if err := st.take(page); err != nil {
		return nil, 0, 0, false, err
	}
	n := nextOf(env.Next)
	if err := emptyButMore(method, page, n); err != nil {
		return nil, 0, 0, false, err
	}
	// The documented end: a page without next. A short page with next is
	// not the end (rows hidden after counting).
	return st.rows, st.last, n, len(page) == 0 || n <= start, nil
}

// sameBytes reports whether a and b are the same slice of memory.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// emptyButMore refuses an empty page that says more records follow.
func emptyButMore(method string, page []json.RawMessage, next int) error {
	if len(page) == 0 && next > 0 {
		return &connectors.MalformedError{Detail: fmt.Sprintf("%s answered an empty page that says more follow (next %d); the portal is not paging", method, next)}
	}
	return nil
}

func (c *Client) scanBatch(ctx context.Context, st *scanState, params func(string) map[string]any, n int) (done bool, err error) {
	calls := make([]subCall, n)
	for k := range calls {
		ref := strconv.FormatInt(st.last, 10)
		if k > 0 {
			ref = fmt.Sprintf("$result[%s][%d][ID]", cmdKey(k-1), pageSize-1)
		}
		calls[k] = subCall{method: st.method, params: params(ref)}
	}
	// Pages decoded while the batch answer is checked are kept, so a page
	// of megabytes is split into rows once, not twice.
	// A retried batch decodes again; a page is reused only for the very
	// bytes it was decoded from.
	decoded := make([][]json.RawMessage, n)
	from := make([]json.RawMessage, n)
	br, err := c.batch(ctx, calls, func(k int, raw json.RawMessage) bool {
		page, err := decodeRows(raw)
		if err == nil {
			decoded[k], from[k] = page, raw
		}
		return err != nil || len(page) < pageSize
	})
	if err != nil {
		return false, err
	}
	for k := range calls {
		raw, err := br.sub(k)
		if err == nil {
			page := decoded[k]
			if page == nil || !sameBytes(from[k], raw) {
				page, err = decodeRows(raw)
			}
			if err != nil {
				err = &connectors.MalformedError{Detail: fmt.Sprintf("%s page %d of batch", st.method, k+1), Err: err}
			} else if err = emptyButMore(st.method, page, br.next(k)); err != nil {
				return false, err
			} else if err = st.take(page); err == nil {
				if len(page) < pageSize {
					return len(page) == 0 || br.next(k) == 0, nil
				}
				continue
			}
		}
		if k == 0 || isFatal(err) {
			return false, err
		}
		c.chainFailures.Add(1)
		c.log.WarnContext(ctx, "batch chain broken; going on from the last page read", "method", st.method, "command", cmdKey(k), "error", err.Error())
		return false, nil
	}
	return false, nil
}

// ListIDs hands every live id of obj to emit, one batch request (up to
// 2,500 ids) at a time, selecting ID only.
func (c *Client) ListIDs(ctx context.Context, obj connectors.Object, emit func(ids []string) error) error {
	e, ok := entities[obj]
	if !ok {
		return c.fail(obj, 0, fmt.Errorf("cannot list ids of %q", obj))
	}
	var after int64
	start := 0
	// A whole-table scan: chain the batch from the first request.
	n := c.opts.BatchSize
	for page := 1; ; page++ {
		var rows []json.RawMessage
		var last int64
		var done bool
		var err error
		offset := c.noIDFilter.Load()
		if offset {
			rows, last, start, done, err = c.offsetPage(ctx, e.method, []string{"ID"}, map[string]any{}, start, after)
		} else {
			rows, last, done, _, err = c.scan(ctx, e.method, []string{"ID"}, map[string]any{}, after, n)
			if err != nil && c.switchToOffset(ctx, e.method, err) {
				// Ids already handed over are listed again: a listing
				// is a set.
				after, start = 0, 0
				continue
			}
		}
		if err != nil && c.switchToItems(ctx, e.method, err) {
			continue
		}
		if err != nil {
			return c.fail(obj, page, err)
		}
		ids := make([]string, 0, len(rows))
		for _, r := range rows {
			id, _ := rowID(r) // scan checked it
			ids = append(ids, strconv.FormatInt(id, 10))
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
// history) with offset paging: user.get has no modified filter. When the
// first answer has a total, the remaining offsets go in batches; without
// one, pages are followed by "next", or while they are full.
func (c *Client) pullUsers(ctx context.Context, cr cursor, emit func(context.Context, *connectors.Page) error) error {
	obj := connectors.ObjectUsers
	start := cr.Start
	if cr.Done {
		start = 0
	}
	params := func(start int) map[string]any {
		return map[string]any{"SORT": "ID", "ORDER": "ASC", "start": start}
	}
	total := 0
	for page := 1; ; page++ {
		var rows []json.RawMessage
		var next int
		var done bool
		err := errNoBatch
		requests := 0
		if page > 1 && total > 0 && !c.noBatch.Load() {
			requests++
			rows, next, done, err = c.userBatch(ctx, start, total, params)
		}
		if errors.Is(err, errNoBatch) {
			requests++
			rows, next, done, err = c.userPage(ctx, start, &total, params)
		}
		if err != nil {
			return c.fail(obj, page, err)
		}
		if err := c.emitUsers(ctx, rows, page, requests, next, total, done, emit); err != nil {
			return err
		}
		if done {
			return nil
		}
		if next <= start {
			return c.fail(obj, page, &connectors.MalformedError{Detail: fmt.Sprintf("user.get paging did not advance past %d", start), Err: ErrCursorStalled})
		}
		start = next
	}
}

// userPage reads the page at start; next is where the following one
// starts.
func (c *Client) userPage(ctx context.Context, start int, total *int, params func(int) map[string]any) (rows []json.RawMessage, next int, done bool, err error) {
	env, err := c.call(ctx, "user.get", params(start))
	if err != nil {
		return nil, 0, false, err
	}
	if rows, err = decodeRows(env.Result); err != nil {
		return nil, 0, false, &connectors.MalformedError{Detail: "user.get result", Err: err}
	}
	if s, ok := rawString(env.Total); ok {
		n, _ := parseInt(strings.TrimSpace(s))
		*total = int(n)
	}
	next = start + max(len(rows), pageSize)
	if n := nextOf(env.Next); n > start {
		next = n
	}
	switch {
	case len(rows) == 0:
		done = true
	case nextOf(env.Next) > start:
		done = false
	case *total > 0:
		done = next >= *total
	default:
		done = len(rows) < pageSize
	}
	return rows, next, done, nil
}

// userBatch reads the pages from start up to total in one batch.
func (c *Client) userBatch(ctx context.Context, start, total int, params func(int) map[string]any) (rows []json.RawMessage, next int, done bool, err error) {
	var calls []subCall
	for s := start; s < total && len(calls) < c.opts.BatchSize; s += pageSize {
		calls = append(calls, subCall{method: "user.get", params: params(s)})
	}
	br, err := c.batch(ctx, calls, nil)
	if err != nil {
		return nil, 0, false, err
	}
	next = start
	for k := range calls {
		raw, err := br.sub(k)
		if err != nil {
			return nil, 0, false, err
		}
		sub, err := decodeRows(raw)
		if err != nil {
			return nil, 0, false, &connectors.MalformedError{Detail: "user.get result", Err: err}
		}
		rows = append(rows, sub...)
		next += pageSize
		if len(sub) == 0 {
			return rows, next, true, nil
		}
	}
	return rows, next, next >= total, nil
}

func (c *Client) emitUsers(ctx context.Context, rows []json.RawMessage, page, requests, next, total int, done bool, emit func(context.Context, *connectors.Page) error) error {
	m := &mapper{loc: c.loc(), seen: c.opts.Now().UTC()}
	p := &connectors.Page{Requests: requests, Total: total}
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
		if err != nil && isMethodNotFound(err) {
			// A portal without it has the default pipeline only.
			c.log.WarnContext(ctx, "portal has no crm.category.list; reading the default pipeline only")
			break
		}
		if err != nil {
			return c.fail(obj, 1, fmt.Errorf("list pipelines: %w", err))
		}
		// Documented under result.categories; a bare list is read too.
		var res struct {
			Categories json.RawMessage `json:"categories"`
		}
		list := env.Result
		if json.Unmarshal(env.Result, &res) == nil && len(res.Categories) > 0 {
			list = res.Categories
		}
		rows, err := decodeRows(list)
		var cats []category
		for _, r := range rows {
			var cat category
			if err == nil {
				err = json.Unmarshal(r, &cat)
			}
			cats = append(cats, cat)
		}
		if err != nil {
			return c.fail(obj, 1, &connectors.MalformedError{Detail: "crm.category.list result", Err: err})
		}
		for _, cat := range cats {
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
	if _, ok := names["0"]; !ok {
		names["0"] = "General" // category 0, the default pipeline
	}
	p := &connectors.Page{}
	m := &mapper{loc: c.loc(), seen: c.opts.Now().UTC()}
	for i := 0; i < len(order); i += c.opts.BatchSize {
		chunk := order[i:min(i+c.opts.BatchSize, len(order))]
		calls := make([]subCall, len(chunk))
		for k, id := range chunk {
			calls[k] = subCall{method: "crm.status.list", params: map[string]any{
				"filter": map[string]any{"ENTITY_ID": stageEntity(id)}, "order": map[string]any{"SORT": "ASC"},
			}}
		}
		results, n, err := c.each(ctx, calls)
		requests += n
		if err != nil {
			return c.fail(obj, 1, fmt.Errorf("list stages: %w", err))
		}
		for k, id := range chunk {
			rows, err := decodeRows(results[k])
			if err != nil {
				return c.fail(obj, 1, &connectors.MalformedError{Detail: "crm.status.list result", Err: err})
			}
			for _, raw := range rows {
				if e := entityIDOf(raw); e != "" && !strings.EqualFold(e, stageEntity(id)) && !strings.EqualFold(e, "DEAL_STAGE_"+id) {
					// A portal that ignored the filter sends every status
					// list (sources, other pipelines): not this
					// pipeline's stages.
					continue
				}
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

// stageEntity is the crm.status.list ENTITY_ID of pipeline id's stages:
// DEAL_STAGE for the default pipeline 0 (whose rows are also taken as
// DEAL_STAGE_0), DEAL_STAGE_{id} for the others.
func stageEntity(id string) string {
	if id == "0" {
		return "DEAL_STAGE"
	}
	return "DEAL_STAGE_" + id
}

// entityIDOf reads a status row's ENTITY_ID, "" when it has none.
func entityIDOf(raw json.RawMessage) string {
	var row struct {
		EntityID json.RawMessage `json:"ENTITY_ID"`
	}
	if json.Unmarshal(raw, &row) != nil {
		return ""
	}
	s, _ := rawString(row.EntityID)
	return strings.TrimSpace(s)
}

// each runs independent calls in one batch, or one by one on a portal
// without batch, and returns their results in order and the requests it
// took.
func (c *Client) each(ctx context.Context, calls []subCall) ([]json.RawMessage, int, error) {
	out := make([]json.RawMessage, len(calls))
	br, err := c.batch(ctx, calls, nil)
	switch {
	case err == nil:
		requests := 1
		for k, sc := range calls {
			out[k], err = br.sub(k)
			if errors.Is(err, errSubMissing) {
				// Left out of the answer (an empty result, say): asked
				// for alone.
				var env *envelope
				env, err = c.call(ctx, sc.method, sc.params)
				requests++
				if err == nil {
					out[k] = env.Result
				}
			}
			if err != nil {
				return nil, requests, err
			}
		}
		return out, requests, nil
	case !errors.Is(err, errNoBatch):
		return nil, 1, err
	}
	requests := 1
	for k, sc := range calls {
		env, err := c.call(ctx, sc.method, sc.params)
		requests++
		if err != nil {
			return nil, requests, err
		}
		out[k] = env.Result
	}
	return out, requests, nil
}
