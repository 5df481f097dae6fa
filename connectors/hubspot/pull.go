package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
)

// Page sizes and batch limits HubSpot documents.
const (
	listLimit     = 100   // list endpoints' maximum
	searchLimit   = 200   // search's maximum
	searchCap     = 10000 // search answers 400 at after >= 10,000
	assocBatchMax = 1000  // v4 batch-read inputs per call
	// batchRecords is how many records one emitted page gathers, so that
	// one association call per target type serves the whole page.
	batchRecords = assocBatchMax
)

// kind describes one pulled CRM object type.
type kind struct {
	pull     connectors.Object // the object the engine asks for
	obj      connectors.Object // the canonical kind of its records
	path     string            // HubSpot object type
	modProp  string            // last-modified property for search
	created  string            // created-date property
	activity string            // activity type, for engagements
	props    []string
	assocTo  []string
}

func (c *Client) buildKinds() map[connectors.Object]*kind {
	base := []string{"hs_object_id", "hubspot_owner_id"}
	eng := cat(base, "hs_timestamp", "hs_createdate", "hs_lastmodifieddate")
	engAssoc := []string{"companies", "contacts", "deals"}
	ks := []*kind{
		{pull: connectors.ObjectCompanies, obj: connectors.ObjectCompanies, path: "companies", modProp: "hs_lastmodifieddate", created: "createdate",
			props: cat(base, "name", "domain", "createdate", "hs_lastmodifieddate", "hs_merged_object_ids", c.fields["key_client"])},
		{pull: connectors.ObjectContacts, obj: connectors.ObjectContacts, path: "contacts", modProp: "lastmodifieddate", created: "createdate",
			props: cat(base, "firstname", "lastname", "email", "createdate", "lastmodifieddate", "associatedcompanyid",
				"hs_merged_object_ids", c.fields["nps_score"], c.fields["nps_date"]),
			assocTo: []string{"companies"}},
		{pull: connectors.ObjectDeals, obj: connectors.ObjectDeals, path: "deals", modProp: "hs_lastmodifieddate", created: "createdate",
			props: cat(base, "dealname", "amount", "deal_currency_code", "pipeline", "dealstage", "closedate", "createdate",
				"hs_lastmodifieddate", "hs_is_closed", "hs_is_closed_won", "hs_merged_object_ids", c.fields["deal_expense"]),
			assocTo: []string{"companies", "contacts"}},
		{pull: ObjectCalls, path: "calls", activity: connectors.ActivityCall,
			props: cat(eng, "hs_call_direction", "hs_call_duration", "hs_call_status", "hs_call_disposition", "hs_call_title")},
		{pull: ObjectEmails, path: "emails", activity: connectors.ActivityEmail,
			props: cat(eng, "hs_email_direction", "hs_email_subject", "hs_email_status")},
		{pull: ObjectMeetings, path: "meetings", activity: connectors.ActivityMeeting,
			props: cat(eng, "hs_meeting_title", "hs_meeting_start_time", "hs_meeting_end_time", "hs_meeting_outcome")},
		{pull: ObjectNotes, path: "notes", activity: connectors.ActivityNote,
			props: cat(eng, "hs_note_body")},
		{pull: ObjectTasks, path: "tasks", activity: connectors.ActivityTask,
			props: cat(eng, "hs_task_subject", "hs_task_body", "hs_task_status", "hs_task_type")},
	}
	out := map[connectors.Object]*kind{}
	for _, k := range ks {
		if k.activity != "" {
			k.obj, k.modProp, k.created, k.assocTo = connectors.ObjectActivities, "hs_lastmodifieddate", "hs_createdate", engAssoc
		}
		k.props = dedupe(k.props)
		out[k.pull] = k
	}
	return out
}

// dated reports whether Options.Since applies to the kind: deals and
// engagements, the records that grow without bound and that KPIs read by
// their dates. Companies and contacts are read whole: few, and the client
// owner of an old company still attributes new deals and activities.
func (k *kind) dated() bool {
	return k.obj == connectors.ObjectDeals || k.obj == connectors.ObjectActivities
}

