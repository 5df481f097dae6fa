package bitrix24

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/bitrix24/bitrix24test"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
)

// clock is a settable clock shared by the fake and the connector.
type clock = connectortest.Clock

func newClock(t time.Time) *clock { return connectortest.NewClock(t) }

var t0 = time.Date(2024, 9, 2, 14, 48, 35, 0, time.UTC)

// newFake starts a fake portal without the leaky bucket (tests that are
// about the bucket turn it on) on clk.
func newFake(t testing.TB, clk *clock, opts ...bitrix24test.Option) *bitrix24test.Server {
	t.Helper()
	opts = append([]bitrix24test.Option{bitrix24test.WithClock(clk.Now), bitrix24test.WithRateLimit(0, 0)}, opts...)
	srv := bitrix24test.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

// newBubbleFake is newFake without a listener, for a test inside a
// testing/synctest bubble: the leaky bucket, the limiter and the backoffs
// then run on the bubble's clock, so waits take no wall time and are
// exact.
func newBubbleFake(t testing.TB, clk *clock, opts ...bitrix24test.Option) *bitrix24test.Server {
	t.Helper()
	return newFake(t, clk, append([]bitrix24test.Option{bitrix24test.WithoutListener()}, opts...)...)
}

// newClient returns a webhook client for srv, over srv's transport, with
// tiny backoffs and a limiter far above the fake's, unless mod says
// otherwise.
func newClient(t testing.TB, srv *bitrix24test.Server, clk *clock, mod func(*Options)) *Client {
	t.Helper()
	opts := Options{
		Name:        "b24",
		WebhookURL:  srv.WebhookURL(),
		HTTPOptions: connectors.HTTPOptions{RateLimit: 10000, Burst: 100, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
		Now:         clk.Now,
		Transport:   srv.Transport(),
		Fields:      map[string]string{"nps_score": "UF_CRM_NPS", "nps_date": "UF_CRM_NPS_DATE", "deal_expense": "UF_CRM_EXPENSE", "key_client": "UF_CRM_KEY"},
	}
	if mod != nil {
		mod(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// result collects what a pull emitted.
type result struct {
	pages     []*connectors.Page
	cursors   []string
	users     map[string]connectors.User
	stages    map[string]connectors.Stage
	companies map[string]connectors.Company
	contacts  map[string]connectors.Contact
	deals     map[string]connectors.Deal
	acts      map[string]connectors.Activity
	requests  int
}

func newResult() *result {
	return &result{users: map[string]connectors.User{}, stages: map[string]connectors.Stage{},
		companies: map[string]connectors.Company{}, contacts: map[string]connectors.Contact{},
		deals: map[string]connectors.Deal{}, acts: map[string]connectors.Activity{}}
}

func (r *result) add(p *connectors.Page) {
	r.pages = append(r.pages, p)
	r.cursors = append(r.cursors, p.Cursor)
	r.requests += p.Requests
	for _, x := range p.Users {
		r.users[x.ID] = x
	}
	for _, x := range p.Stages {
		r.stages[x.ID] = x
	}
	for _, x := range p.Companies {
		r.companies[x.ID] = x
	}
	for _, x := range p.Contacts {
		r.contacts[x.ID] = x
	}
	for _, x := range p.Deals {
		r.deals[x.ID] = x
	}
	for _, x := range p.Activities {
		r.acts[x.ID] = x
	}
}

func (r *result) last() string { return r.cursors[len(r.cursors)-1] }

func (r *result) ids(obj connectors.Object) []string {
	switch obj {
	case connectors.ObjectDeals:
		return slices.Sorted(maps.Keys(r.deals))
	case connectors.ObjectContacts:
		return slices.Sorted(maps.Keys(r.contacts))
	case connectors.ObjectCompanies:
		return slices.Sorted(maps.Keys(r.companies))
	case connectors.ObjectActivities:
		return slices.Sorted(maps.Keys(r.acts))
	case connectors.ObjectUsers:
		return slices.Sorted(maps.Keys(r.users))
	case connectors.ObjectStages:
		return slices.Sorted(maps.Keys(r.stages))
	}
	return nil
}

func pull(t testing.TB, c *Client, obj connectors.Object, cur string) *result {
	t.Helper()
	r := newResult()
	err := c.Pull(context.Background(), obj, cur, func(_ context.Context, p *connectors.Page) error {
		r.add(p)
		return nil
	})
	if err != nil {
		t.Fatalf("Pull(%s, %q): %v", obj, cur, err)
	}
	return r
}

// seed fills srv with a small, deterministic portal: users, a second
// pipeline, and n each of companies, contacts, deals and activities.
// Record i is last modified n−i seconds before t0, a second apart as a
// portal's changes are: the window's filter is inclusive, so the next
// window reads again only the last one (connectors.NextWindow).
func seed(srv *bitrix24test.Server, n int) {
	srv.AddMany(bitrix24test.Users, []bitrix24test.Record{
		{"ID": "1", "ACTIVE": true, "NAME": "Vadim", "LAST_NAME": "Valeev", "EMAIL": "v.valeev@example.com", "UF_DEPARTMENT": []any{1}, "USER_TYPE": "employee"},
		{"ID": "6", "ACTIVE": false, "NAME": "John", "LAST_NAME": "Smith", "EMAIL": "j.smith@example.com", "UF_DEPARTMENT": []any{3}, "USER_TYPE": "employee"},
	})
	srv.AddPipeline(1, "Enterprise", 200, "NEW:New:", "WON:Deal won:S", "LOSE:Deal lost:F")
	var cos, cts, ds, as []bitrix24test.Record
	for i := 1; i <= n; i++ {
		mod := t0.Add(-time.Duration(n-i) * time.Second)
		cos = append(cos, bitrix24test.Record{"ID": i, "TITLE": fmt.Sprintf("Company %d", i), "ASSIGNED_BY_ID": "1", "UF_CRM_KEY": []string{"0", "1"}[i%2], "DATE_MODIFY": mod})
		cts = append(cts, bitrix24test.Record{"ID": i, "NAME": "Contact", "LAST_NAME": fmt.Sprint(i), "COMPANY_ID": i, "ASSIGNED_BY_ID": "6",
			"EMAIL": []any{map[string]any{"ID": fmt.Sprint(1000 + i), "VALUE_TYPE": "WORK", "VALUE": fmt.Sprintf("c%d@example.com", i), "TYPE_ID": "EMAIL"}}, "DATE_MODIFY": mod})
		stage, sem := []string{"NEW", "C1:WON", "LOSE"}[i%3], []string{"P", "S", "F"}[i%3]
		ds = append(ds, bitrix24test.Record{"ID": i, "TITLE": fmt.Sprintf("Deal %d", i), "CATEGORY_ID": []string{"0", "1", "0"}[i%3], "STAGE_ID": stage,
			"STAGE_SEMANTIC_ID": sem, "CLOSED": []string{"N", "Y", "Y"}[i%3], "OPPORTUNITY": fmt.Sprintf("%d.50", i*100), "CURRENCY_ID": "RUB",
			"CLOSEDATE": "2024-09-09T00:00:00+03:00", "ASSIGNED_BY_ID": "1", "COMPANY_ID": i, "CONTACT_ID": i, "UF_CRM_EXPENSE": "150|RUB", "DATE_MODIFY": mod})
		as = append(as, bitrix24test.Record{"ID": i, "OWNER_ID": i, "OWNER_TYPE_ID": "2", "TYPE_ID": "2", "PROVIDER_ID": "VOXIMPLANT_CALL",
			"SUBJECT": "Call", "START_TIME": "2024-09-05T13:25:00+03:00", "END_TIME": "2024-09-05T13:28:03+03:00",
			"DEADLINE": "2024-09-05T13:25:00+03:00", "COMPLETED": "Y", "STATUS": "2", "RESPONSIBLE_ID": "1", "DIRECTION": "2", "LAST_UPDATED": mod})
	}
	srv.AddMany(bitrix24test.Companies, cos)
	srv.AddMany(bitrix24test.Contacts, cts)
	srv.AddMany(bitrix24test.Deals, ds)
	srv.AddMany(bitrix24test.Activities, as)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
