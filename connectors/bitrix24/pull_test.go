package bitrix24

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
)

// fakeIDs lists the ids the fake holds for e, sorted as strings.
func fakeIDs(srv *bitrix24test.Server, e bitrix24test.Entity) []string {
	var out []string
	for _, r := range srv.All(e) {
		out = append(out, r["ID"].(string))
	}
	sort.Strings(out)
	return out
}

var objEntity = map[connectors.Object]bitrix24test.Entity{
	connectors.ObjectCompanies:  bitrix24test.Companies,
	connectors.ObjectContacts:   bitrix24test.Contacts,
	connectors.ObjectDeals:      bitrix24test.Deals,
	connectors.ObjectActivities: bitrix24test.Activities,
	connectors.ObjectUsers:      bitrix24test.Users,
}

// rawOf returns a record's Raw as a generic value.
func rawOf(t *testing.T, raw json.RawMessage) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFullLoadEqualsFake(t *testing.T) {
	clk := newClock(t0)
	srv := newFake(t, clk)
	const n = 420 // 8.4 pages: a short last page inside a batch
	seed(srv, n)
	clk.Advance(3 * time.Hour)
	c := newClient(t, srv, clk, nil)

	got := map[connectors.Object]*result{}
	for _, obj := range c.Objects() {
		got[obj] = pull(t, c, obj, "")
	}
	for obj, e := range objEntity {
		if diff := cmp.Diff(fakeIDs(srv, e), got[obj].ids(obj)); diff != "" {
			t.Errorf("%s ids (-fake +pulled):\n%s", obj, diff)
		}
	}
	// Every record's Raw is the fake's record, restricted to what was
	// selected (the fake's JSON, not ours).
	for _, d := range got[connectors.ObjectDeals].deals {
		want := map[string]any{}
		for k, v := range srv.Get(bitrix24test.Deals, d.ID) {
			if slices.Contains(entities[connectors.ObjectDeals].sel, k) || k == "UF_CRM_EXPENSE" {
				want[k] = v
			}
		}
		for _, k := range entities[connectors.ObjectDeals].sel {
			if _, ok := want[k]; !ok {
				want[k] = nil
			}
		}
		if diff := cmp.Diff(want, rawOf(t, d.Raw)); diff != "" {
			t.Fatalf("deal %s raw (-fake +pulled):\n%s", d.ID, diff)
		}
	}
	// Mapped values, computed from the seed's formulas.
	for i := 1; i <= n; i++ {
		id := strconv.Itoa(i)
		d := got[connectors.ObjectDeals].deals[id]
		wantStatus := []string{"open", "won", "lost"}[i%3]
		amount := float64(i*100) + 0.5
		if d.Status != wantStatus || d.Amount == nil || *d.Amount != amount || d.CompanyID != id || d.ContactID != id ||
			d.OwnerID != "1" || d.Expense == nil || *d.Expense != 150 || !d.UpdatedAt.Equal(t0.Add(-time.Duration(n-i)*time.Second)) {
			t.Fatalf("deal %s = %+v, want status %s amount %v", id, d, wantStatus, amount)
		}
		ct := got[connectors.ObjectContacts].contacts[id]
		if ct.Email != fmt.Sprintf("c%d@example.com", i) || ct.CompanyID != id || ct.OwnerID != "6" || ct.Name != "Contact "+id {
			t.Fatalf("contact %s = %+v", id, ct)
		}
		co := got[connectors.ObjectCompanies].companies[id]
		if co.KeyClient == nil || *co.KeyClient != (i%2 == 1) {
			t.Fatalf("company %s key client = %v, want %v", id, co.KeyClient, i%2 == 1)
		}
		a := got[connectors.ObjectActivities].acts[id]
		if a.Type != "call" || a.Direction != "outbound" || a.DealID != id || a.DurationS == nil || *a.DurationS != 183 {
			t.Fatalf("activity %s = %+v", id, a)
		}
	}
	wantStages := map[string]string{"NEW": "open", "PREPARATION": "open", "WON": "won", "LOSE": "lost",
		"C1:NEW": "open", "C1:WON": "won", "C1:LOSE": "lost"}
	gotStages := map[string]string{}
	for id, s := range got[connectors.ObjectStages].stages {
		gotStages[id] = s.Status
	}
	if diff := cmp.Diff(wantStages, gotStages); diff != "" {
		t.Errorf("stages (-want +got):\n%s", diff)
	}
	if s := got[connectors.ObjectStages].stages["C1:WON"]; s.PipelineID != "1" || s.PipelineName != "Enterprise" {
		t.Errorf("stage C1:WON = %+v", s)
	}
	if u := got[connectors.ObjectUsers].users["6"]; u.Active || u.Email != "j.smith@example.com" {
		t.Errorf("inactive user = %+v, want kept as inactive", u)
	}
	// 420 deals: one batch (a short page inside it): a full load chains
	// from the start. The last cursor opens the next window at the latest
	// DATE_MODIFY read, deal 420's t0, which is before the run's start
	// less the overlap (connectors.NextWindow), with the portal's offset.
	r := got[connectors.ObjectDeals]
	if r.requests != 1 || len(r.pages) != 1 {
		t.Errorf("deals took %d requests in %d pages, want 1 and 1", r.requests, len(r.pages))
	}
	if want := `{"from":"2024-09-02T14:48:35Z","tz":10800}`; r.last() != want {
		t.Errorf("final cursor = %s, want %s", r.last(), want)
	}
}

