package reliability

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/bitrix24"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/connectors/hubspot"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
	crmsync "github.com/crmkpi/crmkpi/sync"
	"github.com/crmkpi/crmkpi/sync/synctest"
	"github.com/crmkpi/crmkpi/warehouse"
)

// clock is a settable clock shared by a fake, its connector and the engine.
type clock = synctest.Clock

// fault is a transient misbehaviour every fake can serve.
type fault int

const (
	fault5xx fault = iota
	faultSlow
	faultReset
	faultTruncated
	faultMalformed
	faultHTML
	fault401
)

func (f fault) String() string {
	return [...]string{"5xx", "slow", "reset", "truncated", "malformed", "html", "401"}[f]
}

// connOpts tune the connector a test builds.
type connOpts struct {
	tr         http.RoundTripper
	timeout    time.Duration
	maxRetries int
	// secrets for the secrets test; "" keeps the fixture's own.
	token string
}

// crm is one CRM type against its fake, as the fault tests drive it.
type crm struct {
	kind string
	clk  *clock
	// srv is the fake (*hubspottest.Server, ...).
	srv  any
	conn func(t testing.TB, name string, o connOpts) connectors.Connector
	want func() synctest.Rows
	// fail queues n answers of f to the next requests, whatever they are.
	fail func(f fault, n int)
	// slowTimeout is a client Timeout shorter than the fake's slow answer.
	slowTimeout time.Duration
	// isDeals reports whether a request reads a page of deals (not
	// archived or deleted listings).
	isDeals func(req *http.Request, body []byte) bool
	// recs and setRecs read and replace the records of a decoded deals
	// page; sameCursor makes the page's "more" point at the request's own
	// position, as a server stuck on one page would.
	recs       func(m map[string]any) []any
	setRecs    func(m map[string]any, rs []any)
	sameCursor func(m map[string]any, req *http.Request, reqBody []byte)
	// renameDeal renames the i-th deal (id order), moving its modified
	// time to the fake's clock.
	renameDeal func(t testing.TB, i int, name string)
	// dealCount is how many deals the fake holds.
	dealCount func() int
	// revoke makes the credentials answer 401; restore gives the connector
	// built after it working credentials again.
	revoke, restore func()
	overlap         time.Duration
}

var kinds = []struct {
	name string
	new  func(t testing.TB) *crm
}{
	{"hubspot", newHubSpot},
	{"amocrm", newAmoCRM},
	{"bitrix24", newBitrix24},
}

const hubspotToken = "pat-na1-11111111-2222-3333-4444-555555555555"

func newHubSpot(t testing.TB) *crm {
	clk := synctest.NewClock(time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC))
	srv := hubspottest.NewServer(hubspottest.WithClock(clk.Now), hubspottest.WithToken(hubspotToken),
		hubspottest.WithRateLimit(0, 0), hubspottest.WithSearchRateLimit(0))
	t.Cleanup(srv.Close)
	if err := srv.Seed(hubspottest.World{Seed: 7, Now: clk.Now().Add(-time.Hour), Companies: 6, Activities: 20}); err != nil {
		t.Fatal(err)
	}
	srv.SetShortPages(5)
	token := hubspotToken
	deals := func() []hubspottest.Record { return srv.Records(hubspottest.Deals) }
	return &crm{
		kind: "hubspot", clk: clk, srv: srv, overlap: 10 * time.Minute,
		conn: func(t testing.TB, name string, o connOpts) connectors.Connector {
			tok := token
			if o.token != "" {
				tok = o.token
			}
			c, err := hubspot.New(hubspot.Options{Name: name, BaseURL: srv.URL, Token: tok, Now: clk.Now,
				HTTPOptions: connectors.HTTPOptions{RateLimit: 1e6, Burst: 1000, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, Timeout: o.timeout, MaxRetries: o.maxRetries}, SearchRateLimit: 1e6, Transport: o.tr})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		want: func() synctest.Rows { return synctest.HubSpot(srv) },
		fail: func(f fault, n int) {
			k := map[fault]connectortest.Fault{
				fault5xx:       {Kind: connectortest.FaultStatus, Status: 503},
				faultSlow:      {Kind: connectortest.FaultSlow, Delay: 2 * time.Second},
				faultReset:     {Kind: connectortest.FaultReset},
				faultTruncated: {Kind: connectortest.FaultTruncated},
				faultMalformed: {Kind: connectortest.FaultMalformed},
				faultHTML:      {Kind: connectortest.FaultHTML, Status: 502},
				fault401:       {Kind: connectortest.FaultStatus, Status: 401},
			}[f]
			srv.Fail(n, k)
		},
		slowTimeout: 300 * time.Millisecond,
		isDeals: func(req *http.Request, _ []byte) bool {
			return (req.URL.Path == "/crm/v3/objects/deals" && req.URL.Query().Get("archived") != "true") ||
				req.URL.Path == "/crm/v3/objects/deals/search"
		},
		recs: func(m map[string]any) []any { rs, _ := m["results"].([]any); return rs },
		setRecs: func(m map[string]any, rs []any) {
			m["results"] = rs
		},
		sameCursor: func(m map[string]any, req *http.Request, reqBody []byte) {
			after := req.URL.Query().Get("after")
			if b := jsonMap(reqBody); b != nil {
				after, _ = b["after"].(string)
			}
			if after == "" {
				return // the first page may move on once
			}
			m["paging"] = map[string]any{"next": map[string]any{"after": after, "link": "x"}}
		},
		renameDeal: func(t testing.TB, i int, name string) {
			if err := srv.Update(hubspottest.Deals, deals()[i].ID, map[string]string{"dealname": name}); err != nil {
				t.Fatal(err)
			}
		},
		dealCount: func() int { return len(deals()) },
		revoke:    func() { srv.RevokeToken(token) },
		restore: func() {
			token = "pat-na1-99999999-2222-3333-4444-555555555555"
			srv.AddToken(token)
		},
	}
}

