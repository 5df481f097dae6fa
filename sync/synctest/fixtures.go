package synctest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/bitrix24"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/connectors/hubspot"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
)

// Fixtures are the three connector types against their fakes, in the
// order the tests run them.
var Fixtures = []struct {
	Name string
	New  connectortest.Factory
}{
	{"hubspot", NewHubSpot},
	{"amocrm", NewAmoCRM},
	{"bitrix24", NewBitrix24},
}

// HubSpotToken is the private app token of NewHubSpot's fake.
const HubSpotToken = "pat-na1-11111111-2222-3333-4444-555555555555"

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// httpOptions are a connector's settings against a fake without rate
// limits: no pacing, millisecond backoff.
func httpOptions(o connectortest.ConnOptions, maxBackoff time.Duration, rate float64, burst int) connectors.HTTPOptions {
	return connectors.HTTPOptions{RateLimit: rate, Burst: burst, MinBackoff: time.Millisecond, MaxBackoff: maxBackoff,
		Timeout: o.Timeout, MaxRetries: o.MaxRetries}
}

// NewHubSpot is a HubSpot portal of 12 companies, 36 contacts, 24 deals,
// 120 engagements and 8 owners (one archived), seeded two hours back (so
// that an edit the tests backdate by an hour is still the newest), without
// rate limits; short pages hold 10 records.
func NewHubSpot(t testing.TB, o connectortest.FakeOptions) *connectortest.Fixture {
	clk := NewClock(time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC))
	srv := hubspottest.NewServer(hubspottest.WithClock(clk.Now), hubspottest.WithToken(HubSpotToken),
		hubspottest.WithRateLimit(0, 0), hubspottest.WithSearchRateLimit(0), hubspottest.WithLatency(o.Latency))
	t.Cleanup(srv.Close)
	w := hubspottest.World{Seed: 7, Now: clk.Now().Add(-2 * time.Hour), Companies: 12}
	if n := o.Records; n > 0 {
		w.Companies, w.Contacts, w.Deals, w.Activities = n/20, n, n/20, n/20
	}
	must(t, srv.Seed(w))
	if o.ShortPages {
		srv.SetShortPages(10)
	}
	token := HubSpotToken
	deals := func() []hubspottest.Record { return srv.Records(hubspottest.Deals) }
	return &connectortest.Fixture{
		Kind: "hubspot", Clock: clk, Server: srv, Faults: &srv.Faults, Overlap: 10 * time.Minute, SlowTimeout: 300 * time.Millisecond,
		Connector: func(t testing.TB, name string, co connectortest.ConnOptions) connectors.Connector {
			c, err := hubspot.New(hubspot.Options{Name: name, BaseURL: srv.URL, Token: cmpOr(co.Secret, token), Now: clk.Now,
				HTTPOptions: httpOptions(co, 4*time.Millisecond, 1e6, 1000), SearchRateLimit: 1e6, Transport: co.Transport,
				Fields: map[string]string{"deal_expense": "cost_of_sale", "key_client": "key_account"}})
			must(t, err)
			return c
		},
		Want: func() Rows { return HubSpot(srv) },
		Mutate: func(t testing.TB) []string {
			clk.Advance(time.Hour)
			cos, cts, ds := srv.Records(hubspottest.Companies), srv.Records(hubspottest.Contacts), deals()
			for i := range 3 {
				must(t, srv.Update(hubspottest.Companies, cos[i].ID, map[string]string{"name": "Renamed " + strconv.Itoa(i)}))
				must(t, srv.Update(hubspottest.Contacts, cts[i].ID, map[string]string{"firstname": "Re" + strconv.Itoa(i), "hubspot_owner_id": "512345601"}))
			}
			must(t, srv.Update(hubspottest.Deals, ds[0].ID, map[string]string{"dealstage": "closedwon", "pipeline": "default"}))
			must(t, srv.Update(hubspottest.Deals, ds[1].ID, map[string]string{"dealstage": "closedlost", "pipeline": "default"}))
			must(t, srv.Update(hubspottest.Deals, ds[2].ID, map[string]string{"amount": "4242.5"}))
			must(t, srv.Update(hubspottest.Deals, ds[3].ID, map[string]string{"dealname": "Renamed deal", "hubspot_owner_id": "512345602"}))
			must(t, srv.Archive(hubspottest.Companies, cos[5].ID))
			must(t, srv.Archive(hubspottest.Deals, ds[6].ID))
			clk.Advance(2 * time.Minute)
			// HubSpot keeps archived records, flagged: the fake's own
			// data says what the warehouse should hold.
			return nil
		},
		Touch: func(t testing.TB, k int) {
			cts := srv.Records(hubspottest.Contacts)
			for i := range k {
				must(t, srv.Update(hubspottest.Contacts, cts[i].ID, map[string]string{"firstname": "Touched " + strconv.Itoa(i)}))
			}
		},
		RenameDeal: func(t testing.TB, i int, name string) {
			must(t, srv.Update(hubspottest.Deals, deals()[i].ID, map[string]string{"dealname": name}))
		},
		DealCount: func() int { return len(deals()) },
		Revoke:    func() { srv.RevokeToken(token) },
		Restore: func() {
			token = "pat-na1-99999999-2222-3333-4444-555555555555"
			srv.AddToken(token)
		},
		IsDeals: func(req *http.Request, _ []byte) bool {
			return (req.URL.Path == "/crm/v3/objects/deals" && req.URL.Query().Get("archived") != "true") ||
				req.URL.Path == "/crm/v3/objects/deals/search"
		},
		Records:    func(m map[string]any) []any { rs, _ := m["results"].([]any); return rs },
		SetRecords: func(m map[string]any, rs []any) { m["results"] = rs },
		SameCursor: func(m map[string]any, req *http.Request, reqBody []byte) {
			after := req.URL.Query().Get("after")
			if b := connectortest.JSONMap(reqBody); b != nil {
				after, _ = b["after"].(string)
			}
			if after == "" {
				return // the first page may move on once
			}
			m["paging"] = map[string]any{"next": map[string]any{"after": after, "link": "x"}}
		},
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// NewAmoCRM is an amoCRM account of 5 users, 20 companies, 40 contacts,
// 60 leads, 40 tasks, 50 notes and 30 chat messages, seeded a day back so
// that no record sits in the overlap second, without rate limits and with
// retry_after 0; short pages hold 10 records.
func NewAmoCRM(t testing.TB, o connectortest.FakeOptions) *connectortest.Fixture {
	clk := NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	srv := amocrmtest.NewServer(amocrmtest.WithClock(clk.Now), amocrmtest.WithRateLimit(0, 0), amocrmtest.WithRetryAfter(0),
		amocrmtest.WithLatency(o.Latency))
	t.Cleanup(srv.Close)
	sc := amocrmtest.SeedConfig{Users: 5, Companies: 20, Contacts: 40, Leads: 60, Tasks: 40, Notes: 50, Messages: 30, Seed: 2,
		End: clk.Now().Add(-24 * time.Hour)}
	if n := o.Records; n > 0 {
		sc.Companies, sc.Contacts, sc.Leads, sc.Tasks, sc.Notes, sc.Messages = n/20, n/20, n, n/20, n/20, n/20
	}
	srv.Seed(sc)
	pageSize := 0
	if o.ShortPages {
		pageSize = 10
	}
	leadIDs := func() []int64 {
		var ids []int64
		for _, l := range srv.Objects(amocrmtest.Leads) {
			n, _ := strconv.ParseInt(fmt.Sprint(l["id"]), 10, 64)
			ids = append(ids, n)
		}
		return ids
	}
	return &connectortest.Fixture{
		Kind: "amocrm", Clock: clk, Server: srv, Faults: &srv.Faults, Overlap: time.Second, SlowTimeout: 100 * time.Millisecond,
		Connector: func(t testing.TB, name string, co connectortest.ConnOptions) connectors.Connector {
			c, err := amocrm.New(amocrm.Options{Name: name, BaseURL: srv.URL, Token: cmpOr(co.Secret, srv.Token()), Now: clk.Now,
				HTTPOptions: httpOptions(co, 2*time.Millisecond, 1e6, 1000), PageSize: pageSize, Transport: co.Transport})
			must(t, err)
			return c
		},
		Want: func() Rows { return AmoCRM(srv) },
		Mutate: func(t testing.TB) []string {
			clk.Advance(time.Hour)
			L, C, Co := int64(amocrmtest.FirstLeadID), int64(amocrmtest.FirstContactID), int64(amocrmtest.FirstCompanyID)
			srv.Update(amocrmtest.Leads, L+3, amocrmtest.Object{"name": "Renamed", "status_id": 142})
			srv.Update(amocrmtest.Leads, L+4, amocrmtest.Object{"status_id": 143})
			srv.Update(amocrmtest.Leads, L+40, amocrmtest.Object{"price": 777})
			srv.Update(amocrmtest.Leads, L+41, amocrmtest.Object{"responsible_user_id": amocrmtest.FirstUserID + 1})
			for i := range int64(3) {
				srv.Update(amocrmtest.Contacts, C+10+i, amocrmtest.Object{"name": "Changed " + strconv.Itoa(int(i))})
				srv.Update(amocrmtest.Companies, Co+5+i, amocrmtest.Object{"name": "Changed Co " + strconv.Itoa(int(i))})
			}
			srv.Delete(amocrmtest.Leads, L+10)
			srv.Delete(amocrmtest.Contacts, C+7)
			clk.Advance(time.Minute)
			return []string{fmt.Sprint("deals/", L+10), fmt.Sprint("contacts/", C+7)}
		},
		Touch: func(t testing.TB, k int) {
			for i := range int64(k) {
				srv.Update(amocrmtest.Leads, amocrmtest.FirstLeadID+i, amocrmtest.Object{"price": 1000 + i})
			}
		},
		RenameDeal: func(t testing.TB, i int, name string) {
			srv.Update(amocrmtest.Leads, leadIDs()[i], amocrmtest.Object{"name": name})
		},
		DealCount: func() int { return len(leadIDs()) },
		Revoke:    srv.RevokeTokens,
		Restore:   func() {},
		IsDeals: func(req *http.Request, _ []byte) bool {
			return req.URL.Path == "/api/v4/leads" && req.URL.Query().Get("with") != "only_deleted"
		},
		Records: func(m map[string]any) []any {
			e, _ := m["_embedded"].(map[string]any)
			rs, _ := e["leads"].([]any)
			return rs
		},
		SetRecords: func(m map[string]any, rs []any) {
			e, _ := m["_embedded"].(map[string]any)
			if e == nil {
				e = map[string]any{}
				m["_embedded"] = e
			}
			e["leads"] = rs
		},
		SameCursor: func(m map[string]any, req *http.Request, _ []byte) {
			l, _ := m["_links"].(map[string]any)
			if l == nil {
				l = map[string]any{}
				m["_links"] = l
			}
			l["next"] = map[string]any{"href": req.URL.String()}
		},
	}
}

// NewBitrix24 is a Bitrix24 portal of two users, a second pipeline and
// 120 each of companies, contacts, deals and activities
// (bitrix24test.SeedUniform), three hours old, without the leaky bucket;
// short pages read one list call (50 records) per request. Bitrix24 has no
// deletion feed: the fixture reconciles daily.
func NewBitrix24(t testing.TB, o connectortest.FakeOptions) *connectortest.Fixture {
	clk := NewClock(time.Date(2024, 9, 2, 14, 48, 35, 0, time.UTC))
	srv := bitrix24test.NewServer(bitrix24test.WithClock(clk.Now), bitrix24test.WithRateLimit(0, 0), bitrix24test.WithLatency(o.Latency))
	t.Cleanup(srv.Close)
	if n := o.Records; n > 0 {
		srv.SeedUniform(n/20, n/20, n, n/20)
	} else {
		srv.SeedUniform(120, 120, 120, 120)
	}
	clk.Advance(3 * time.Hour)
	batch := 0
	if o.ShortPages {
		batch = 1 // 50 records a page
	}
	webhook := srv.WebhookURL()
	return &connectortest.Fixture{
		Kind: "bitrix24", Clock: clk, Server: srv, Faults: &srv.Faults, Overlap: bitrix24.DefaultOverlap,
		SlowTimeout: 500 * time.Millisecond, ReconcileEvery: 24 * time.Hour,
		Connector: func(t testing.TB, name string, co connectortest.ConnOptions) connectors.Connector {
			c, err := bitrix24.New(bitrix24.Options{Name: name, WebhookURL: cmpOr(co.Secret, webhook), HTTPOptions: httpOptions(co, 5*time.Millisecond, 10000, 100),
				Now: clk.Now, BatchSize: batch, Transport: co.Transport})
			must(t, err)
			return c
		},
		Want: func() Rows { return Bitrix24(srv) },
		Mutate: func(t testing.TB) []string {
			clk.Advance(2 * time.Hour)
			srv.Update(bitrix24test.Deals, "7", bitrix24test.Record{"STAGE_ID": "WON", "STAGE_SEMANTIC_ID": "S", "OPPORTUNITY": "777.00"})
			srv.Update(bitrix24test.Deals, "8", bitrix24test.Record{"STAGE_ID": "LOSE", "STAGE_SEMANTIC_ID": "F"})
			srv.Update(bitrix24test.Deals, "100", bitrix24test.Record{"TITLE": "Renamed"})
			srv.Update(bitrix24test.Deals, "101", bitrix24test.Record{"ASSIGNED_BY_ID": "6"})
			for _, id := range []string{"3", "50", "99"} {
				srv.Update(bitrix24test.Contacts, id, bitrix24test.Record{"NAME": "Changed"})
				srv.Update(bitrix24test.Companies, id, bitrix24test.Record{"TITLE": "Changed " + id})
			}
			srv.Delete(bitrix24test.Deals, "20")
			srv.Delete(bitrix24test.Contacts, "21")
			clk.Advance(time.Minute)
			return []string{"deals/20", "contacts/21"}
		},
		Touch: func(t testing.TB, k int) {
			for i := range k {
				srv.Update(bitrix24test.Deals, strconv.Itoa(i+1), bitrix24test.Record{"TITLE": "Touched " + strconv.Itoa(i)})
			}
		},
		RenameDeal: func(t testing.TB, i int, name string) {
			srv.Update(bitrix24test.Deals, fmt.Sprint(i+1), bitrix24test.Record{"TITLE": name})
		},
		DealCount: func() int { return srv.Count(bitrix24test.Deals) },
		Revoke:    srv.RevokeWebhook,
		Restore:   func() { webhook = srv.WebhookURL() },
		IsDeals: func(req *http.Request, _ []byte) bool {
			return strings.HasSuffix(req.URL.Path, "/crm.deal.list")
		},
		Records:    func(m map[string]any) []any { rs, _ := m["result"].([]any); return rs },
		SetRecords: func(m map[string]any, rs []any) { m["result"] = rs },
		SameCursor: func(m map[string]any, req *http.Request, reqBody []byte) {
			// The ID scan (start=-1) has no server cursor; a page that
			// still says "more" carries next and total as offset pages do.
			m["next"] = json.Number("50")
			m["total"] = json.Number(strconv.Itoa(srv.Count(bitrix24test.Deals)))
		},
	}
}