func TestFullLoad100kDeals(t *testing.T) {
	n := 100_000
	if raceEnabled {
		// The race detector makes decoding 100k rows take minutes; the
		// request arithmetic is the same at 10k.
		n = 10_000
	}
	clk := newClock(t0)
	// The vendor's bucket, on the real clock. With -short the client runs
	// far above it (only the request count is checked); otherwise it runs
	// with its defaults, which must never overrun the bucket (~16 s).
	recs := make([]bitrix24test.Record, n)
	for i := range recs {
		recs[i] = bitrix24test.Record{"ID": i + 1, "TITLE": "D", "STAGE_ID": "NEW", "STAGE_SEMANTIC_ID": "P", "OPPORTUNITY": "1.00", "CURRENCY_ID": "RUB"}
	}
	// Without -short: the vendor's bucket (2/s, 50) on the real clock and
	// the client's default limiter, which must never overrun it (~16 s).
	// With -short: no bucket and a fast client; only the count is checked.
	var srv *bitrix24test.Server
	var c *Client
	if testing.Short() {
		srv = newFake(t, clk)
		c = newClient(t, srv, clk, nil)
	} else {
		srv = newFake(t, clk, bitrix24test.WithRateLimit(2, 50))
		c = newClient(t, srv, clk, func(o *Options) { o.RateLimit, o.Burst = 0, 0 })
	}
	srv.AddMany(bitrix24test.Deals, recs)
	r := pull(t, c, connectors.ObjectDeals, "")
	if len(r.deals) != n {
		t.Fatalf("pulled %d deals, want %d", len(r.deals), n)
	}
	// ⌈100,000 / 2,500⌉ = 40 batches, plus the single call that starts
	// every scan.
	if got, max := srv.TotalRequests(), (n+2499)/2500+1; got > max {
		t.Errorf("full load of %d deals took %d HTTP requests, want at most %d", n, got, max)
	}
	if got := srv.Requests("batch") + srv.Requests("crm.deal.list"); got != srv.TotalRequests() {
		t.Errorf("requests by method %d != total %d", got, srv.TotalRequests())
	}
	if srv.Rejected() != 0 || c.Stats().Retries != 0 {
		t.Errorf("bucket rejected %d requests, client retried %d; want none", srv.Rejected(), c.Stats().Retries)
	}
	t.Logf("%d deals in %d requests (%d pages)", n, srv.TotalRequests(), len(r.pages))
}