// cat joins without sharing a backing array between the kinds.
func cat(a []string, b ...string) []string {
	out := make([]string, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Cursor modes and phases.
const (
	modeFull    = "full"    // first sync: list endpoints
	modeInc     = "inc"     // later syncs: search from From
	modeIdle    = "idle"    // between runs
	modeRefresh = "refresh" // owners: re-read whole each run

	phaseRecords  = "records"
	phaseArchived = "archived"
	phaseAssoc    = "assoc"
	phaseDone     = "done"
)

// cursor is the JSON state a pull resumes from. A run walks the phases
// records → archived → assoc (when due) and ends with an idle cursor whose
// Since is where the next run's window starts.
type cursor struct {
	V     int    `json:"v"`
	Mode  string `json:"mode"`
	Phase string `json:"phase,omitempty"`
	// Start is when this run began.
	Start time.Time `json:"start,omitzero"`
	// From starts the incremental window; To is our now when it began,
	// where the next one starts (see finish).
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// After is the list cursor or the search offset of the next request.
	After string `json:"after,omitempty"`
	// LastID is the search floor: ids above it remain (the 10k-cap
	// restart point).
	LastID string `json:"last_id,omitempty"`
	// Seen counts search results read since the floor last moved; with
	// After it tells when the cap nears, whatever after's format.
	Seen int `json:"seen,omitempty"`
	// Max is the highest id read since the floor last moved, the next
	// floor; Unordered records that results broke ascending id order, so
	// the floor cannot move.
	Max       string `json:"max,omitempty"`
	Unordered bool   `json:"unordered,omitempty"`
	// MaxMod is the latest last-modified time of the records this run
	// read, where the next window starts (see finish).
	MaxMod time.Time `json:"max_mod,omitzero"`
	// Since starts the next window (idle cursors).
	Since time.Time `json:"since,omitzero"`
	// AssocAt is when the last complete association re-read began.
	AssocAt time.Time `json:"assoc_at,omitzero"`
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	if strings.TrimSpace(s) == "" {
		return c, nil
	}
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return c, fmt.Errorf("cursor %q is not a HubSpot cursor: %w", s, err)
	}
	if c.V != 1 {
		return c, fmt.Errorf("cursor version %d is not supported", c.V)
	}
	return c, nil
}

func (c cursor) encode() string {
	c.V = 1
	b, _ := json.Marshal(c)
	return string(b)
}

// Pull implements connectors.Connector. Errors are *connectors.Error with
// the page being fetched; a cursor from another connector is an error.
func (c *Client) Pull(ctx context.Context, obj connectors.Object, raw string, emit func(context.Context, *connectors.Page) error) error {
	cur, err := decodeCursor(raw)
	if err != nil {
		return c.http.Wrap(obj, 0, err)
	}
	p := &puller{c: c, obj: obj, emit: emit, cur: cur}
	switch obj {
	case connectors.ObjectUsers:
		err = p.users(ctx)
	case connectors.ObjectStages:
		err = p.stages(ctx)
	default:
		k, ok := c.kinds[obj]
		if !ok {
			return c.http.Wrap(obj, 0, fmt.Errorf("object %q is not pulled by the HubSpot connector", obj))
		}
		p.k = k
		err = p.objects(ctx)
	}
	if err != nil {
		var ee emitError
		if errors.As(err, &ee) {
			return ee.err // the engine's own error, as it gave it
		}
		return c.http.Wrap(obj, p.page+1, err)
	}
	return nil
}

// emitError carries emit's error through the pull untouched.
type emitError struct{ err error }

func (e emitError) Error() string { return e.err.Error() }

// puller is the state of one Pull.
type puller struct {
	c    *Client
	obj  connectors.Object
	k    *kind
	emit func(context.Context, *connectors.Page) error
	cur  cursor
	page int
	reqs int // requests spent since the last emitted page

	stageStatus map[string]string // deals: stage id → status
	stageUnsure map[string]bool   // deals: stages whose status a deal's flags decide (see stageUnsure)
}

func (p *puller) send(ctx context.Context, pg *connectors.Page) error {
	pg.Requests = p.reqs
	p.reqs = 0
	if err := p.emit(ctx, pg); err != nil {
		return emitError{err}
	}
	p.page++
	return nil
}

func (p *puller) get(ctx context.Context, path string, q url.Values, out any) error {
	p.reqs++
	_, err := p.c.http.DoJSON(ctx, &connectors.Request{URL: path, Query: q}, out)
	return err
}

// post sends a read-only POST (search, batch read): safe to repeat. The
// client's limits tell a search by its path.
func (p *puller) post(ctx context.Context, path string, body any, out any) error {
	p.reqs++
	_, err := p.c.http.DoJSON(ctx, &connectors.Request{Method: http.MethodPost, URL: path, JSON: body, Idempotent: true}, out)
	return err
}

// --- users and stages ---

func (p *puller) users(ctx context.Context) error {
	cur := p.cur
	if cur.Mode != modeRefresh {
		cur = cursor{Mode: modeRefresh, Phase: "active"}
	}
	for {
		q := url.Values{"limit": {"100"}}
		if cur.After != "" {
			q.Set("after", cur.After)
		}
		if cur.Phase == "archived" {
			q.Set("archived", "true")
		}
		var oc ownerCollection
		if err := p.get(ctx, "/crm/v3/owners", q, &oc); err != nil {
			return fmt.Errorf("list owners: %w", err)
		}
		pg := &connectors.Page{}
		now := p.c.opts.Now().UTC()
		for i := range oc.Results {
			// Owners listed with archived=true are archived unless they
			// say otherwise: a server that ignores the parameter lists
			// active owners, with archived false.
			u, err := mapUser(&oc.Results[i], cur.Phase == "archived", now)
			if err != nil {
				return &connectors.MalformedError{Detail: "owner", Err: err}
			}
			pg.Users = append(pg.Users, u)
		}
		next := oc.Paging.after()
		if next != "" && next == cur.After {
			return &connectors.MalformedError{Detail: "owners paging.next.after does not advance"}
		}
		cur.After = next
		last := false
		if next == "" {
			if cur.Phase == "archived" {
				cur, last = cursor{Mode: modeIdle}, true
			} else {
				cur = cursor{Mode: modeRefresh, Phase: "archived"}
			}
		}
		pg.Cursor = cur.encode()
		if err := p.send(ctx, pg); err != nil {
			return err
		}
		if last {
			return nil
		}
	}
}

// pipelinesReuse is how long after a read of the deal pipelines another
// pull of the same Client reuses it. The stages and the deals objects
// both need them and a sync starts every object at once: one read serves
// both, where two cost a request of the limit each run. It is short, so a
// later scheduled run reads the pipelines afresh.
const pipelinesReuse = 30 * time.Second

// loadStages returns the stages of every deal pipeline: the Client's last
// read if it is under pipelinesReuse old, else a new one. A pull asking
// while another's read is in flight waits for it.
func (p *puller) loadStages(ctx context.Context) ([]connectors.Stage, error) {
	c := &p.c.pipes
	if err := c.mu.Lock(ctx); err != nil {
		return nil, err
	}
	defer c.mu.Unlock()
	now := p.c.opts.Now()
	if c.stages != nil && !now.Before(c.at) && now.Sub(c.at) < pipelinesReuse {
		return slices.Clone(c.stages), nil
	}
	st, err := p.readStages(ctx)
	if err != nil {
		return nil, err
	}
	c.stages, c.at = slices.Clone(st), now
	return st, nil
}

func (p *puller) readStages(ctx context.Context) ([]connectors.Stage, error) {
	var pc pipelineCollection
	if err := p.get(ctx, "/crm/v3/pipelines/deals", nil, &pc); err != nil {
		return nil, fmt.Errorf("list deal pipelines: %w", err)
	}
	st, err := mapStages(&pc)
	if err != nil {
		return nil, &connectors.MalformedError{Detail: "pipelines", Err: err}
	}
	return st, nil
}

func (p *puller) stages(ctx context.Context) error {
	st, err := p.loadStages(ctx)
	if err != nil {
		return err
	}
	return p.send(ctx, &connectors.Page{Stages: st, Cursor: cursor{Mode: modeIdle}.encode(), Total: len(st)})
}

// --- CRM objects ---

func (p *puller) objects(ctx context.Context) error {
	c := p.c
	now := c.opts.Now().UTC()
	switch p.cur.Mode {
	case modeFull, modeInc:
	case modeIdle:
		// The window reads every change up to the search (no upper
		// bound, see searchFilters): a change made a second before the
		// sync is read by it. One the search index has not caught up with
		// yet is read by the next window, which starts an overlap before
		// To, this one's now (see finish).
		p.cur = cursor{Mode: modeInc, Phase: phaseRecords, Start: now, From: p.cur.Since,
			To: now.Truncate(time.Millisecond), AssocAt: p.cur.AssocAt}
		if !p.cur.To.After(p.cur.From) {
			p.cur.Phase = phaseArchived
		}
	default:
		p.cur = cursor{Mode: modeFull, Phase: phaseRecords, Start: now}
		if since := c.opts.Since; !since.IsZero() && p.k.dated() {
			// The list endpoints have no modified filter: a full load
			// from a start date is a search window from since, the later
			// windows' way, at 200 records a request instead of 100
			// and none for records older than since (see searchFilters).
			p.cur.From, p.cur.To = since.UTC().Truncate(time.Millisecond), now.Truncate(time.Millisecond)
			if !p.cur.To.After(p.cur.From) {
				p.cur.Phase = phaseArchived
			}
		}
	}
	if p.k.obj == connectors.ObjectDeals {
		st, err := p.loadStages(ctx)
		if err != nil {
			return err
		}
		p.stageStatus, p.stageUnsure = map[string]string{}, map[string]bool{}
		for _, s := range st {
			p.stageStatus[s.ID] = s.Status
			if stageUnsure(s.Raw) {
				p.stageUnsure[s.ID] = true
			}
		}
	}
	for {
		var err error
		switch p.cur.Phase {
		case phaseRecords:
			if p.cur.Mode == modeFull && p.cur.From.IsZero() {
				err = p.listRecords(ctx)
			} else {
				err = p.searchRecords(ctx)
			}
		case phaseArchived:
			err = p.archived(ctx)
		case phaseAssoc:
			err = p.assocRefresh(ctx)
		case phaseDone:
			return p.finish(ctx)
		default:
			return fmt.Errorf("cursor phase %q is unknown", p.cur.Phase)
		}
		if err != nil {
			return err
		}
	}
}

// nextPhase moves the cursor to the phase after the current one.
func (p *puller) nextPhase() {
	p.cur.After, p.cur.LastID, p.cur.Seen, p.cur.Max, p.cur.Unordered = "", "", 0, "", false
	switch p.cur.Phase {
	case phaseRecords:
		p.cur.Phase = phaseArchived
	case phaseArchived:
		p.cur.Phase = phaseDone
		if p.cur.Mode == modeInc && !p.cur.Start.Before(p.cur.AssocAt.Add(p.c.opts.AssociationsEvery)) {
			p.cur.Phase = phaseAssoc
		}
	case phaseAssoc:
		p.cur.Phase = phaseDone
		p.cur.AssocAt = p.cur.Start
	}
}

// finish emits the idle cursor that makes the next run incremental. Its
// window starts an overlap before where this one's ended (a full load's
// data is as of its start), or just after the latest modified time this
// run read when that is earlier: the reference's bookmark (§4, min(sync
// start, max(hs_lastmodifieddate))). The portal's clock stamps modified
// times and need not agree with ours; one behind it stamps the next
// changes before our now, where a window from our now would never see
// them. The overlap covers the search index's lag, which concerns changes
// of the last minutes: the records modified at that latest time, older,
// were all read. A run that read nothing keeps its own start (zero for a
// list load), for the same reason.
func (p *puller) finish(ctx context.Context) error {
	end := p.cur.To
	assocAt := p.cur.AssocAt
	if p.cur.Mode == modeFull {
		end, assocAt = p.cur.Start, p.cur.Start
	}
	since := p.cur.From
	if m := p.cur.MaxMod; !m.IsZero() {
		since = end.Add(-p.c.opts.Overlap)
		if next := m.Truncate(time.Millisecond).Add(time.Millisecond); next.Before(since) {
			since = next
		}
	}
	idle := cursor{Mode: modeIdle, Since: since, AssocAt: assocAt}
	return p.send(ctx, &connectors.Page{Cursor: idle.encode()})
}

func (p *puller) listQuery(after string, props []string, archived bool) url.Values {
	q := url.Values{"limit": {strconv.Itoa(listLimit)}, "properties": {strings.Join(props, ",")}}
	if after != "" {
		q.Set("after", after)
	}
	if archived {
		q.Set("archived", "true")
	}
	return q
}

// listRecords reads the list endpoint with the records' associations
// inline, gathering pages up to batchRecords so that one association call
// per target type serves all those whose inline list falls short (see
// inlineAssociations), and emitting sooner when nothing needs that call:
// a batch then never costs more association calls than one of
// batchRecords would.
func (p *puller) listRecords(ctx context.Context) error {
	path := "/crm/v3/objects/" + p.k.path
	// A type one record of the listing named inline shows that the server
	// honours associations=, so later batches trust its silence too.
	named := map[string]bool{}
	for {
		b := p.newBatch(true)
		b.named = named
		done := false
		for !done && b.n+listLimit <= batchRecords && (b.n == 0 || !b.whole()) {
			var col collection
			q := p.listQuery(p.cur.After, p.k.props, false)
			if len(p.k.assocTo) > 0 {
				q.Set("associations", strings.Join(p.k.assocTo, ","))
			}
			if err := p.get(ctx, path, q, &col); err != nil {
				return fmt.Errorf("list %s: %w", p.k.path, err)
			}
			if err := b.add(ctx, col.Results); err != nil {
				return err
			}
			next := col.next()
			if next != "" && next == p.cur.After {
				return &connectors.MalformedError{Detail: p.k.path + " paging.next.after does not advance"}
			}
			p.cur.After = next
			done = next == ""
		}
		if err := p.emitBatch(ctx, b, done, 0); err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

type searchFilter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        string `json:"value"`
}

type filterGroup struct {
	Filters []searchFilter `json:"filters"`
}

type searchBody struct {
	FilterGroups []filterGroup `json:"filterGroups"`
	// Sorts is []map[string]string (the docs' form) or []string (the
	// spec's type); see Client.sortsAsStrings.
	Sorts      any      `json:"sorts"`
	Properties []string `json:"properties"`
	Limit      int      `json:"limit"`
	After      string   `json:"after"`
}

// searchPage sends one search request. The docs and Airbyte send sorts as
// objects, the spec types them as strings: a 400 to the first request of
// a window in one form is retried once in the other, which the Client then
// keeps.
func (p *puller) searchPage(ctx context.Context, path string) (*collection, error) {
	groups := p.searchFilters()
	if floor := p.cur.LastID; floor != "" {
		// Only after a cap restart: a server without id filters then
		// shows as repeated ids, which the order check catches.
		for i := range groups {
			groups[i].Filters = append(groups[i].Filters, searchFilter{"hs_object_id", "GT", floor})
		}
	}
	after := p.cur.After
	if after == "" {
		after = "0" // as the reference's sample sends it
	}
	var firstErr error
	for try := 0; try < 2; try++ {
		strs := p.c.sortsAsStrings.Load()
		body := searchBody{FilterGroups: groups, Properties: p.k.props, Limit: searchLimit, After: after,
			Sorts: []map[string]string{{"propertyName": "hs_object_id", "direction": "ASCENDING"}}}
		if strs {
			body.Sorts = []string{"hs_object_id"}
		}
		var col collection
		err := p.post(ctx, path, body, &col)
		if err == nil {
			return &col, nil
		}
		var re *connectors.ResponseError
		if firstErr != nil || p.cur.After != "" || !errors.As(err, &re) || re.Status != http.StatusBadRequest {
			if firstErr != nil {
				return nil, firstErr
			}
			return nil, err
		}
		firstErr = err
		p.c.sortsAsStrings.CompareAndSwap(strs, !strs)
		p.c.log.Warn("search answered 400; retrying with the other form of sorts", "object", p.k.path, "strings", !strs)
	}
	return nil, firstErr
}

// searchFilters are the filter groups (ORed) of the search window: the
// records last modified at or after From. The window has no upper bound
// (To marks where it ends for the next one, see finish): the portal's
// clock stamps modified times, and one ahead of ours would stamp a change
// after our now, which an upper bound at now would leave for later syncs;
// and a record modified while the window is paged stays in it, where an
// upper bound would drop it from the results and shift the offsets past
// it by one. A full load from a start date (the
// window of a full cursor) also reads the engagements occurring at or after
// it that were last modified before it, in a second group: a task due, or
// a meeting planned, after since but last touched before it still counts
// in the periods after since. Each group holds at most three filters with
// the cap restart's, within every limit the sources give (reference §4).
func (p *puller) searchFilters() []filterGroup {
	ms := func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
	groups := []filterGroup{{Filters: []searchFilter{
		{p.k.modProp, "GTE", ms(p.cur.From)},
	}}}
	if p.cur.Mode == modeFull && p.k.activity != "" {
		groups = append(groups, filterGroup{Filters: []searchFilter{
			{"hs_timestamp", "GTE", ms(p.cur.From)},
			{p.k.modProp, "LT", ms(p.cur.From)},
		}})
	}
	return groups
}

// searchRecords reads the changes since From sorted by hs_object_id,
// restarting above the last id before the 10k cap.
func (p *puller) searchRecords(ctx context.Context) error {
	path := "/crm/v3/objects/" + p.k.path + "/search"
	for {
		b := p.newBatch(false)
		done, total := false, 0
		for !done && b.n+searchLimit <= batchRecords {
			col, err := p.searchPage(ctx, path)
			if err != nil {
				var re *connectors.ResponseError
				if errors.As(err, &re) && re.Status == http.StatusBadRequest && p.cur.After != "" {
					// A 400 deep into the results is the cap arriving
					// sooner than documented: restart above the last id.
					if rerr := p.restartAboveMax(); rerr != nil {
						return fmt.Errorf("search %s: %w (%w)", p.k.path, err, rerr)
					}
					continue
				}
				return fmt.Errorf("search %s: %w", p.k.path, err)
			}
			total = int(col.Total)
			// The restart relies on ascending numeric ids; HubSpot's
			// comparison is not documented as numeric, so check. Order
			// only matters for passing the cap: below it, offsets over a
			// fixed result set lose nothing.
			for _, o := range col.Results {
				id, err := strconv.ParseUint(string(o.ID), 10, 64)
				if err != nil {
					return &connectors.MalformedError{Detail: fmt.Sprintf("search %s: id %q is not numeric", p.k.path, o.ID)}
				}
				prev, _ := strconv.ParseUint(p.cur.Max, 10, 64)
				floor, _ := strconv.ParseUint(p.cur.LastID, 10, 64)
				if id <= max(prev, floor) {
					p.cur.Unordered = true
				} else {
					p.cur.Max = string(o.ID)
				}
			}
			if err := b.add(ctx, col.Results); err != nil {
				return err
			}
			p.cur.Seen += len(col.Results)
			next := col.next()
			// The offset the next request starts at: after itself when it
			// is the documented numeric offset, else what was read.
			offset := p.cur.Seen
			if n, err := strconv.Atoi(next); err == nil && n > offset {
				offset = n
			}
			switch {
			case next == "":
				done = true
			case next == p.cur.After:
				return &connectors.MalformedError{Detail: fmt.Sprintf("search %s: paging.next.after %q does not advance", p.k.path, next)}
			case offset+searchLimit >= searchCap:
				// Never ask for a page reaching the cap, whether a server
				// counts it from after or from after+limit.
				if err := p.restartAboveMax(); err != nil {
					return fmt.Errorf("search %s: %w", p.k.path, err)
				}
			default:
				p.cur.After = next
			}
		}
		if err := p.emitBatch(ctx, b, done, total); err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// restartAboveMax moves the search floor to the highest id read, the
// Airbyte way past the 10,000-result cap.
func (p *puller) restartAboveMax() error {
	if p.cur.Unordered {
		return &connectors.MalformedError{Detail: "search results are not in ascending hs_object_id order, so the 10,000-result cap cannot be passed; " +
			"run with --full, which uses the list endpoints"}
	}
	if p.cur.Max == "" || p.cur.Max == p.cur.LastID {
		return &connectors.MalformedError{Detail: "search " + p.k.path + ": no progress before the 10,000-result cap"}
	}
	p.cur.LastID, p.cur.After, p.cur.Seen = p.cur.Max, "", 0
	return nil
}

// batch is an emitted page in the making. Its records are mapped as each
// list or search page arrives, so that of the up to batchRecords records
// it gathers only the mapped fields and raw JSON stay live, not their
// decoded properties and associations; their links are set once the
// batch's associations are read (see emitBatch).
type batch struct {
	p      *puller
	inline bool // from list pages that asked for the associations inline
	n      int  // records added
	pg     *connectors.Page
	ids    []string // every record's id, in order
	linked []pendingLink
	// acc holds, by target type, the links read inline; cut the ids
	// whose inline list falls short; named whether any record names the
	// type (see inlineAssociations).
	acc   map[string]map[string][]link
	cut   map[string][]string
	named map[string]bool
	// own holds, by record id, the links its properties name (see
	// object.ownLinks), merged with its associations at link.
	own map[string][]ownLink
}

// pendingLink is a mapped live record awaiting its links: its index in
// the page's records of the kind.
type pendingLink struct {
	id  string
	idx int
}

func (p *puller) newBatch(inline bool) *batch {
	b := &batch{p: p, inline: inline, pg: &connectors.Page{},
		acc: map[string]map[string][]link{}, cut: map[string][]string{}, named: map[string]bool{}, own: map[string][]ownLink{}}
	for _, to := range p.k.assocTo {
		b.acc[to] = map[string][]link{}
	}
	return b
}

// add maps recs into the batch, reading their inline associations first.
func (b *batch) add(ctx context.Context, recs []object) error {
	p := b.p
	for i := range recs {
		o := &recs[i]
		id := string(o.ID)
		b.ids = append(b.ids, id)
		if b.inline {
			for _, to := range p.k.assocTo {
				ls, found, complete := o.inlineLinks(p.k.path, to)
				b.named[to] = b.named[to] || found
				if len(ls) > 0 {
					b.acc[to][id] = ls
				}
				if !complete {
					b.cut[to] = append(b.cut[to], id)
				}
			}
		}
		idx, err := p.add(ctx, b.pg, o)
		if err != nil {
			return err
		}
		if m := o.modTime(p.k.modProp); m.After(p.cur.MaxMod) {
			p.cur.MaxMod = m
		}
		if idx >= 0 {
			b.linked = append(b.linked, pendingLink{id: id, idx: idx})
			if own := o.ownLinks(p.k.obj); len(own) > 0 {
				b.own[id] = own
			}
		}
	}
	b.n += len(recs)
	return nil
}

// whole reports whether the batch's inline associations need no batch
// read: every type named and no list cut. Gathering more pages then saves
// no request, so the list emits it, and holds a page of records per
// object rather than batchRecords.
func (b *batch) whole() bool {
	for _, to := range b.p.k.assocTo {
		if !b.named[to] || len(b.cut[to]) > 0 {
			return false
		}
	}
	return true
}

// link sets the links of the batch's live records from links, by target
// type and record id.
func (b *batch) link(links map[string]map[string][]link) {
	pg := b.pg
	for _, r := range b.linked {
		link := func(to string) string { return choose(withOwn(links[to][r.id], to, b.own[r.id])) }
		switch b.p.k.obj {
		case connectors.ObjectContacts:
			pg.Contacts[r.idx].CompanyID = link("companies")
		case connectors.ObjectDeals:
			pg.Deals[r.idx].CompanyID, pg.Deals[r.idx].ContactID = link("companies"), link("contacts")
		case connectors.ObjectActivities:
			a := &pg.Activities[r.idx]
			a.CompanyID, a.ContactID, a.DealID = link("companies"), link("contacts"), link("deals")
		}
	}
}

// emitBatch reads the batch's associations, sets its records' links and
// emits it: the links inline in list pages that asked for them, else
// batch reads (search returns none). last moves the cursor to the next
// phase.
func (p *puller) emitBatch(ctx context.Context, b *batch, last bool, total int) error {
	var links map[string]map[string][]link
	var err error
	if b.inline {
		links, err = p.inlineAssociations(ctx, b)
	} else {
		links, err = p.associations(ctx, b.ids)
	}
	if err != nil {
		return err
	}
	b.link(links)
	pg := b.pg
	pg.Total = total
	if last {
		p.nextPhase()
	}
	pg.Cursor = p.cur.encode()
	return p.send(ctx, pg)
}

// archived lists archived records: all of them on a full load, those
// archived within the window otherwise (search never returns them). They
// become Deletions, not records: see tombstone.
func (p *puller) archived(ctx context.Context) error {
	path := "/crm/v3/objects/" + p.k.path
	for {
		var col collection
		if err := p.get(ctx, path, p.listQuery(p.cur.After, p.k.props, true), &col); err != nil {
			return fmt.Errorf("list archived %s: %w", p.k.path, err)
		}
		pg := &connectors.Page{}
		for i := range col.Results {
			o := &col.Results[i]
			if o.Archived.Set && !o.Archived.V {
				// A server that ignores archived=true lists live records;
				// flagging them deleted would empty the table.
				p.c.warn.Once(ctx, "ignored-archived:"+p.k.path, "the archived listing returned live records (archived false); they are not flagged deleted", "object", p.k.path)
				continue
			}
			o.Archived = fbool{V: true, Set: true}
			at := timeOrZero(string(o.ArchivedAt))
			if p.cur.Mode == modeInc && !at.IsZero() && at.Before(p.cur.From) {
				continue
			}
			if err := p.tombstone(pg, o); err != nil {
				return err
			}
		}
		next := col.next()
		if next != "" && next == p.cur.After {
			return &connectors.MalformedError{Detail: p.k.path + " archived paging.next.after does not advance"}
		}
		p.cur.After = next
		if next == "" {
			p.nextPhase()
		}
		pg.Cursor = p.cur.encode()
		if err := p.send(ctx, pg); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
	}
}

// assocRefresh re-reads the associations of every live record and emits
// them as Links, since association changes move no modified time.
func (p *puller) assocRefresh(ctx context.Context) error {
	if len(p.k.assocTo) == 0 {
		p.nextPhase()
		return nil
	}
	path := "/crm/v3/objects/" + p.k.path
	props := []string{"hs_object_id"}
	if p.k.obj == connectors.ObjectContacts {
		props = append(props, "associatedcompanyid")
	}
	for {
		var ids []string
		own := map[string][]ownLink{}
		done := false
		for !done && len(ids)+listLimit <= batchRecords {
			var col collection
			if err := p.get(ctx, path, p.listQuery(p.cur.After, props, false), &col); err != nil {
				return fmt.Errorf("list %s ids: %w", p.k.path, err)
			}
			for i := range col.Results {
				o := &col.Results[i]
				ids = append(ids, string(o.ID))
				if ol := o.ownLinks(p.k.obj); len(ol) > 0 {
					own[string(o.ID)] = ol
				}
			}
			next := col.next()
			if next != "" && next == p.cur.After {
				return &connectors.MalformedError{Detail: p.k.path + " paging.next.after does not advance"}
			}
			p.cur.After = next
			done = next == ""
		}
		links, err := p.associations(ctx, ids)
		if err != nil {
			return err
		}
		pg := &connectors.Page{}
		for _, id := range ids {
			l := connectors.Links{Object: p.k.obj, ID: id}
			for _, to := range p.k.assocTo {
				v := choose(withOwn(links[to][id], to, own[id]))
				switch to {
				case "companies":
					l.CompanyID = &v
				case "contacts":
					l.ContactID = &v
				case "deals":
					l.DealID = &v
				}
			}
			pg.Links = append(pg.Links, l)
		}
		if done {
			p.nextPhase()
		}
		pg.Cursor = p.cur.encode()
		if err := p.send(ctx, pg); err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// associations reads, per target type, the associations of ids (≤1000)
// through the v4 batch endpoint, following each result's own paging.
func (p *puller) associations(ctx context.Context, ids []string) (map[string]map[string][]link, error) {
	out := map[string]map[string][]link{}
	for _, to := range p.k.assocTo {
		acc, err := p.associationsTo(ctx, to, ids)
		if err != nil {
			return nil, err
		}
		out[to] = acc
	}
	return out, nil
}

// inlineAssociations reads the associations a list page carried inline
// (asked with associations=), batch-reading per target type only what
// they do not hold whole: the records whose list was cut or did not
// read as the spec's shape, and every record of the batch when none of
// them, nor of an earlier batch of the listing, names the type. That last
// case is a type nothing is associated with, which HubSpot leaves out, or
// a server that ignores the parameter:
// the two look the same, so both are batch-read, as before inline
// associations, rather than stored without links. A cut record's links
// are the union of its inline page and its batch read: whatever either
// answer names is kept.
func (p *puller) inlineAssociations(ctx context.Context, b *batch) (map[string]map[string][]link, error) {
	out := map[string]map[string][]link{}
	for _, to := range p.k.assocTo {
		acc, cut := b.acc[to], b.cut[to]
		if !b.named[to] {
			cut = b.ids
		}
		read, err := p.associationsTo(ctx, to, cut)
		if err != nil {
			return nil, err
		}
		for id, ls := range read {
			for _, l := range ls {
				acc[id] = mergeLink(acc[id], l)
			}
		}
		out[to] = acc
	}
	return out, nil
}

// associationsTo reads the associations of ids with type to through the
// v4 batch endpoint, 1,000 inputs a call, following each result's own
// paging.
func (p *puller) associationsTo(ctx context.Context, to string, ids []string) (map[string][]link, error) {
	acc := map[string][]link{}
	if len(ids) == 0 {
		return acc, nil
	}
	type input struct {
		ID    string `json:"id"`
		After string `json:"after,omitempty"`
	}
	inputs := make([]input, len(ids))
	for i, id := range ids {
		inputs[i] = input{ID: id}
	}
	seen := map[input]bool{}
	for len(inputs) > 0 {
		n := min(len(inputs), assocBatchMax)
		chunk := inputs[:n]
		inputs = inputs[n:]
		var b assocBatch
		path := fmt.Sprintf("/crm/v4/associations/%s/%s/batch/read", p.k.path, to)
		if err := p.post(ctx, path, map[string]any{"inputs": chunk}, &b); err != nil {
			var re *connectors.ResponseError
			if errors.As(err, &re) && re.Status == http.StatusNotFound {
				// A server without this association pair: the records
				// still count, without that link.
				p.c.warn.Once(ctx, "assoc404:"+path, "the associations endpoint answered 404; records are kept without these links", "path", path)
				inputs = nil
				break
			}
			return nil, fmt.Errorf("read %s→%s associations: %w", p.k.path, to, err)
		}
		more, err := b.addLinks(acc, primaryV4(p.k.path, to))
		if err != nil {
			return nil, &connectors.MalformedError{Detail: "associations", Err: err}
		}
		for id, after := range more {
			in := input{ID: id, After: after}
			if seen[in] {
				return nil, &connectors.MalformedError{Detail: fmt.Sprintf("associations of %s repeat cursor %q", id, after)}
			}
			seen[in] = true
			inputs = append(inputs, in)
		}
	}
	return acc, nil
}

// --- mapping ---

// tombstone flags an archived record deleted. The archived listing
// carries no associations (nor does the reference say the batch-read
// endpoint answers for archived ids), so the record mapped from it would
// have empty company, contact and deal links, and upserting it would wipe
// the ones the warehouse holds, on every --full too. A Deletion keeps the stored
// row whole and flags it; a record the warehouse never held becomes a bare
// tombstone, which counts nowhere, as a deleted record should. A restore
// moves the record's modified time, so search brings it back whole.
func (p *puller) tombstone(pg *connectors.Page, o *object) error {
	m, err := o.meta(p.k.modProp)
	if err != nil {
		return &connectors.MalformedError{Detail: p.k.path, Err: err}
	}
	// Archiving may not move updatedAt; the archive is newer than any
	// live version the warehouse holds.
	at := m.UpdatedAt
	if a := timeOrZero(string(o.ArchivedAt)); a.After(at) {
		at = a
	}
	pg.Deletions = append(pg.Deletions, connectors.Deletion{Object: p.k.obj, ID: m.ID, At: at})
	for _, id := range o.merged() {
		pg.Deletions = append(pg.Deletions, connectors.Deletion{Object: p.k.obj, ID: id, At: at})
	}
	return nil
}

// add maps o into pg and returns its index among pg's records of the
// kind, or -1 when it went in as a deletion; batch.link sets its links
// once the batch's associations are known.
func (p *puller) add(ctx context.Context, pg *connectors.Page, o *object) (int, error) {
	if o.Archived.V {
		// A listing that should hold live records only holds this one
		// archived: flag it, never upsert it.
		return -1, p.tombstone(pg, o)
	}
	m, err := o.meta(p.k.modProp)
	if err != nil {
		return -1, &connectors.MalformedError{Detail: p.k.path, Err: err}
	}
	for _, id := range o.merged() {
		pg.Deletions = append(pg.Deletions, connectors.Deletion{Object: p.k.obj, ID: id, At: m.UpdatedAt})
	}
	f := p.c.fields
	switch p.k.obj {
	case connectors.ObjectCompanies:
		co := connectors.Company{Meta: m, Name: o.prop("name"), OwnerID: nonZeroID(o.prop("hubspot_owner_id")), CreatedAt: o.created("createdate")}
		if f["key_client"] != "" {
			// A multi-select enumeration holds its options joined by ";".
			key := slices.ContainsFunc(strings.Split(o.prop(f["key_client"]), ";"), p.c.opts.KeyClient.String)
			co.KeyClient = &key
		}
		pg.Companies = append(pg.Companies, co)
		return len(pg.Companies) - 1, nil
	case connectors.ObjectContacts:
		pg.Contacts = append(pg.Contacts, mapContact(o, m, f))
		return len(pg.Contacts) - 1, nil
	case connectors.ObjectDeals:
		d := mapDeal(o, m, f, p.stageStatus, p.stageUnsure)
		if d.Currency == "" {
			cur, err := p.c.portalCurrency(ctx, p)
			if err != nil {
				return -1, err
			}
			d.Currency = cur
		}
		pg.Deals = append(pg.Deals, d)
		return len(pg.Deals) - 1, nil
	}
	pg.Activities = append(pg.Activities, mapActivity(p.k.activity, o, m))
	return len(pg.Activities) - 1, nil
}

func mapContact(o *object, m connectors.Meta, f map[string]string) connectors.Contact {
	ct := connectors.Contact{
		Meta: m, Name: strings.TrimSpace(o.prop("firstname") + " " + o.prop("lastname")), Email: o.prop("email"),
		OwnerID: nonZeroID(o.prop("hubspot_owner_id")), CreatedAt: o.created("createdate"),
		NPSScore: floatPtr(o.prop(f["nps_score"])),
	}
	if f["nps_date"] != "" {
		ct.NPSAt = timePtr(o.prop(f["nps_date"]))
	}
	return ct
}

func mapDeal(o *object, m connectors.Meta, f map[string]string, stages map[string]string, unsure map[string]bool) connectors.Deal {
	d := connectors.Deal{
		Meta: m, Name: o.prop("dealname"), PipelineID: o.prop("pipeline"), StageID: o.prop("dealstage"),
		Amount: floatPtr(o.prop("amount")), Currency: strings.ToUpper(strings.TrimSpace(o.prop("deal_currency_code"))),
		OwnerID:   nonZeroID(o.prop("hubspot_owner_id")),
		CreatedAt: o.created("createdate"), Expense: floatPtr(o.prop(f["deal_expense"])),
	}
	status, ok := stages[d.StageID]
	if !ok || unsure[d.StageID] {
		// A stage missing from the pipelines answer (archived), or one
		// closed without a readable probability: HubSpot's own read-only
		// flags carry the same semantics.
		if fs, set := flagStatus(o); set {
			status = fs
		} else if !ok {
			status = connectors.StatusOpen
		}
	}
	d.Status = status
	if status != connectors.StatusOpen {
		// On open deals closedate is the expected date, not a close.
		d.ClosedAt = timePtr(o.prop("closedate"))
	}
	return d
}

func mapActivity(typ string, o *object, m connectors.Meta) connectors.Activity {
	a := connectors.Activity{
		Meta: m, Type: typ, OwnerID: nonZeroID(o.prop("hubspot_owner_id")),
		OccurredAt: timeOrZero(o.prop("hs_timestamp")),
	}
	switch typ {
	case connectors.ActivityCall:
		switch strings.ToUpper(o.prop("hs_call_direction")) {
		case "INBOUND":
			a.Direction = connectors.DirectionInbound
		case "OUTBOUND":
			a.Direction = connectors.DirectionOutbound
		}
		a.Subject = o.prop("hs_call_title")
		a.Completed = strings.EqualFold(o.prop("hs_call_status"), "COMPLETED")
		a.Connected = callConnected(o.prop("hs_call_status"), o.prop("hs_call_disposition"))
		if ms := floatPtr(o.prop("hs_call_duration")); ms != nil && *ms >= 0 && *ms < 1e12 {
			s := int((*ms + 500) / 1000)
			a.DurationS = &s
		}
	case connectors.ActivityEmail:
		// EMAIL: sent from the CRM or logged with the BCC address;
		// INCOMING_EMAIL: a reply to a logged e-mail. FORWARDED_EMAIL is
		// one forwarded to the CRM's forwarding address, which logs mail
		// received from a client as well as mail sent without the BCC:
		// HubSpot does not say which, so it has no direction, and is
		// neither a question nor an answer in response time. The
		// reference leaves e-mail values unconfirmed and shows calls'
		// INBOUND/OUTBOUND: a server writing those for e-mails too is
		// read the same way, not as directionless.
		switch strings.ToUpper(strings.TrimSpace(o.prop("hs_email_direction"))) {
		case "INCOMING_EMAIL", "INBOUND":
			a.Direction = connectors.DirectionInbound
		case "EMAIL", "OUTBOUND":
			a.Direction = connectors.DirectionOutbound
		}
		a.Subject = o.prop("hs_email_subject")
		st := strings.ToUpper(o.prop("hs_email_status"))
		a.Completed = st != "SCHEDULED" && st != "FAILED" && st != "BOUNCED"
	case connectors.ActivityMeeting:
		a.Subject = o.prop("hs_meeting_title")
		a.Completed = strings.EqualFold(o.prop("hs_meeting_outcome"), "COMPLETED")
		start, end := timeOrZero(o.prop("hs_meeting_start_time")), timeOrZero(o.prop("hs_meeting_end_time"))
		if !start.IsZero() && !end.Before(start) && !end.IsZero() {
			s := int(end.Sub(start) / time.Second)
			a.DurationS = &s
		}
		if a.OccurredAt.IsZero() {
			a.OccurredAt = start
		}
	case connectors.ActivityNote:
		a.Subject = o.prop("hs_note_body")
		a.Completed = true
	case connectors.ActivityTask:
		a.Subject = taskSubject(o.prop("hs_task_subject"), o.prop("hs_task_body"))
		a.Completed = strings.EqualFold(o.prop("hs_task_status"), "COMPLETED")
	}
	if a.OccurredAt.IsZero() {
		a.OccurredAt = o.created("hs_createdate")
	}
	return a
}

// portalCurrency is the currency of deals without deal_currency_code:
// Options.Currency, else the portal's company currency from
// /account-info/v3/details (PortalInformationResponse.companyCurrency),
// asked once per Client.
//
// That endpoint needs the oauth scope, which a private app may well not
// have, and a server may not have the endpoint at all. A 4xx (403 scope,
// 404 absent) or an answer without companyCurrency then leaves such deals
// with currency "" and logs ONE warning naming the fix (grant oauth, or set
// the connector's currency): "" is "currency unknown", which scoring
// leaves out of money figures, where a guess (the reporting currency at
// rate 1, say) would be silently wrong. Transient errors (5xx, timeouts)
// fail the page as usual, so a retry can get it.
func (c *Client) portalCurrency(ctx context.Context, p *puller) (string, error) {
	if err := c.mu.Lock(ctx); err != nil {
		return "", err
	}
	defer c.mu.Unlock()
	if c.currency != "" || c.currencyUnknown {
		return c.currency, nil
	}
	var d struct {
		CompanyCurrency fstr `json:"companyCurrency"`
	}
	err := p.get(ctx, "/account-info/v3/details", nil, &d)
	var re *connectors.ResponseError
	var ae *connectors.AuthError
	switch {
	case err == nil && strings.TrimSpace(string(d.CompanyCurrency)) != "":
		c.currency = strings.ToUpper(strings.TrimSpace(string(d.CompanyCurrency)))
		return c.currency, nil
	case err == nil, errors.As(err, &re) && re.Status >= 400 && re.Status < 500, errors.As(err, &ae) && ae.Status == http.StatusForbidden:
		c.currencyUnknown = true
		reason := "no companyCurrency in the account details"
		if err != nil {
			reason = err.Error()
		}
		c.log.WarnContext(ctx, "the portal currency is unknown: deals without deal_currency_code are stored without a currency "+
			"and left out of money KPIs; grant the private app the oauth scope or set currency on the connector", "reason", reason)
		return "", nil
	}
	return "", fmt.Errorf("read the portal currency for deals without deal_currency_code (or set currency in the config): %w", err)
}