func newAmoCRM(t testing.TB) *crm {
	clk := synctest.NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	srv := amocrmtest.NewServer(amocrmtest.WithClock(clk.Now), amocrmtest.WithRateLimit(0, 0), amocrmtest.WithRetryAfter(0))
	t.Cleanup(srv.Close)
	srv.Seed(amocrmtest.SeedConfig{Users: 4, Companies: 8, Contacts: 12, Leads: 30, Tasks: 10, Notes: 10, Messages: 5, Seed: 2,
		End: clk.Now().Add(-24 * time.Hour)})
	token := srv.Token()
	leadIDs := func() []int64 {
		var ids []int64
		for _, o := range srv.Objects(amocrmtest.Leads) {
			ids = append(ids, toInt64(o["id"]))
		}
		return ids
	}
	return &crm{
		kind: "amocrm", clk: clk, srv: srv, overlap: time.Second,
		conn: func(t testing.TB, name string, o connOpts) connectors.Connector {
			tok := token
			if o.token != "" {
				tok = o.token
			}
			c, err := amocrm.New(amocrm.Options{Name: name, BaseURL: srv.URL, Token: tok, Now: clk.Now,
				HTTPOptions: connectors.HTTPOptions{RateLimit: 1e6, Burst: 1000, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, Timeout: o.timeout, MaxRetries: o.maxRetries}, PageSize: 5,
				Transport: o.tr})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		want: func() synctest.Rows { return synctest.AmoCRM(srv) },
		fail: func(f fault, n int) {
			k := map[fault]connectortest.Fault{
				fault5xx:       amocrmtest.FaultServerError,
				faultSlow:      amocrmtest.FaultSlow,
				faultReset:     amocrmtest.FaultReset,
				faultTruncated: amocrmtest.FaultTruncatedJSON,
				faultMalformed: amocrmtest.FaultMalformedJSON,
				faultHTML:      amocrmtest.FaultGatewayTimeout,
				fault401:       amocrmtest.FaultUnauthorized,
			}[f]
			srv.Fail(n, k)
		},
		slowTimeout: 100 * time.Millisecond,
		isDeals: func(req *http.Request, _ []byte) bool {
			return req.URL.Path == "/api/v4/leads" && req.URL.Query().Get("with") != "only_deleted"
		},
		recs: func(m map[string]any) []any {
			e, _ := m["_embedded"].(map[string]any)
			rs, _ := e["leads"].([]any)
			return rs
		},
		setRecs: func(m map[string]any, rs []any) {
			e, _ := m["_embedded"].(map[string]any)
			if e == nil {
				e = map[string]any{}
				m["_embedded"] = e
			}
			e["leads"] = rs
		},
		sameCursor: func(m map[string]any, req *http.Request, _ []byte) {
			l, _ := m["_links"].(map[string]any)
			if l == nil {
				l = map[string]any{}
				m["_links"] = l
			}
			l["next"] = map[string]any{"href": req.URL.String()}
		},
		renameDeal: func(t testing.TB, i int, name string) {
			srv.Update(amocrmtest.Leads, leadIDs()[i], amocrmtest.Object{"name": name})
		},
		dealCount: func() int { return len(leadIDs()) },
		revoke:    srv.RevokeTokens,
		restore:   func() {},
	}
}

func toInt64(v any) int64 {
	var n int64
	fmt.Sscan(fmt.Sprint(v), &n)
	return n
}

// seedBitrix24 fills srv with two users, a second pipeline and n each of
// companies, contacts, deals and activities.
func seedBitrix24(srv *bitrix24test.Server, n int) {
	srv.AddMany(bitrix24test.Users, []bitrix24test.Record{
		{"ID": "1", "ACTIVE": true, "NAME": "Vadim", "LAST_NAME": "Valeev", "EMAIL": "v.valeev@example.com", "UF_DEPARTMENT": []any{1}, "USER_TYPE": "employee"},
		{"ID": "6", "ACTIVE": false, "NAME": "John", "LAST_NAME": "Smith", "EMAIL": "j.smith@example.com", "UF_DEPARTMENT": []any{3}, "USER_TYPE": "employee"},
	})
	srv.AddPipeline(1, "Enterprise", 200, "NEW:New:", "WON:Deal won:S", "LOSE:Deal lost:F")
	var cos, cts, ds, as []bitrix24test.Record
	for i := 1; i <= n; i++ {
		owner := []string{"1", "6"}[i%2]
		cos = append(cos, bitrix24test.Record{"ID": i, "TITLE": fmt.Sprintf("Company %d", i), "ASSIGNED_BY_ID": owner})
		cts = append(cts, bitrix24test.Record{"ID": i, "NAME": "Contact", "LAST_NAME": fmt.Sprint(i), "COMPANY_ID": i, "ASSIGNED_BY_ID": owner})
		stage, sem := []string{"NEW", "C1:WON", "LOSE"}[i%3], []string{"P", "S", "F"}[i%3]
		ds = append(ds, bitrix24test.Record{"ID": i, "TITLE": fmt.Sprintf("Deal %d", i), "CATEGORY_ID": []string{"0", "1", "0"}[i%3], "STAGE_ID": stage,
			"STAGE_SEMANTIC_ID": sem, "CLOSED": []string{"N", "Y", "Y"}[i%3], "OPPORTUNITY": fmt.Sprintf("%d.50", i*100), "CURRENCY_ID": "RUB",
			"CLOSEDATE": "2024-09-09T00:00:00+03:00", "ASSIGNED_BY_ID": owner, "COMPANY_ID": i, "CONTACT_ID": i})
		as = append(as, bitrix24test.Record{"ID": i, "OWNER_ID": i, "OWNER_TYPE_ID": "2", "TYPE_ID": []string{"2", "4"}[i%2],
			"SUBJECT": "Touch", "START_TIME": "2024-09-05T13:25:00+03:00", "END_TIME": "2024-09-05T13:28:03+03:00",
			"DEADLINE": "2024-09-05T13:25:00+03:00", "COMPLETED": "Y", "STATUS": "2", "RESPONSIBLE_ID": owner, "DIRECTION": "2"})
	}
	srv.AddMany(bitrix24test.Companies, cos)
	srv.AddMany(bitrix24test.Contacts, cts)
	srv.AddMany(bitrix24test.Deals, ds)
	srv.AddMany(bitrix24test.Activities, as)
}

func newBitrix24(t testing.TB) *crm {
	clk := synctest.NewClock(time.Date(2024, 9, 2, 14, 48, 35, 0, time.UTC))
	srv := bitrix24test.NewServer(bitrix24test.WithClock(clk.Now), bitrix24test.WithRateLimit(0, 0))
	t.Cleanup(srv.Close)
	seedBitrix24(srv, 120)
	clk.Advance(3 * time.Hour)
	webhook := srv.WebhookURL()
	return &crm{
		kind: "bitrix24", clk: clk, srv: srv, overlap: bitrix24.DefaultOverlap,
		conn: func(t testing.TB, name string, o connOpts) connectors.Connector {
			wh := webhook
			if o.token != "" {
				wh = o.token
			}
			c, err := bitrix24.New(bitrix24.Options{Name: name, WebhookURL: wh, HTTPOptions: connectors.HTTPOptions{RateLimit: 10000, Burst: 100, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Timeout: o.timeout, MaxRetries: o.maxRetries}, Now: clk.Now, BatchSize: 1,
				Transport: o.tr})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		want: func() synctest.Rows { return synctest.Bitrix24(srv) },
		fail: func(f fault, n int) {
			k := map[fault]connectortest.Fault{
				fault5xx:       bitrix24test.FaultServerError,
				faultSlow:      bitrix24test.FaultSlow,
				faultReset:     bitrix24test.FaultReset,
				faultTruncated: bitrix24test.FaultTruncated,
				faultMalformed: bitrix24test.FaultMalformed,
				faultHTML:      bitrix24test.FaultHTML,
				fault401:       bitrix24test.FaultUnauthorized,
			}[f]
			srv.Fail(n, k)
		},
		slowTimeout: 500 * time.Millisecond,
		isDeals: func(req *http.Request, _ []byte) bool {
			return strings.HasSuffix(req.URL.Path, "/crm.deal.list")
		},
		recs: func(m map[string]any) []any { rs, _ := m["result"].([]any); return rs },
		setRecs: func(m map[string]any, rs []any) {
			m["result"] = rs
		},
		sameCursor: func(m map[string]any, req *http.Request, reqBody []byte) {
			// The ID scan (start=-1) has no server cursor; a page that
			// still says "more" carries next and total as offset pages do.
			m["next"] = json.Number("50")
			m["total"] = json.Number("120")
		},
		renameDeal: func(t testing.TB, i int, name string) {
			srv.Update(bitrix24test.Deals, fmt.Sprint(i+1), bitrix24test.Record{"TITLE": name})
		},
		dealCount: func() int { return srv.Count(bitrix24test.Deals) },
		revoke:    srv.RevokeWebhook,
		restore:   func() { webhook = srv.WebhookURL() },
	}
}

// syncRun runs one sync of conn within a deadline that catches endless
// loops, and returns its summary.
func syncRun(t testing.TB, s crmsync.Store, clk *clock, conn connectors.Connector, full bool) *crmsync.Summary {
	t.Helper()
	return syncRunWithin(t, s, clk, conn, full, 30*time.Second)
}

// syncRunWithin is syncRun with its own deadline, for syncs that are slow
// by design (megabyte strings under the race detector on a busy machine).
func syncRunWithin(t testing.TB, s crmsync.Store, clk *clock, conn connectors.Connector, full bool, limit time.Duration) *crmsync.Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	e := &crmsync.Engine{Store: s, Now: clk.Now, Holder: "reliability"}
	sum, err := e.Run(ctx, []crmsync.Job{{Connector: conn, Full: full, ReconcileEvery: 24 * time.Hour}})
	if ctx.Err() != nil {
		t.Fatalf("sync of %s did not end within %s (an endless loop?): %v", conn.Name(), limit, sum.Err())
	}
	if err != nil {
		t.Fatalf("sync of %s: %v", conn.Name(), err)
	}
	return sum
}

// mustSync runs a sync that must succeed.
func mustSync(t testing.TB, s crmsync.Store, clk *clock, conn connectors.Connector, full bool) *crmsync.Summary {
	t.Helper()
	sum := syncRun(t, s, clk, conn, full)
	if sum.Failed() {
		t.Fatalf("sync of %s failed: %v", conn.Name(), sum.Err())
	}
	return sum
}

// equalFake fails unless the warehouse holds exactly want for connector.
func equalFake(t testing.TB, s *warehouse.Store, connector string, want synctest.Rows) {
	t.Helper()
	got, err := synctest.Read(context.Background(), synctest.DB(t, s), connector)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warehouse differs from the fake (-fake +warehouse):\n%s", diff)
	}
}

// noneRunning fails when a run of connector is left "running".
func noneRunning(t testing.TB, s *warehouse.Store, connector string) []synctest.Run {
	t.Helper()
	runs, err := synctest.Runs(context.Background(), synctest.DB(t, s), connector)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.Status == warehouse.RunRunning || r.Finished.IsZero() {
			t.Errorf("run %d of %s %s left %s", r.ID, connector, r.Object, r.Status)
		}
	}
	return runs
}