func TestIncrementalFetchesOnlyChanges(t *testing.T) {
	clk := newClock(t0)
	srv := newFake(t, clk)
	seed(srv, 300)
	clk.Advance(3 * time.Hour) // run 1 at t0+3h: window [t0+2h, ...) next
	c := newClient(t, srv, clk, nil)
	full := map[connectors.Object]*result{}
	for _, obj := range c.Objects() {
		full[obj] = pull(t, c, obj, "")
	}

	clk.Advance(2 * time.Hour)
	srv.Update(bitrix24test.Deals, "7", bitrix24test.Record{"STAGE_ID": "WON", "STAGE_SEMANTIC_ID": "S", "OPPORTUNITY": "777.00"})
	srv.Update(bitrix24test.Deals, "250", bitrix24test.Record{"TITLE": "Renamed"})
	newID := srv.Add(bitrix24test.Deals, bitrix24test.Record{"TITLE": "New deal", "STAGE_ID": "NEW", "STAGE_SEMANTIC_ID": "P"})
	srv.Update(bitrix24test.Activities, "3", bitrix24test.Record{"COMPLETED": "N"})
	srv.Update(bitrix24test.Contacts, "9", bitrix24test.Record{"UF_CRM_NPS": "10", "UF_CRM_NPS_DATE": "2024-09-02T00:00:00+03:00"})
	clk.Advance(time.Minute)
	srv.ResetCounts()

	// Each window starts at the latest DATE_MODIFY the full load read,
	// record 300's t0 (connectors.NextWindow: the seed is 3 h older than
	// the run), and the filter is inclusive: record 300 is read again.
	want := map[connectors.Object][]string{
		connectors.ObjectDeals:      {"250", "300", "7", newID},
		connectors.ObjectActivities: {"3", "300"},
		connectors.ObjectContacts:   {"300", "9"},
		connectors.ObjectCompanies:  {"300"},
	}
	for obj, ids := range want {
		r := pull(t, c, obj, full[obj].last())
		sort.Strings(ids)
		if diff := cmp.Diff(ids, r.ids(obj)); diff != "" {
			t.Errorf("incremental %s ids (-want +got):\n%s", obj, diff)
		}
		if r.requests != 1 || len(r.pages) != 1 {
			t.Errorf("incremental %s: %d requests, %d pages; want 1 and 1", obj, r.requests, len(r.pages))
		}
	}
	if got := srv.TotalRequests(); got != 4 {
		t.Errorf("incremental run made %d HTTP requests, want 4 (one per object)", got)
	}
	// The window is written in portal-local time with the portal's offset.
	f := srv.LastParams("crm.deal.list")["filter"].(map[string]any)
	wantFilter := map[string]any{">=DATE_MODIFY": "2024-09-02T17:48:35+03:00", "<DATE_MODIFY": "2024-09-02T22:49:35+03:00", ">ID": "0"}
	if diff := cmp.Diff(wantFilter, f); diff != "" {
		t.Errorf("deal filter (-want +got):\n%s", diff)
	}
	if d := pull(t, c, connectors.ObjectDeals, full[connectors.ObjectDeals].last()).deals["7"]; d.Status != "won" || *d.Amount != 777 {
		t.Errorf("changed deal = %+v", d)
	}

	// A fresh process learns nothing before its first filter: it takes
	// the offset from the cursor instead of asking server.time.
	c2 := newClient(t, srv, clk, nil)
	srv.ResetCounts()
	r := pull(t, c2, connectors.ObjectDeals, full[connectors.ObjectDeals].last())
	if len(r.deals) != 4 || srv.TotalRequests() != 1 || srv.Requests("server.time") != 0 {
		t.Errorf("fresh client: %d deals in %d requests (server.time %d), want 4 in 1 (0)", len(r.deals), srv.TotalRequests(), srv.Requests("server.time"))
	}
	// Without an offset anywhere it asks once.
	c3 := newClient(t, srv, clk, nil)
	srv.ResetCounts()
	r = pull(t, c3, connectors.ObjectDeals, `{"from":"2024-09-02T16:48:35Z"}`)
	if len(r.deals) != 3 || srv.Requests("server.time") != 1 || r.requests != 2 {
		t.Errorf("no offset: %d deals, server.time %d, page requests %d; want 3, 1, 2", len(r.deals), srv.Requests("server.time"), r.requests)
	}
}

