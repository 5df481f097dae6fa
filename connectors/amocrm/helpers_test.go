package amocrm

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/crmkpi/crmkpi/connectors"
	"github.com/crmkpi/crmkpi/connectors/amocrm/amocrmtest"
	"github.com/crmkpi/crmkpi/connectors/connectortest"
)

// clock is a settable clock shared by the fake and the connector.
type clock = connectortest.Clock

func newClock() *clock { return connectortest.NewClock(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)) }

// newFake starts a fake with no rate limit on the clock.
func newFake(t *testing.T, clk *clock, opts ...amocrmtest.Option) *amocrmtest.Server {
	t.Helper()
	opts = append([]amocrmtest.Option{amocrmtest.WithClock(clk.Now), amocrmtest.WithRateLimit(0, 0), amocrmtest.WithRetryAfter(0)}, opts...)
	s := amocrmtest.NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// newConn builds a connector on srv with tiny backoffs and no client limit.
func newConn(t testing.TB, srv *amocrmtest.Server, clk *clock, mod func(*Options)) *Client {
	t.Helper()
	o := Options{
		Name: "amo", BaseURL: srv.URL, Token: srv.Token(), Now: clk.Now,
		HTTPOptions: connectors.HTTPOptions{RateLimit: 1e6, Burst: 1000, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}, Fields: map[string]string{
			"nps_score": "512345", "nps_date": "512346", "deal_expense": "512399", "key_client": "512401",
		},
	}
	if mod != nil {
		mod(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// result is everything a pull emitted.
type result struct {
	pages    []*connectors.Page
	merged   connectors.Page
	cursor   string
	requests int
}

func pull(t testing.TB, c *Client, obj connectors.Object, cursor string) result {
	t.Helper()
	r, err := tryPull(c, obj, cursor, -1)
	if err != nil {
		t.Fatalf("Pull(%s): %v", obj, err)
	}
	return r
}

var errStop = errors.New("stop")

// tryPull pulls obj and stops (errStop) after stopAfter pages when >= 0.
func tryPull(c *Client, obj connectors.Object, cursor string, stopAfter int) (result, error) {
	r := result{cursor: cursor}
	err := c.Pull(context.Background(), obj, cursor, func(_ context.Context, p *connectors.Page) error {
		r.pages = append(r.pages, p)
		r.merged.Users = append(r.merged.Users, p.Users...)
		r.merged.Stages = append(r.merged.Stages, p.Stages...)
		r.merged.Companies = append(r.merged.Companies, p.Companies...)
		r.merged.Contacts = append(r.merged.Contacts, p.Contacts...)
		r.merged.Deals = append(r.merged.Deals, p.Deals...)
		r.merged.Activities = append(r.merged.Activities, p.Activities...)
		r.merged.Deletions = append(r.merged.Deletions, p.Deletions...)
		if p.Cursor != "" {
			r.cursor = p.Cursor
		}
		r.requests += p.Requests
		if stopAfter >= 0 && len(r.pages) >= stopAfter {
			return errStop
		}
		return nil
	})
	return r, err
}

func ids[T any](recs []T, id func(T) string) map[string]bool {
	m := map[string]bool{}
	for _, r := range recs {
		m[id(r)] = true
	}
	return m
}
