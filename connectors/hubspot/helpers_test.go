package hubspot

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
	"github.com/crmkpi/crmkpi/connectors/hubspot/hubspottest"
)

const testToken = "pat-na1-11111111-2222-3333-4444-555555555555"

// clock is a settable clock shared by the fake and the connector.
type clock = connectortest.Clock

func newClock() *clock { return connectortest.NewClock(time.Date(2026, 10, 15, 12, 0, 0, 0, time.UTC)) }

// newFake starts a fake without rate windows (tests that need them set
// their own) on clk.
func newFake(t testing.TB, clk *clock, opts ...hubspottest.Option) *hubspottest.Server {
	t.Helper()
	all := append([]hubspottest.Option{
		hubspottest.WithClock(clk.Now), hubspottest.WithToken(testToken),
		hubspottest.WithRateLimit(0, 0), hubspottest.WithSearchRateLimit(0),
	}, opts...)
	s := hubspottest.NewServer(all...)
	t.Cleanup(s.Close)
	return s
}

func newTestClient(t testing.TB, srv *hubspottest.Server, clk *clock, edit func(*Options)) *Client {
	t.Helper()
	o := Options{
		Name: "hs", BaseURL: srv.URL, Token: testToken, Now: clk.Now,
		HTTPOptions: connectors.HTTPOptions{RateLimit: 1e6, Burst: 1000, MinBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}, SearchRateLimit: 1e6,
		Fields: map[string]string{"deal_expense": "cost_of_sale", "key_client": "key_account"},
	}
	if edit != nil {
		edit(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// warehouse applies pages as the sync engine does: upsert unless older,
// deletions flag, links set association columns.
type warehouse struct {
	users      map[string]connectors.User
	stages     map[string]connectors.Stage
	companies  map[string]connectors.Company
	contacts   map[string]connectors.Contact
	deals      map[string]connectors.Deal
	activities map[string]connectors.Activity
	cursors    map[connectors.Object]string
	seen       map[connectors.Object]int // records emitted, duplicates included
	pages      int
	requests   int
}

func newWarehouse() *warehouse {
	return &warehouse{
		users: map[string]connectors.User{}, stages: map[string]connectors.Stage{},
		companies: map[string]connectors.Company{}, contacts: map[string]connectors.Contact{},
		deals: map[string]connectors.Deal{}, activities: map[string]connectors.Activity{},
		cursors: map[connectors.Object]string{}, seen: map[connectors.Object]int{},
	}
}

func upsert[T any](m map[string]T, id string, up time.Time, v T, old func(T) time.Time) {
	if cur, ok := m[id]; ok && old(cur).After(up) {
		return
	}
	m[id] = v
}

// tombstone flags a stored record deleted, keeping its columns, or stores
// a bare one, as the warehouse's tombstone does.
func tombstone[T any](m map[string]T, d connectors.Deletion, meta func(*T) *connectors.Meta) {
	r := m[d.ID]
	mt := meta(&r)
	mt.ID, mt.Deleted = d.ID, true
	if d.At.After(mt.UpdatedAt) {
		mt.UpdatedAt = d.At
	}
	m[d.ID] = r
}

func (w *warehouse) apply(obj connectors.Object, p *connectors.Page) {
	w.pages++
	w.requests += p.Requests
	for _, r := range p.Users {
		upsert(w.users, r.ID, r.UpdatedAt, r, func(x connectors.User) time.Time { return x.UpdatedAt })
	}
	for _, r := range p.Stages {
		upsert(w.stages, r.ID, r.UpdatedAt, r, func(x connectors.Stage) time.Time { return x.UpdatedAt })
	}
	for _, r := range p.Companies {
		upsert(w.companies, r.ID, r.UpdatedAt, r, func(x connectors.Company) time.Time { return x.UpdatedAt })
	}
	for _, r := range p.Contacts {
		upsert(w.contacts, r.ID, r.UpdatedAt, r, func(x connectors.Contact) time.Time { return x.UpdatedAt })
	}
	for _, r := range p.Deals {
		upsert(w.deals, r.ID, r.UpdatedAt, r, func(x connectors.Deal) time.Time { return x.UpdatedAt })
	}
	for _, r := range p.Activities {
		upsert(w.activities, r.ID, r.UpdatedAt, r, func(x connectors.Activity) time.Time { return x.UpdatedAt })
	}
	w.seen[obj] += len(p.Users) + len(p.Stages) + len(p.Companies) + len(p.Contacts) + len(p.Deals) + len(p.Activities)
	for _, d := range p.Deletions {
		switch d.Object {
		case connectors.ObjectCompanies:
			tombstone(w.companies, d, func(r *connectors.Company) *connectors.Meta { return &r.Meta })
		case connectors.ObjectContacts:
			tombstone(w.contacts, d, func(r *connectors.Contact) *connectors.Meta { return &r.Meta })
		case connectors.ObjectDeals:
			tombstone(w.deals, d, func(r *connectors.Deal) *connectors.Meta { return &r.Meta })
		case connectors.ObjectActivities:
			tombstone(w.activities, d, func(r *connectors.Activity) *connectors.Meta { return &r.Meta })
		}
	}
	for _, l := range p.Links {
		switch l.Object {
		case connectors.ObjectContacts:
			if r, ok := w.contacts[l.ID]; ok && l.CompanyID != nil {
				r.CompanyID = *l.CompanyID
				w.contacts[l.ID] = r
			}
		case connectors.ObjectDeals:
			if r, ok := w.deals[l.ID]; ok {
				if l.CompanyID != nil {
					r.CompanyID = *l.CompanyID
				}
				if l.ContactID != nil {
					r.ContactID = *l.ContactID
				}
				w.deals[l.ID] = r
			}
		case connectors.ObjectActivities:
			if r, ok := w.activities[l.ID]; ok {
				if l.CompanyID != nil {
					r.CompanyID = *l.CompanyID
				}
				if l.ContactID != nil {
					r.ContactID = *l.ContactID
				}
				if l.DealID != nil {
					r.DealID = *l.DealID
				}
				w.activities[l.ID] = r
			}
		}
	}
	if p.Cursor != "" {
		w.cursors[obj] = p.Cursor
	}
}

// pull runs one Pull of obj from the warehouse's stored cursor.
func (w *warehouse) pull(t testing.TB, c *Client, obj connectors.Object) error {
	t.Helper()
	return c.Pull(context.Background(), obj, w.cursors[obj], func(_ context.Context, p *connectors.Page) error {
		w.apply(obj, p)
		return nil
	})
}

func (w *warehouse) pullAll(t testing.TB, c *Client) {
	t.Helper()
	for _, obj := range c.Objects() {
		if err := w.pull(t, c, obj); err != nil {
			t.Fatalf("pull %s: %v", obj, err)
		}
	}
}

var errKilled = errors.New("killed")

// pullKilled pulls obj, stopping after every page and restarting from the
// last stored cursor, as a crash-looping sync would.
func (w *warehouse) pullKilled(t testing.TB, c *Client, obj connectors.Object) int {
	t.Helper()
	for runs := 1; ; runs++ {
		err := c.Pull(context.Background(), obj, w.cursors[obj], func(_ context.Context, p *connectors.Page) error {
			w.apply(obj, p)
			if cur, _ := decodeCursor(p.Cursor); cur.Mode == modeIdle {
				return nil // the run's last page
			}
			return errKilled
		})
		if err == nil {
			return runs
		}
		if !errors.Is(err, errKilled) {
			t.Fatalf("pull %s: %v", obj, err)
		}
		if runs > 10000 {
			t.Fatalf("pull %s never finishes", obj)
		}
	}
}