// A portal at another offset: the filter must follow it, or a window
// misses hours of changes (the fake reads the wall clock, as #215 reports).
func TestIncrementalOtherOffset(t *testing.T) {
	clk := newClock(t0)
	srv := newFake(t, clk, bitrix24test.WithLocation(time.FixedZone("", -5*3600)))
	seed(srv, 10)
	clk.Advance(3 * time.Hour)
	c := newClient(t, srv, clk, nil)
	full := pull(t, c, connectors.ObjectDeals, "")
	clk.Advance(30 * time.Minute)
	srv.Update(bitrix24test.Deals, "4", bitrix24test.Record{"TITLE": "x"})
	clk.Advance(time.Minute)
	r := pull(t, c, connectors.ObjectDeals, full.last())
	// Deal 10, the latest DATE_MODIFY (t0) read by the full load, where
	// the window starts, is read again.
	if diff := cmp.Diff([]string{"10", "4"}, r.ids(connectors.ObjectDeals)); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	f := srv.LastParams("crm.deal.list")["filter"].(map[string]any)
	if got := f[">=DATE_MODIFY"]; got != "2024-09-02T09:48:35-05:00" {
		t.Errorf(">=DATE_MODIFY = %v, want 2024-09-02T09:48:35-05:00", got)
	}
}

var errKilled = errors.New("killed")

// pullKilled runs obj from cur, killing the pull after every page (the
// page is stored first, as the sync engine stores it with its cursor) and
// restarting from the last stored cursor, until a pull ends by itself.
func pullKilled(t *testing.T, c *Client, obj connectors.Object, cur string) (*result, int) {
	t.Helper()
	r := newResult()
	restarts := 0
	for {
		stored := false
		err := c.Pull(context.Background(), obj, cur, func(_ context.Context, p *connectors.Page) error {
			r.add(p)
			cur = p.Cursor
			stored = true
			return errKilled
		})
		if err != nil && !errors.Is(err, errKilled) {
			t.Fatalf("Pull(%s, %q): %v", obj, cur, err)
		}
		if !stored {
			t.Fatalf("pull of %s emitted nothing", obj)
		}
		restarts++
		// The final page's cursor opens the next window; stop there.
		var cr cursor
		json.Unmarshal([]byte(cur), &cr)
		if cr.Done || (cr.To == nil && (cr.From != nil)) {
			return r, restarts
		}
		if restarts > 1000 {
			t.Fatal("pull never finished")
		}
	}
}

func TestResumeAfterEveryPage(t *testing.T) {
	clk := newClock(t0)
	srv := newFake(t, clk)
	seed(srv, 734)
	for i := 0; i < 120; i++ {
		srv.Add(bitrix24test.Users, bitrix24test.Record{"ACTIVE": true, "NAME": fmt.Sprint("U", i)})
	}
	clk.Advance(3 * time.Hour)
	// Three calls per batch: 150 records a page, so many kill points.
	c := newClient(t, srv, clk, func(o *Options) { o.BatchSize = 3 })
	for _, obj := range []connectors.Object{connectors.ObjectUsers, connectors.ObjectDeals, connectors.ObjectActivities} {
		whole := pull(t, c, obj, "")
		killed, restarts := pullKilled(t, c, obj, "")
		if diff := cmp.Diff(whole.ids(obj), killed.ids(obj)); diff != "" {
			t.Errorf("%s after %d restarts (-whole +killed):\n%s", obj, restarts, diff)
		}
		if restarts < 3 {
			t.Errorf("%s: only %d restarts", obj, restarts)
		}
		// Nothing read twice, beyond nothing: the resumed pulls emit every
		// id exactly once.
		seen := map[string]int{}
		for _, p := range killed.pages {
			for _, d := range p.Deals {
				seen[d.ID]++
			}
			for _, a := range p.Activities {
				seen[a.ID]++
			}
			for _, u := range p.Users {
				seen[u.ID]++
			}
		}
		for id, k := range seen {
			if k != 1 {
				t.Errorf("%s %s emitted %d times", obj, id, k)
			}
		}
		if whole.last() != killed.last() {
			t.Errorf("%s final cursor %s, resumed %s", obj, whole.last(), killed.last())
		}
	}

	// An incremental window killed after every page, with changes made
	// while it is half done: every change before the window's end arrives.
	full := pull(t, c, connectors.ObjectDeals, "")
	clk.Advance(2 * time.Hour)
	var changed []string
	for i := 1; i <= 734; i += 3 {
		srv.Update(bitrix24test.Deals, strconv.Itoa(i), bitrix24test.Record{"TITLE": "changed"})
		changed = append(changed, strconv.Itoa(i))
	}
	clk.Advance(time.Minute)
	killed, _ := pullKilled(t, c, connectors.ObjectDeals, full.last())
	// And deal 734, the last the full load read, where the window starts.
	changed = append(changed, "734")
	sort.Strings(changed)
	if diff := cmp.Diff(changed, killed.ids(connectors.ObjectDeals)); diff != "" {
		t.Errorf("killed incremental (-want +got):\n%s", diff)
	}
}

func TestReconcileFlagsDeletedDeals(t *testing.T) {
	clk := newClock(t0)
	srv := newFake(t, clk)
	for i := 1; i <= 2600; i++ {
		srv.Add(bitrix24test.Deals, bitrix24test.Record{"TITLE": "D"})
	}
	c := newClient(t, srv, clk, nil)
	stored := pull(t, c, connectors.ObjectDeals, "").ids(connectors.ObjectDeals)
	for _, id := range []string{"5", "17", "2600"} {
		srv.Delete(bitrix24test.Deals, id)
	}
	srv.ResetCounts()
	live := map[string]bool{}
	batches := 0
	err := c.ListIDs(context.Background(), connectors.ObjectDeals, func(ids []string) error {
		batches++
		for _, id := range ids {
			live[id] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var flagged []string
	for _, id := range stored {
		if !live[id] {
			flagged = append(flagged, id)
		}
	}
	if diff := cmp.Diff([]string{"17", "2600", "5"}, flagged); diff != "" {
		t.Errorf("flagged (-want +got):\n%s", diff)
	}
	// 2,597 ids: one batch of 50 calls (2,500 ids), then a batch for the
	// rest.
	if got := srv.TotalRequests(); got != 2 {
		t.Errorf("ListIDs made %d requests, want 2", got)
	}
	if sel := srv.LastParams("crm.deal.list")["select"]; !cmp.Equal(sel, []any{"ID"}) {
		t.Errorf("ListIDs select = %v, want [ID]", sel)
	}
	if got := c.ReconcileObjects(); len(got) != 4 || c.ReconcileEvery() != 24*time.Hour {
		t.Errorf("ReconcileObjects = %v, ReconcileEvery = %v", got, c.ReconcileEvery())
	}
}

// A portal whose clock runs behind ours (an hour and more: a portal, or a
// fake, on a clock of its own) stamps a change made after a window with a
// time before that window's end. The next window starts from the portal's
// time, so the change is read; from our clock less the overlap it never
// would be.
func TestIncrementalPortalClockBehind(t *testing.T) {
	portal := newClock(t0)
	srv := newFake(t, portal)
	seed(srv, 60) // stamped up to t0
	portal.Advance(2 * time.Hour)
	// A change at the portal's now: the latest DATE_MODIFY read is then
	// no earlier than the portal's time less the overlap, which decides.
	srv.Update(bitrix24test.Deals, "60", bitrix24test.Record{"TITLE": "late"})
	ours := newClock(portal.Now().Add(3 * time.Hour))
	c := newClient(t, srv, ours, nil)
	full := pull(t, c, connectors.ObjectDeals, "")
	if got, want := full.last(), `{"from":"2024-09-02T15:48:35Z","tz":10800}`; got != want {
		t.Errorf("cursor after the full load = %s, want %s (an hour before the portal's time)", got, want)
	}

	// Deal 60, changed within the overlap, is read again.
	pullAfterChange(t, srv, c, portal, ours, full.last(), t0.Add(2*time.Hour+10*time.Minute))
	f := srv.LastParams("crm.deal.list")["filter"].(map[string]any)
	wantFilter := map[string]any{">=DATE_MODIFY": "2024-09-02T18:48:35+03:00", "<DATE_MODIFY": "2024-09-02T22:58:35+03:00", ">ID": "0"}
	if diff := cmp.Diff(wantFilter, f); diff != "" {
		t.Errorf("deal filter (-want +got):\n%s", diff)
	}
}

// A portal whose answers carry no time block and whose clock runs 2 h
// behind ours: nothing tells its time but the records' DATE_MODIFY. The
// next window starts at the latest one read (connectors.NextWindow), so a
// change after the first sync, stamped before our clock less the overlap,
// is read by the next one.
func TestIncrementalPortalClockBehindNoTimeBlock(t *testing.T) {
	portal := newClock(t0)
	srv := newFake(t, portal, bitrix24test.WithEnvelopeEdit(func(_ string, env map[string]any) { delete(env, "time") }))
	seed(srv, 60) // deal i stamped 60−i seconds before t0
	ours := newClock(t0.Add(2 * time.Hour))
	c := newClient(t, srv, ours, nil)
	full := pull(t, c, connectors.ObjectDeals, "")
	if got, want := full.last(), `{"from":"2024-09-02T14:48:35Z","tz":10800}`; got != want {
		t.Errorf("cursor after the full load = %s, want %s (deal 60's DATE_MODIFY)", got, want)
	}

	// Deal 60, the latest read, is read again.
	r := pullAfterChange(t, srv, c, portal, ours, full.last(), t0.Add(10*time.Minute))
	// The next window starts at deal 7's change, the latest read.
	if got, want := r.last(), `{"from":"2024-09-02T14:58:35Z","tz":10800}`; got != want {
		t.Errorf("cursor after the incremental = %s, want %s", got, want)
	}
}

// pullAfterChange moves both clocks on 10 minutes, changes deal 7 (at
// at, the portal's clock) and pulls the deals from cur: deal 60 and the
// changed deal 7.
func pullAfterChange(t *testing.T, srv *bitrix24test.Server, c *Client, portal, ours *clock, cur string, at time.Time) *result {
	t.Helper()
	ours.Advance(10 * time.Minute)
	portal.Advance(10 * time.Minute)
	srv.Update(bitrix24test.Deals, "7", bitrix24test.Record{"TITLE": "changed"})
	r := pull(t, c, connectors.ObjectDeals, cur)
	if diff := cmp.Diff([]string{"60", "7"}, r.ids(connectors.ObjectDeals)); diff != "" {
		t.Errorf("incremental ids (-want +got):\n%s", diff)
	}
	if d := r.deals["7"]; d.Name != "changed" || !d.UpdatedAt.Equal(at) {
		t.Errorf("deal 7 = %q modified %v, want \"changed\" at %v", d.Name, d.UpdatedAt, at)
	}
	return r
}

// The latest DATE_MODIFY read is in every page's cursor, so a run killed
// after the page that read it still starts the next window there: deal 1,
// changed last, is on the first page and the later pages hold older ones.
func TestResumeKeepsLatestRead(t *testing.T) {
	portal := newClock(t0)
	srv := newFake(t, portal, bitrix24test.WithEnvelopeEdit(func(_ string, env map[string]any) { delete(env, "time") }))
	seed(srv, 120) // deal i stamped 120−i seconds before t0
	portal.Advance(time.Minute)
	srv.Update(bitrix24test.Deals, "1", bitrix24test.Record{"TITLE": "changed"})
	c := newClient(t, srv, newClock(t0.Add(2*time.Hour)), func(o *Options) { o.BatchSize = 1 })
	killed, restarts := pullKilled(t, c, connectors.ObjectDeals, "")
	if len(killed.deals) != 120 || restarts != 3 {
		t.Fatalf("%d deals in %d restarts, want 120 in 3", len(killed.deals), restarts)
	}
	want := []string{
		`{"to":"2024-09-02T16:48:35Z","after":50,"tz":10800,"max":"2024-09-02T14:49:35Z"}`,
		`{"to":"2024-09-02T16:48:35Z","after":100,"tz":10800,"max":"2024-09-02T14:49:35Z"}`,
		`{"from":"2024-09-02T14:49:35Z","tz":10800}`,
	}
	if diff := cmp.Diff(want, killed.cursors); diff != "" {
		t.Errorf("cursors (-want +got):\n%s", diff)
	}
}
